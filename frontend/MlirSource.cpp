//===- MlirSource.cpp - Read a .mlir program ------------------------------===//

#include "frontend/MlirSource.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace mlir;

namespace kiln {

OwningOpRef<ModuleOp> readMlirFile(StringRef path, MLIRContext &context,
                                   llvm::SourceMgr &sourceMgr) {
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> file = openInputFile(path, &error);
  if (!file) {
    emitError(UnknownLoc::get(&context))
        << "cannot read '" << path << "': " << error;
    return nullptr;
  }
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  // parseSourceFile verifies the module; errors carry file:line:col.
  return parseSourceFile<ModuleOp>(sourceMgr, &context);
}

} // namespace kiln
