//===- TfmOps.h - The tfm dialect and its operations ------------*- C++ -*-===//

#ifndef KILN_DIALECT_TFMOPS_H
#define KILN_DIALECT_TFMOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialect/TfmDialect.h.inc"
#include "dialect/TfmEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/TfmAttrs.h.inc"

#define GET_OP_CLASSES
#include "dialect/TfmOps.h.inc"

namespace kiln::tfm {

/// Numpy broadcasting of two static shapes; std::nullopt when they do not
/// broadcast.
std::optional<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> lhs, llvm::ArrayRef<int64_t> rhs);

/// "[2,7,64]": shapes as diagnostics print them.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

} // namespace kiln::tfm

#endif // KILN_DIALECT_TFMOPS_H
