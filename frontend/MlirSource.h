//===- MlirSource.h - Read a .mlir program ----------------------*- C++ -*-===//

#ifndef KILN_FRONTEND_MLIRSOURCE_H
#define KILN_FRONTEND_MLIRSOURCE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/SourceMgr.h"

namespace kiln {

/// Parses and verifies `path` ("-" for stdin). Syntax and verifier errors are
/// reported through the context's diagnostic handler with file, line and
/// column; returns null then.
mlir::OwningOpRef<mlir::ModuleOp> readMlirFile(llvm::StringRef path,
                                               mlir::MLIRContext &context,
                                               llvm::SourceMgr &sourceMgr);

} // namespace kiln

#endif // KILN_FRONTEND_MLIRSOURCE_H
