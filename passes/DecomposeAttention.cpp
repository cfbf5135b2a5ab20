//===- DecomposeAttention.cpp - tfm.attention into its parts --------------===//

#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace kiln::tfm {
#define GEN_PASS_DEF_TFMDECOMPOSEATTENTION
#include "passes/Passes.h.inc"
} // namespace kiln::tfm

using namespace mlir;
using namespace kiln::tfm;

Value kiln::tfm::decomposeAttention(RewriterBase &rewriter, AttentionOp op) {
  Location loc = op.getLoc();
  ArrayRef<int64_t> q = op.getQuery().getType().getShape();
  ArrayRef<int64_t> k = op.getKey().getType().getShape();
  Type elementType = op.getQuery().getType().getElementType();
  auto scoresType =
      RankedTensorType::get({q[0], q[1], q[2], k[2]}, elementType);

  Value scores =
      MatmulOp::create(rewriter, loc, scoresType, op.getQuery(), op.getKey(),
                       /*transpose_lhs=*/nullptr, rewriter.getUnitAttr());
  scores =
      ScaleOp::create(rewriter, loc, scoresType, scores, op.getScaleAttr());

  Value mask;
  switch (op.getMask()) {
  case MaskKind::none:
    break;
  case MaskKind::causal:
    mask = CausalMaskOp::create(
        rewriter, loc, RankedTensorType::get({q[2], k[2]}, elementType));
    break;
  case MaskKind::padding:
    mask = PaddingMaskOp::create(
        rewriter, loc, RankedTensorType::get({q[0], 1, 1, k[2]}, elementType),
        op.getLengths());
    break;
  }
  if (mask)
    scores = AddOp::create(rewriter, loc, scoresType, scores, mask);
  if (Value bias = op.getBias())
    scores = AddOp::create(rewriter, loc, scoresType, scores, bias);

  Value probabilities = SoftmaxOp::create(rewriter, loc, scoresType, scores,
                                          rewriter.getI64IntegerAttr(-1));
  return MatmulOp::create(rewriter, loc, op.getType(), probabilities,
                          op.getValue(), nullptr, nullptr);
}

namespace {
struct TfmDecomposeAttentionPass
    : kiln::tfm::impl::TfmDecomposeAttentionBase<TfmDecomposeAttentionPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    getOperation()->walk([&](AttentionOp op) {
      rewriter.setInsertionPoint(op);
      rewriter.replaceOp(op, decomposeAttention(rewriter, op));
    });
  }
};
} // namespace
