//===- Ukernels.h - Declaring and calling runtime micro-kernels -*- C++ -*-===//
//
// Generated code calls the runtime's hand-written kernels (runtime/kernels/)
// through private function declarations marked `llvm.emit_c_interface`: the
// runtime implements `_mlir_ciface_<name>`, which takes memref descriptors by
// pointer. The kernels' names and codes are runtime/Contract.h's. Operands are
// cast to fully dynamic strided memrefs so that one declaration serves every
// shape and view.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_LINALG_UKERNELS_H
#define KILN_CODEGEN_LINALG_UKERNELS_H

#include "dialect/TfmOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"

namespace kiln {

/// memref<?x...x`elementType`, strided<[?, ...], offset: ?>> of `rank`.
mlir::MemRefType getDynamicStridedType(mlir::Type elementType, unsigned rank);

/// The private declaration of kernel `name` in `module`, created with `type`
/// at the end of the module if missing.
mlir::func::FuncOp declareUkernel(mlir::ModuleOp module, llvm::StringRef name,
                                  mlir::FunctionType type);

/// `memref` cast to the dynamic strided type of its rank and element type.
mlir::Value castToDynamicStrided(mlir::OpBuilder &builder, mlir::Location loc,
                                 mlir::Value memref);

/// On tensors (before bufferization): the read-only buffer of `tensor`,
/// first collapsed to `rank` dimensions (the leading ones merged) when it
/// has more, cast to the dynamic strided type a kernel takes. The buffer's
/// layout is left open, so views reach the kernel without a copy.
mlir::Value bufferForKernel(mlir::OpBuilder &builder, mlir::Location loc,
                            mlir::Value tensor, unsigned rank);

/// On tensors: the read-only buffer of `tensor`, whose shape broadcasts onto
/// `shape` (numpy rules: missing leading axes and axes of size 1 stretch),
/// as a view of `shape` in which the broadcast axes have stride 0, cast to
/// the dynamic strided type of that rank. The kernel reads the broadcast
/// operand in place: no expanded copy is made.
mlir::Value broadcastBufferForKernel(mlir::OpBuilder &builder,
                                     mlir::Location loc, mlir::Value tensor,
                                     llvm::ArrayRef<int64_t> shape);

/// A fresh buffer for a kernel's output of `shape`, aligned as the runtime's
/// buffers are (contract::kBufferAlignment), and the cast of it to pass to
/// the kernel.
struct KernelResult {
  mlir::Value buffer;
  mlir::Value operand;
};
KernelResult allocateKernelResult(mlir::OpBuilder &builder, mlir::Location loc,
                                  llvm::ArrayRef<int64_t> shape,
                                  mlir::Type elementType);

/// After the call: the output as a tensor, a `restrict` tensor of the buffer
/// that one-shot bufferization takes as it is.
mlir::Value kernelResultTensor(mlir::OpBuilder &builder, mlir::Location loc,
                               const KernelResult &result);

/// `value` ([rows, cols] after bufferForKernel collapsed it) expanded back
/// to `type`.
mlir::Value expandFromKernel(mlir::OpBuilder &builder, mlir::Location loc,
                             mlir::Value value, mlir::RankedTensorType type);

/// [B, S, H, D] <-> [B, H, S, D]: how model builders split and merge heads.
bool isHeadTranspose(tfm::TransposeOp op);

/// `memref` with its sequence and head axes swapped, as a view.
mlir::Value headSwapView(mlir::OpBuilder &builder, mlir::Location loc,
                         mlir::Value memref);

/// The [B, H, S, D] attention operand `value` for a kernel. When it is a
/// head transpose of a projection, the kernel reads the projection in place
/// through a transposed view (kernels take any strides) instead of a
/// transposed copy.
mlir::Value headsOperand(mlir::OpBuilder &builder, mlir::Location loc,
                         mlir::Value value);

/// The op whose result `op`'s single use merges the heads of, if any: the
/// kernel can write the merged layout through a transposed view.
tfm::TransposeOp headMergeOf(mlir::Operation *op);

} // namespace kiln

#endif // KILN_CODEGEN_LINALG_UKERNELS_H
