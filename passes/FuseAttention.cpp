//===- FuseAttention.cpp - Unfused attention into tfm.attention -----------===//

#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln::tfm {
#define GEN_PASS_DEF_TFMFUSEATTENTION
#include "passes/Passes.h.inc"
} // namespace kiln::tfm

using namespace mlir;
using namespace kiln::tfm;

namespace {

/// The pieces of an attention chain, read from its last matmul upwards.
struct AttentionChain {
  Value query, key, value;
  double scale = 1.0;
  MaskKind mask = MaskKind::none;
  Value lengths, bias;
  SmallVector<int64_t> maskShape;
};

bool isRank4(Value value) {
  return cast<RankedTensorType>(value.getType()).getRank() == 4;
}

/// A value defined by `OpTy` whose only user is the chain.
template <typename OpTy> OpTy singleUseProducer(Value value) {
  auto op = value.getDefiningOp<OpTy>();
  return op && value.hasOneUse() ? op : OpTy();
}

LogicalResult matchChain(RewriterBase &rewriter, MatmulOp output,
                         AttentionChain &chain) {
  if (output.getTransposeLhs() || output.getTransposeRhs())
    return rewriter.notifyMatchFailure(output, "P·V with a transpose flag");
  auto softmax = singleUseProducer<SoftmaxOp>(output.getLhs());
  if (!softmax)
    return rewriter.notifyMatchFailure(output,
                                       "lhs is not a softmax used only here");
  if (softmax.getNormalizedAxis() != 3)
    return rewriter.notifyMatchFailure(output, "softmax is not over keys");
  chain.value = output.getRhs();

  Value scores = softmax.getInput();
  if (auto add = singleUseProducer<AddOp>(scores)) {
    // Either operand may be the mask; the other continues the chain. A
    // causal or padding mask may be shared (BERT builds one for all its
    // layers, as transformers does): the kernel recomputes it from the
    // lengths, and the mask op stays for its other users.
    for (auto [maskValue, rest] : {std::pair(add.getRhs(), add.getLhs()),
                                   std::pair(add.getLhs(), add.getRhs())}) {
      if (auto causal = maskValue.getDefiningOp<CausalMaskOp>()) {
        chain.mask = MaskKind::causal;
        chain.maskShape.assign(causal.getType().getShape().begin(),
                               causal.getType().getShape().end());
      } else if (auto padding = maskValue.getDefiningOp<PaddingMaskOp>();
                 padding && padding.getType().getRank() == 4) {
        chain.mask = MaskKind::padding;
        chain.lengths = padding.getLengths();
        chain.maskShape.assign(padding.getType().getShape().begin(),
                               padding.getType().getShape().end());
      } else {
        continue;
      }
      scores = rest;
      break;
    }
    if (chain.mask == MaskKind::none) {
      // An explicit additive bias: it must broadcast onto the scores.
      if (add.getType() != add.getLhs().getType())
        return rewriter.notifyMatchFailure(
            output, "additive mask changes the score shape");
      chain.bias = add.getRhs();
      scores = add.getLhs();
    }
  }
  if (auto scale = singleUseProducer<ScaleOp>(scores)) {
    chain.scale = scale.getFactor().convertToDouble();
    scores = scale.getInput();
  }
  auto qk = singleUseProducer<MatmulOp>(scores);
  if (!qk || qk.getTransposeLhs() || !qk.getTransposeRhs())
    return rewriter.notifyMatchFailure(output,
                                       "scores are not Q·Kᵀ used only here");
  chain.query = qk.getLhs();
  chain.key = qk.getRhs();
  if (auto scaledQuery = singleUseProducer<ScaleOp>(chain.query)) {
    chain.scale *= scaledQuery.getFactor().convertToDouble();
    chain.query = scaledQuery.getInput();
  }
  if (!isRank4(chain.query) || !isRank4(chain.key) || !isRank4(chain.value))
    return rewriter.notifyMatchFailure(output, "Q, K, V are not [B, H, S, D]");
  return success();
}

} // namespace

FailureOr<AttentionOp> kiln::tfm::fuseAttention(RewriterBase &rewriter,
                                                MatmulOp output) {
  AttentionChain chain;
  if (failed(matchChain(rewriter, output, chain)))
    return failure();
  ArrayRef<int64_t> q =
      cast<RankedTensorType>(chain.query.getType()).getShape();
  ArrayRef<int64_t> k = cast<RankedTensorType>(chain.key.getType()).getShape();
  ArrayRef<int64_t> v =
      cast<RankedTensorType>(chain.value.getType()).getShape();
  // tfm.attention does not broadcast batch or heads.
  if (k[0] != q[0] || k[1] != q[1] || v[0] != q[0] || v[1] != q[1])
    return rewriter.notifyMatchFailure(output,
                                       "batch or heads broadcast in Q, K, V");
  // The mask op must describe exactly these scores, not broadcast into them.
  if (chain.mask != MaskKind::none &&
      chain.maskShape !=
          ArrayRef<int64_t>(chain.mask == MaskKind::causal
                                ? SmallVector<int64_t>{q[2], k[2]}
                                : SmallVector<int64_t>{q[0], 1, 1, k[2]}))
    return rewriter.notifyMatchFailure(output,
                                       "the mask broadcasts onto the scores");
  rewriter.setInsertionPoint(output);
  auto attention = AttentionOp::create(
      rewriter, output.getLoc(), output.getType(), chain.query, chain.key,
      chain.value, chain.lengths, chain.bias,
      MaskKindAttr::get(rewriter.getContext(), chain.mask),
      rewriter.getF32FloatAttr(chain.scale));
  rewriter.replaceOp(output, attention.getResult());
  return attention;
}

namespace {
struct FuseAttentionPattern : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    return fuseAttention(rewriter, op);
  }
};

struct TfmFuseAttentionPass
    : kiln::tfm::impl::TfmFuseAttentionBase<TfmFuseAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAttentionPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
