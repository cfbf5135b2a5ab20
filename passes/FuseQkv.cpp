//===- FuseQkv.cpp - Linear layers on one input into one wider GEMM -------===//
//
// Attention projects the same hidden states three times (query, key, value).
// As three GEMMs each one re-reads and re-packs the input; as one GEMM on the
// concatenated weights [Nq + Nk + Nv, K] the input is read once and the
// kernel runs on a wider, better-shaped problem. The three results are slices
// of the wide one. The weight concatenation is a weight-only expression, which
// tfm-hoist-weight-expressions computes once at load.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "llvm/ADT/MapVector.h"

namespace kiln::tfm {
#define GEN_PASS_DEF_TFMFUSEQKV
#include "passes/Passes.h.inc"
} // namespace kiln::tfm

using namespace mlir;
using namespace kiln::tfm;

namespace {

/// Linear layers that can join a group: plain layouts, no activation (an
/// epilogue applies to one projection only).
bool isFusable(LinearOp op) {
  return !op.getWeightPanels() && op.getActivation() == Activation::none;
}

/// Whether two linears on the same input can share one GEMM.
bool areCompatible(LinearOp a, LinearOp b) {
  return a.getWeightInOut() == b.getWeightInOut() &&
         static_cast<bool>(a.getBias()) == static_cast<bool>(b.getBias()) &&
         a.getWeight().getType().getElementType() ==
             b.getWeight().getType().getElementType() &&
         a.getInFeatures() == b.getInFeatures();
}

} // namespace

LogicalResult kiln::tfm::fuseLinearGroup(RewriterBase &rewriter,
                                         ArrayRef<LinearOp> group) {
  if (group.size() < 2)
    return failure();
  LinearOp first = group.front();
  Block *block = first->getBlock();
  SmallVector<Value> weights, biases;
  int64_t totalOut = 0;
  for (LinearOp op : group) {
    if (op->getBlock() != block || !isFusable(op) || !areCompatible(first, op))
      return rewriter.notifyMatchFailure(op, "not fusable with the group");
    weights.push_back(op.getWeight());
    if (op.getBias())
      biases.push_back(op.getBias());
    totalOut += op.getOutFeatures();
  }
  // The fused op takes the place of the first linear. Weights defined
  // between the linears (builders create each next to its layer) move up
  // with it; anything else defined there keeps the group apart.
  LinearOp earliest = first;
  for (LinearOp op : group)
    if (op->isBeforeInBlock(earliest))
      earliest = op;
  SmallVector<Operation *> toMove;
  for (Value value : llvm::concat<Value>(weights, biases)) {
    Operation *def = value.getDefiningOp();
    if (!def || def->getBlock() != block || def->isBeforeInBlock(earliest))
      continue;
    if (!isa<WeightOp, ConstantOp>(def))
      return rewriter.notifyMatchFailure(def, "operand defined in between");
    toMove.push_back(def);
  }
  for (Operation *def : toMove)
    rewriter.moveOpBefore(def, earliest);
  rewriter.setInsertionPoint(earliest);

  Location loc = rewriter.getFusedLoc(llvm::to_vector(
      llvm::map_range(group, [](LinearOp op) { return op.getLoc(); })));
  Type elementType = first.getWeight().getType().getElementType();
  int64_t in = first.getInFeatures();
  bool inOut = first.getWeightInOut();
  auto weightType =
      RankedTensorType::get(inOut ? SmallVector<int64_t>{in, totalOut}
                                  : SmallVector<int64_t>{totalOut, in},
                            elementType);
  Value weight = ConcatOp::create(rewriter, loc, weightType, weights,
                                  rewriter.getI64IntegerAttr(inOut ? 1 : 0));
  Value bias;
  if (!biases.empty())
    bias = ConcatOp::create(rewriter, loc,
                            RankedTensorType::get({totalOut}, elementType),
                            biases, rewriter.getI64IntegerAttr(0));
  ArrayRef<int64_t> resultShape = first.getType().getShape();
  SmallVector<int64_t> wideShape(resultShape);
  wideShape.back() = totalOut;
  auto fused = LinearOp::create(
      rewriter, loc, RankedTensorType::get(wideShape, elementType),
      first.getInput(), weight, bias, Activation::none, inOut,
      /*weight_panels=*/false);

  int64_t offset = 0;
  for (LinearOp op : group) {
    SmallVector<int64_t> offsets(wideShape.size(), 0),
        strides(wideShape.size(), 1);
    offsets.back() = offset;
    offset += op.getOutFeatures();
    Value slice = SliceOp::create(rewriter, op.getLoc(), op.getType(),
                                  fused.getResult(), offsets, strides);
    rewriter.replaceOp(op, slice);
  }
  return success();
}

namespace {

struct TfmFuseQkvPass : kiln::tfm::impl::TfmFuseQkvBase<TfmFuseQkvPass> {
  void runOnOperation() override {
    // Groups by input, in program order; only uses inside one block.
    llvm::MapVector<std::pair<Value, Block *>, SmallVector<LinearOp>> groups;
    getOperation()->walk([&](LinearOp op) {
      if (isFusable(op))
        groups[{op.getInput(), op->getBlock()}].push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (auto &[key, ops] : groups) {
      // Split by compatibility: every op joins the first group it fits.
      SmallVector<SmallVector<LinearOp>> compatible;
      for (LinearOp op : ops) {
        auto it = llvm::find_if(compatible, [&](SmallVector<LinearOp> &g) {
          return areCompatible(g.front(), op);
        });
        if (it == compatible.end())
          compatible.push_back({op});
        else
          it->push_back(op);
      }
      for (SmallVector<LinearOp> &group : compatible)
        (void)fuseLinearGroup(rewriter, group);
    }
  }
};

} // namespace
