//===- EmitObject.h - llvm dialect to an object file ------------*- C++ -*-===//

#ifndef KILN_CODEGEN_LLVM_EMITOBJECT_H
#define KILN_CODEGEN_LLVM_EMITOBJECT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/Module.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>
#include <vector>

namespace kiln {

/// A file copied byte for byte into the executable's read-only data, under
/// `name` (weights shards, tokenizer files).
struct EmbeddedFile {
  std::string name;
  std::string path;
};

/// What the object holds besides the compiled entries.
struct ObjectContents {
  /// The signature JSON of runtime/session/Signature.h.
  std::string signatureJson;
  /// Files for `kiln_embedded_files`, assembled into the object.
  std::vector<EmbeddedFile> embeddedFiles;
  /// How many files the link step appends as the executable's payload
  /// (`kiln_payload_file_count`, runtime/Contract.h); 0 for none.
  uint64_t payloadFileCount = 0;
  /// Safetensors files the executable maps at start instead
  /// (`kiln_default_weights_path`, newline separated).
  std::vector<std::string> externalWeights;
};

/// A target machine for `cpu` ("host" for the machine kiln runs on, or an
/// LLVM CPU name such as "x86-64-v3"). Errors go to `error`.
std::unique_ptr<llvm::TargetMachine> createTargetMachine(llvm::StringRef cpu,
                                                         std::string &error);

/// Translates a module in the llvm dialect to LLVM IR and adds what the
/// runtime links against: `kiln_model_entries[]`, one `void (void **args)`
/// wrapper per entry calling its C interface (in `entryNames` order, the
/// order of the signature), `kiln_model_entry_count`,
/// `kiln_model_signature`, `kiln_embedded_files[]` and
/// `kiln_default_weights_path` and `kiln_payload_file_count`.
std::unique_ptr<llvm::Module>
translateToLLVMIR(mlir::ModuleOp module, llvm::LLVMContext &context,
                  llvm::ArrayRef<std::string> entryNames,
                  const ObjectContents &contents, llvm::TargetMachine &target);

/// Runs LLVM's O3 pipeline for `target`.
void optimizeLLVMModule(llvm::Module &module, llvm::TargetMachine &target);

/// Writes `module` as an object file to `path`.
bool emitObjectFile(llvm::Module &module, llvm::TargetMachine &target,
                    llvm::StringRef path, std::string &error);

} // namespace kiln

#endif // KILN_CODEGEN_LLVM_EMITOBJECT_H
