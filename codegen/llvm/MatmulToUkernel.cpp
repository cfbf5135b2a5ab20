//===- MatmulToUkernel.cpp - f32 matmuls as calls of runtime GEMM kernels -===//

#include "codegen/Passes.h"

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"

namespace kiln {
#define GEN_PASS_DEF_KILNMATMULTOUKERNEL
#include "codegen/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// Whether an operand map reads (row, col) = (d[first], d[second]) or the
/// transpose (d[second], d[first]), after `batch` leading batch dims.
std::optional<bool> isTransposed(AffineMap map, unsigned batch,
                                 unsigned first, unsigned second) {
  if (map.getNumResults() != batch + 2 || map.getNumSymbols() != 0)
    return std::nullopt;
  for (unsigned i = 0; i < batch; ++i)
    if (map.getResult(i) != getAffineDimExpr(i, map.getContext()))
      return std::nullopt;
  AffineExpr row = map.getResult(batch), col = map.getResult(batch + 1);
  AffineExpr x = getAffineDimExpr(batch + first, map.getContext());
  AffineExpr y = getAffineDimExpr(batch + second, map.getContext());
  if (row == x && col == y)
    return false;
  if (row == y && col == x)
    return true;
  return std::nullopt;
}

/// memref<?x...xf32, strided<[?, ...], offset: ?>> of `rank`.
MemRefType dynamicStridedType(MLIRContext *ctx, unsigned rank) {
  SmallVector<int64_t> dynamic(rank, ShapedType::kDynamic);
  auto layout = StridedLayoutAttr::get(ctx, ShapedType::kDynamic, dynamic);
  return MemRefType::get(dynamic, Float32Type::get(ctx), layout);
}

func::FuncOp declareKernel(ModuleOp module, StringRef name, unsigned rank) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  MLIRContext *ctx = module.getContext();
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  Type operand = dynamicStridedType(ctx, rank);
  Type flag = b.getI64Type();
  auto type = b.getFunctionType({operand, operand, operand, flag, flag}, {});
  auto func = func::FuncOp::create(b, module.getLoc(), name, type);
  func.setPrivate();
  // Descriptors by pointer: the runtime implements _mlir_ciface_<name>.
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  return func;
}

/// Replaces one matmul or batch_matmul by a kernel call; leaves anything
/// the kernels do not cover alone.
LogicalResult rewriteAsKernelCall(RewriterBase &rewriter, ModuleOp module,
                                  linalg::LinalgOp op) {
  unsigned batch = isa<linalg::BatchMatmulOp>(op) ? 1 : 0;
  if (!op.hasPureBufferSemantics())
    return rewriter.notifyMatchFailure(op, "not on memrefs");
  for (Value operand : op->getOperands())
    if (!cast<MemRefType>(operand.getType()).getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "not f32");
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  // Dims after the batch: (m, n, k) = (0, 1, 2).
  std::optional<bool> transposeA = isTransposed(maps[0], batch, 0, 2);
  std::optional<bool> transposeB = isTransposed(maps[1], batch, 2, 1);
  std::optional<bool> transposeC = isTransposed(maps[2], batch, 0, 1);
  if (!transposeA || !transposeB || !transposeC || *transposeC)
    return rewriter.notifyMatchFailure(op, "indexing maps not plain or "
                                           "transposed operands");
  if (auto cast = op->getAttrOfType<linalg::TypeFnAttr>("cast");
      cast && cast.getValue() != linalg::TypeFn::cast_signed)
    return rewriter.notifyMatchFailure(op, "unsigned cast");

  StringRef name = batch ? "kiln_batch_matmul_f32" : "kiln_matmul_f32";
  func::FuncOp kernel = declareKernel(module, name, batch + 2);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  MemRefType operandType = dynamicStridedType(rewriter.getContext(),
                                              batch + 2);
  SmallVector<Value> args;
  for (Value operand : op->getOperands())
    args.push_back(memref::CastOp::create(rewriter, loc, operandType, operand));
  args.push_back(arith::ConstantIntOp::create(rewriter, loc, *transposeA, 64));
  args.push_back(arith::ConstantIntOp::create(rewriter, loc, *transposeB, 64));
  func::CallOp::create(rewriter, loc, kernel, args);
  rewriter.eraseOp(op);
  return success();
}

struct MatmulToUkernelPass
    : kiln::impl::KilnMatmulToUkernelBase<MatmulToUkernelPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::LinalgOp> contractions;
    module.walk([&](Operation *op) {
      if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op))
        contractions.push_back(cast<linalg::LinalgOp>(op));
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : contractions)
      (void)rewriteAsKernelCall(rewriter, module, op);
  }
};

} // namespace
