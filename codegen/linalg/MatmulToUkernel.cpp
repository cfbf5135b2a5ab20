//===- MatmulToUkernel.cpp - f32 matmuls as calls of runtime GEMM kernels -===//

#include "codegen/Passes.h"
#include "codegen/linalg/Ukernels.h"
#include "runtime/Contract.h"

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
std::optional<bool> isTransposed(AffineMap map, unsigned batch, unsigned first,
                                 unsigned second) {
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

  StringRef name = batch ? kiln::contract::kBatchMatmulKernel
                         : kiln::contract::kMatmulKernel;
  Type operand = kiln::getDynamicStridedType(rewriter.getF32Type(), batch + 2);
  Type flag = rewriter.getI64Type();
  func::FuncOp kernel = kiln::declareUkernel(
      module, name,
      rewriter.getFunctionType({operand, operand, operand, flag, flag}, {}));
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  SmallVector<Value> args;
  for (Value operand : op->getOperands())
    args.push_back(kiln::castToDynamicStrided(rewriter, loc, operand));
  args.push_back(arith::ConstantIntOp::create(rewriter, loc, *transposeA, 64));
  args.push_back(arith::ConstantIntOp::create(rewriter, loc, *transposeB, 64));
  func::CallOp::create(rewriter, loc, kernel, args);
  rewriter.eraseOp(op);
  return success();
}

/// Whether `map` is (m, n, k) -> (n floordiv W, k, n mod W) for some W.
bool isPanelsMap(AffineMap map) {
  if (map.getNumDims() != 3 || map.getNumSymbols() != 0 ||
      map.getNumResults() != 3)
    return false;
  MLIRContext *ctx = map.getContext();
  AffineExpr n = getAffineDimExpr(1, ctx), k = getAffineDimExpr(2, ctx);
  auto panel = dyn_cast<AffineBinaryOpExpr>(map.getResult(0));
  if (!panel || panel.getKind() != AffineExprKind::FloorDiv)
    return false;
  auto width = dyn_cast<AffineConstantExpr>(panel.getRHS());
  if (!width || width.getValue() < 1)
    return false;
  int64_t w = width.getValue();
  return map.getResult(0) == n.floorDiv(w) && map.getResult(1) == k &&
         map.getResult(2) == n % w;
}

/// Whether `generic`'s body is `out + lhs * rhs` (either operand order).
bool isMultiplyAccumulate(linalg::GenericOp generic) {
  Block &body = generic.getRegion().front();
  if (body.getOperations().size() != 3)
    return false;
  auto mul = dyn_cast<arith::MulFOp>(&body.front());
  auto add =
      dyn_cast_or_null<arith::AddFOp>(mul ? mul->getNextNode() : nullptr);
  auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
  if (!mul || !add || !yield || yield.getValues().size() != 1 ||
      yield.getValues()[0] != add.getResult())
    return false;
  Value a = body.getArgument(0), b = body.getArgument(1),
        acc = body.getArgument(2);
  bool mulOk = (mul.getLhs() == a && mul.getRhs() == b) ||
               (mul.getLhs() == b && mul.getRhs() == a);
  bool addOk = (add.getLhs() == acc && add.getRhs() == mul.getResult()) ||
               (add.getRhs() == acc && add.getLhs() == mul.getResult());
  return mulOk && addOk;
}

/// Replaces the contraction with a weight in panels (tfm.linear with
/// `weight_panels`, lowered by convert-tfm-to-linalg) by a call of
/// kiln_matmul_panels_f32.
LogicalResult rewritePanelsAsKernelCall(RewriterBase &rewriter, ModuleOp module,
                                        linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1)
    return rewriter.notifyMatchFailure(op, "not a two-input buffer generic");
  for (Value operand : op->getOperands())
    if (!cast<MemRefType>(operand.getType()).getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "not f32");
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (iterators !=
      SmallVector<utils::IteratorType>{utils::IteratorType::parallel,
                                       utils::IteratorType::parallel,
                                       utils::IteratorType::reduction})
    return rewriter.notifyMatchFailure(op, "not (m, n, k) iterators");
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  std::optional<bool> transposeA = isTransposed(maps[0], 0, 0, 2);
  std::optional<bool> transposeC = isTransposed(maps[2], 0, 0, 1);
  if (!transposeA || !transposeC || *transposeC || !isPanelsMap(maps[1]) ||
      !isMultiplyAccumulate(op))
    return rewriter.notifyMatchFailure(op, "not a panels contraction");

  Type matrix = kiln::getDynamicStridedType(rewriter.getF32Type(), 2);
  Type panels = kiln::getDynamicStridedType(rewriter.getF32Type(), 3);
  func::FuncOp kernel = kiln::declareUkernel(
      module, kiln::contract::kMatmulPanelsKernel,
      rewriter.getFunctionType({matrix, panels, matrix, rewriter.getI64Type()},
                               {}));
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  SmallVector<Value> args;
  for (Value operand : op->getOperands())
    args.push_back(kiln::castToDynamicStrided(rewriter, loc, operand));
  args.push_back(arith::ConstantIntOp::create(rewriter, loc, *transposeA, 64));
  func::CallOp::create(rewriter, loc, kernel, args);
  rewriter.eraseOp(op);
  return success();
}

struct MatmulToUkernelPass
    : kiln::impl::KilnMatmulToUkernelBase<MatmulToUkernelPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::LinalgOp> contractions;
    SmallVector<linalg::GenericOp> generics;
    module.walk([&](Operation *op) {
      if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op))
        contractions.push_back(cast<linalg::LinalgOp>(op));
      else if (auto generic = dyn_cast<linalg::GenericOp>(op))
        generics.push_back(generic);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : contractions)
      (void)rewriteAsKernelCall(rewriter, module, op);
    for (linalg::GenericOp op : generics)
      (void)rewritePanelsAsKernelCall(rewriter, module, op);
  }
};

} // namespace
