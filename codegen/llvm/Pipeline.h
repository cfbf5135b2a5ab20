//===- Pipeline.h - The LLVM path from tfm to the llvm dialect --*- C++ -*-===//

#ifndef KILN_CODEGEN_LLVM_PIPELINE_H
#define KILN_CODEGEN_LLVM_PIPELINE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

#include <functional>
#include <string>
#include <vector>

namespace kiln {

/// One step of the lowering, run as a textual pass pipeline on the module so
/// that `kiln-opt --pass-pipeline='builtin.module(PIPELINE)'` replays any
/// step by hand.
struct LoweringStage {
  /// Name used for `--dump-ir` files and `--emit` stops.
  const char *name;
  /// What the step produces, for `--help` and the dump headers.
  const char *summary;
  /// The passes of the step, in order, without the builtin.module anchor.
  std::string pipeline;
};

/// The stages from tfm to the llvm dialect, in order.
std::vector<LoweringStage>
getLoweringStages(llvm::ArrayRef<std::string> disabledPasses = {});

/// Names of the optional tfm passes that `--disable-pass` may turn off.
llvm::ArrayRef<llvm::StringRef> getOptionalTfmPasses();

/// Finds the function to compile: the one named `name`, or the only public
/// function with a body. Reports an error on the module otherwise.
mlir::FailureOr<mlir::func::FuncOp> findEntryFunction(mlir::ModuleOp module,
                                                      llvm::StringRef name);

/// JSON describing the entry's arguments and results for the runtime (see
/// runtime/Signature.h): names, roles (input, weight, output), dtypes and
/// shapes, in call order. Call it after weights are outlined and before
/// bufferization.
mlir::FailureOr<std::string> buildSignatureJson(mlir::func::FuncOp entry);

/// Removes the tfm naming attributes from the entry's arguments and results
/// once the signature holds them: LLVM translation would warn about them.
void stripSignatureAttributes(mlir::func::FuncOp entry);

} // namespace kiln

#endif // KILN_CODEGEN_LLVM_PIPELINE_H
