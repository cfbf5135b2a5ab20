//===- HalideKernelOps.h - Which tfm ops a Halide kernel computes -*- C++
//-*-===//

#ifndef KILN_CODEGEN_HALIDE_HALIDEKERNELOPS_H
#define KILN_CODEGEN_HALIDE_HALIDEKERNELOPS_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

namespace kiln {

/// True when `op` is a tfm op a Halide kernel family covers
/// (codegen/halide/KernelSpec.h) with the operands it has: f32 data,
/// static shapes, and the forms the family takes.
bool isHalideKernelOp(mlir::Operation *op);

/// The op names `kiln-assign-backends{backend=auto}` sends to Halide.
llvm::ArrayRef<llvm::StringRef> getAutoHalideOps();

} // namespace kiln

#endif // KILN_CODEGEN_HALIDE_HALIDEKERNELOPS_H
