//===- EmitObject.h - llvm dialect to an object file ------------*- C++ -*-===//

#ifndef KILN_CODEGEN_LLVM_EMITOBJECT_H
#define KILN_CODEGEN_LLVM_EMITOBJECT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/Module.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>

namespace kiln {

/// Where the generated program finds its checkpoint tensors.
struct WeightsBinding {
  enum class Mode { None, Embed, External };
  Mode mode = Mode::None;
  /// The safetensors file: embedded byte for byte, or mmapped at start.
  std::string path;
};

/// A target machine for `cpu` ("host" for the machine kiln runs on, or an
/// LLVM CPU name such as "x86-64-v3"). Errors go to `error`.
std::unique_ptr<llvm::TargetMachine> createTargetMachine(llvm::StringRef cpu,
                                                         std::string &error);

/// Translates a module in the llvm dialect to LLVM IR and adds what the
/// runtime links against: `kiln_model_entry(void **args)` calling the
/// entry's C interface, `kiln_model_signature`, and the weights binding.
std::unique_ptr<llvm::Module>
translateToLLVMIR(mlir::ModuleOp module, llvm::LLVMContext &context,
                  llvm::StringRef entryName, llvm::StringRef signatureJson,
                  const WeightsBinding &weights, llvm::TargetMachine &target);

/// Runs LLVM's O3 pipeline for `target`.
void optimizeLLVMModule(llvm::Module &module, llvm::TargetMachine &target);

/// Writes `module` as an object file to `path`.
bool emitObjectFile(llvm::Module &module, llvm::TargetMachine &target,
                    llvm::StringRef path, std::string &error);

} // namespace kiln

#endif // KILN_CODEGEN_LLVM_EMITOBJECT_H
