//===- Ukernels.cpp - Declaring and calling runtime micro-kernels ---------===//

#include "codegen/linalg/Ukernels.h"
#include "runtime/Contract.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace kiln {

MemRefType getDynamicStridedType(Type elementType, unsigned rank) {
  SmallVector<int64_t> dynamic(rank, ShapedType::kDynamic);
  auto layout = StridedLayoutAttr::get(elementType.getContext(),
                                       ShapedType::kDynamic, dynamic);
  return MemRefType::get(dynamic, elementType, layout);
}

func::FuncOp declareUkernel(ModuleOp module, StringRef name,
                            FunctionType type) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  auto func = func::FuncOp::create(b, module.getLoc(), name, type);
  func.setPrivate();
  // Descriptors by pointer: the runtime implements _mlir_ciface_<name>.
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  return func;
}

Value castToDynamicStrided(OpBuilder &builder, Location loc, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  return memref::CastOp::create(
      builder, loc,
      getDynamicStridedType(type.getElementType(), type.getRank()), memref);
}

/// [d0, ..., dn] into [d0 · ... · d(n-rank+1), ..., dn] reassociation.
static SmallVector<ReassociationIndices> leadingMerged(int64_t fromRank,
                                                       unsigned rank) {
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices first;
  for (int64_t d = 0; d <= fromRank - rank; ++d)
    first.push_back(d);
  groups.push_back(first);
  for (int64_t d = fromRank - rank + 1; d < fromRank; ++d)
    groups.push_back({d});
  return groups;
}

Value bufferForKernel(OpBuilder &builder, Location loc, Value tensor,
                      unsigned rank) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (type.getRank() > rank) {
    auto groups = leadingMerged(type.getRank(), rank);
    SmallVector<int64_t> shape;
    for (const ReassociationIndices &group : groups) {
      int64_t size = 1;
      for (int64_t d : group)
        size *= type.getShape()[d];
      shape.push_back(size);
    }
    tensor = tensor::CollapseShapeOp::create(
        builder, loc, RankedTensorType::get(shape, type.getElementType()),
        tensor, groups);
    type = cast<RankedTensorType>(tensor.getType());
  }
  SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
  auto memrefType =
      MemRefType::get(type.getShape(), type.getElementType(),
                      StridedLayoutAttr::get(builder.getContext(),
                                             ShapedType::kDynamic, strides));
  Value buffer = bufferization::ToBufferOp::create(builder, loc, memrefType,
                                                   tensor, /*read_only=*/true);
  return castToDynamicStrided(builder, loc, buffer);
}

Value broadcastBufferForKernel(OpBuilder &builder, Location loc, Value tensor,
                               ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(tensor.getType());
  assert(type.hasStaticShape() && type.getRank() <= int64_t(shape.size()) &&
         "a static operand of at most the view's rank");
  Value buffer = bufferForKernel(builder, loc, tensor, type.getRank());
  // The view keeps the buffer's base and offset and takes its strides, except
  // on the broadcast axes, which read the same elements again (stride 0).
  auto metadata =
      memref::ExtractStridedMetadataOp::create(builder, loc, buffer);
  int64_t missing = int64_t(shape.size()) - type.getRank();
  SmallVector<OpFoldResult> sizes, strides;
  SmallVector<int64_t> staticStrides;
  for (int64_t axis = 0; axis < int64_t(shape.size()); ++axis) {
    sizes.push_back(builder.getIndexAttr(shape[axis]));
    int64_t from = axis - missing;
    if (from < 0 || type.getShape()[from] == 1) {
      strides.push_back(builder.getIndexAttr(0));
      staticStrides.push_back(0);
    } else {
      strides.push_back(metadata.getStrides()[from]);
      staticStrides.push_back(ShapedType::kDynamic);
    }
  }
  auto viewType = MemRefType::get(shape, type.getElementType(),
                                  StridedLayoutAttr::get(builder.getContext(),
                                                         ShapedType::kDynamic,
                                                         staticStrides));
  Value view = memref::ReinterpretCastOp::create(
      builder, loc, viewType, metadata.getBaseBuffer(),
      OpFoldResult(metadata.getOffset()), sizes, strides);
  return castToDynamicStrided(builder, loc, view);
}

KernelResult allocateKernelResult(OpBuilder &builder, Location loc,
                                  ArrayRef<int64_t> shape, Type elementType) {
  Value buffer = memref::AllocOp::create(
      builder, loc, MemRefType::get(shape, elementType),
      builder.getI64IntegerAttr(kiln::contract::kBufferAlignment));
  return {buffer, castToDynamicStrided(builder, loc, buffer)};
}

Value kernelResultTensor(OpBuilder &builder, Location loc,
                         const KernelResult &result) {
  auto type = cast<MemRefType>(result.buffer.getType());
  return bufferization::ToTensorOp::create(
      builder, loc,
      RankedTensorType::get(type.getShape(), type.getElementType()),
      result.buffer, /*restrict=*/true, /*writable=*/true);
}

Value expandFromKernel(OpBuilder &builder, Location loc, Value value,
                       RankedTensorType type) {
  if (value.getType() == type)
    return value;
  return tensor::ExpandShapeOp::create(
      builder, loc, type, value,
      leadingMerged(type.getRank(),
                    cast<RankedTensorType>(value.getType()).getRank()));
}

/// The head swap [0, 2, 1, 3].
static constexpr int64_t kHeadSwap[] = {0, 2, 1, 3};

bool isHeadTranspose(tfm::TransposeOp op) {
  return op && op.getPermutation() == ArrayRef<int64_t>(kHeadSwap);
}

Value headSwapView(OpBuilder &b, Location loc, Value memref) {
  SmallVector<unsigned> permutation(std::begin(kHeadSwap), std::end(kHeadSwap));
  return memref::TransposeOp::create(
      b, loc, memref,
      AffineMapAttr::get(
          AffineMap::getPermutationMap(permutation, b.getContext())));
}

Value headsOperand(OpBuilder &b, Location loc, Value value) {
  auto transpose = value.getDefiningOp<tfm::TransposeOp>();
  if (!isHeadTranspose(transpose))
    return bufferForKernel(b, loc, value, 4);
  return headSwapView(b, loc, bufferForKernel(b, loc, transpose.getInput(), 4));
}

tfm::TransposeOp headMergeOf(Operation *op) {
  if (!op->hasOneUse())
    return nullptr;
  auto merge = dyn_cast<tfm::TransposeOp>(*op->getUsers().begin());
  return isHeadTranspose(merge) ? merge : nullptr;
}

} // namespace kiln
