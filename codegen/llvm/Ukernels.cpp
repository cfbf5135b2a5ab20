//===- Ukernels.cpp - Declaring and calling runtime micro-kernels ---------===//

#include "codegen/llvm/Ukernels.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

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
      builder, loc, getDynamicStridedType(type.getElementType(), type.getRank()),
      memref);
}

} // namespace kiln
