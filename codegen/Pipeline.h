//===- Pipeline.h - The LLVM path from tfm to the llvm dialect --*- C++ -*-===//

#ifndef KILN_CODEGEN_PIPELINE_H
#define KILN_CODEGEN_PIPELINE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

#include <functional>
#include <string>
#include <vector>

namespace kiln {

/// One step of the lowering, run as a textual pass pipeline on the module.
/// `kiln-opt --kiln-stage-<name>` replays it exactly (see
/// registerLoweringStagePipelines).
struct LoweringStage {
  /// Name used for `--dump-ir` files and `--emit` stops.
  const char *name;
  /// What the step produces, for `--help` and the dump headers.
  const char *summary;
  /// The passes of the step, in order, without the builtin.module anchor.
  std::string pipeline;
};

/// The stages from tfm to the llvm dialect, in order, without the passes in
/// `disabledPasses`. `panelWidth` is the GEMM micro-kernel tile width of the
/// target that weights are packed for (32 with AVX-512, else 16). `entry` is
/// the function to compile (empty: every public function with a body).
/// `backend` (llvm, halide or auto) chooses the kernels' code generator
/// (kiln-assign-backends); Halide kernels are generated for the x86
/// `targetFeatures` (joined by '+', as KernelSpec.h names them);
/// `tuningFile` holds `kiln compile --tune`'s per-kernel choices.
std::vector<LoweringStage>
getLoweringStages(llvm::ArrayRef<std::string> disabledPasses = {},
                  int panelWidth = 16, llvm::StringRef entry = {},
                  llvm::StringRef backend = "llvm",
                  llvm::StringRef targetFeatures = {},
                  llvm::StringRef tuningFile = {});

/// Registers every stage as the pass pipeline `kiln-stage-<name>`, built by
/// getLoweringStages with the options `panel-width`, `entry`, `backend`,
/// `target-features` and `disable-pass` (repeatable, comma-separated): kiln-opt
/// then replays what `kiln compile --emit mlir --stop-after <name>` does to the
/// previous stage's output.
void registerLoweringStagePipelines();

/// Names of the optional passes that `--disable-pass` may turn off.
llvm::ArrayRef<llvm::StringRef> getOptionalPasses();

/// Attributes through which a builder describes an entry's contract with
/// the runtime: argument and result names, checkpoint tensors, and states
/// (buffers the runtime keeps across calls, such as a KV cache: an argument
/// and the result that returns it updated carry the same `tfm.state` name).
/// The module's `tfm.metadata` is a JSON object passed through to the
/// runtime (the task, the tokenizer, ...).
inline constexpr llvm::StringLiteral kNameAttr = "tfm.name";
inline constexpr llvm::StringLiteral kWeightAttr = "tfm.weight";
inline constexpr llvm::StringLiteral kStateAttr = "tfm.state";
inline constexpr llvm::StringLiteral kMetadataAttr = "tfm.metadata";
/// On an integer entry argument whose values index a table: the table's
/// size, which bounds them (values must lie in [0, size)). The signature
/// carries it so that the runtime can refuse what the generated code would
/// silently clamp.
inline constexpr llvm::StringLiteral kIndexBoundAttr = "tfm.index_bound";

/// The functions to compile: the one named `name`, or every public function
/// with a body. Reports an error on the module when there is none.
mlir::FailureOr<llvm::SmallVector<mlir::func::FuncOp>>
findEntryFunctions(mlir::ModuleOp module, llvm::StringRef name);

/// Marks with kIndexBoundAttr each argument of `entries` all of whose values
/// index a table: the indices of tfm.gather and the ids of tfm.embedding,
/// directly or through tfm.reshape or tfm.transpose. The bound is the
/// smallest indexed size. Call it on the tfm module, before lowering.
void markIndexInputs(llvm::ArrayRef<mlir::func::FuncOp> entries);

/// JSON describing every entry for the runtime (see
/// runtime/session/Signature.h): per entry, the arguments in call order with
/// names, roles (input, weight, state, output), dtypes and shapes, and the
/// index bounds markIndexInputs found; plus the module's metadata. Call it
/// after weights are outlined and before the "bufferized" stage, whose
/// kiln-prepare-entries removes the names.
mlir::FailureOr<std::string>
buildModelSignature(mlir::ModuleOp module,
                    llvm::ArrayRef<mlir::func::FuncOp> entries);

/// Once the kernel calls are in place (after the "loops" stage): adds to the
/// signature JSON the largest operands of the runtime kernels the module
/// calls, as "kernel_scratch" (runtime/kernels/Scratch.h), from which the
/// runtime allocates the kernels' scratch up front. Adds nothing when an
/// operand's shape is not static.
void recordKernelScratch(mlir::ModuleOp module, std::string &signatureJson);

} // namespace kiln

#endif // KILN_CODEGEN_PIPELINE_H
