//===- FuseResidualNorm.cpp - Residual add + LayerNorm into one op --------===//
//
// Post-LN blocks end each sub-layer with `layer_norm(x + sublayer(x))`. As
// two ops the sum is written to memory and read back by the normalization;
// `tfm.add_layer_norm` lets the kernel add, normalize and write each row in
// one pass. Pre-LN blocks (GPT-2) keep the sum as the next residual, so
// their adds have a second use and stay as they are.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln::tfm {
#define GEN_PASS_DEF_TFMFUSERESIDUALNORM
#include "passes/Passes.h.inc"
} // namespace kiln::tfm

using namespace mlir;
using namespace kiln::tfm;

LogicalResult kiln::tfm::fuseResidualNorm(RewriterBase &rewriter,
                                          LayerNormOp norm) {
  auto add = norm.getInput().getDefiningOp<AddOp>();
  if (!add)
    return rewriter.notifyMatchFailure(norm, "input is not an add");
  if (!add->hasOneUse())
    return rewriter.notifyMatchFailure(norm, "the sum has other uses");
  // A broadcasting add (a bias) is not a residual connection.
  Type type = norm.getType();
  if (add.getLhs().getType() != type || add.getRhs().getType() != type)
    return rewriter.notifyMatchFailure(norm, "operands are not the row shape");
  rewriter.replaceOpWithNewOp<AddLayerNormOp>(
      norm, type, add.getLhs(), add.getRhs(), norm.getWeight(), norm.getBias(),
      norm.getEpsilonAttr());
  rewriter.eraseOp(add);
  return success();
}

namespace {

struct FuseResidualNormPattern : OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerNormOp op,
                                PatternRewriter &rewriter) const override {
    return fuseResidualNorm(rewriter, op);
  }
};

struct TfmFuseResidualNormPass
    : kiln::tfm::impl::TfmFuseResidualNormBase<TfmFuseResidualNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseResidualNormPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
