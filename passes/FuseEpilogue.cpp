//===- FuseEpilogue.cpp - Activations into the linear layer before them ---===//
//
// `act(linear(x))` becomes `linear(x) {activation = act}`: the activation is
// then applied to the GEMM's output tile by tile while it is in cache, rather
// than as a separate pass over the whole result. The bias is already part of
// tfm.linear.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln::tfm {
#define GEN_PASS_DEF_TFMFUSEEPILOGUE
#include "passes/Passes.h.inc"
} // namespace kiln::tfm

using namespace mlir;
using namespace kiln::tfm;

namespace {

/// The activation `op` computes, if it is a pointwise activation op.
std::optional<Activation> activationOf(Operation *op) {
  if (auto gelu = dyn_cast<GeluOp>(op))
    return gelu.getApproximation() == GeluApproximation::tanh
               ? Activation::gelu_tanh
               : Activation::gelu;
  if (isa<QuickGeluOp>(op))
    return Activation::quick_gelu;
  if (isa<SiluOp>(op))
    return Activation::silu;
  if (isa<ReluOp>(op))
    return Activation::relu;
  if (isa<TanhOp>(op))
    return Activation::tanh;
  return std::nullopt;
}

} // namespace

LogicalResult kiln::tfm::fuseEpilogue(RewriterBase &rewriter,
                                      Operation *activationOp) {
  std::optional<Activation> activation = activationOf(activationOp);
  if (!activation || activationOp->getNumOperands() != 1)
    return rewriter.notifyMatchFailure(activationOp, "not an activation");
  auto linear = activationOp->getOperand(0).getDefiningOp<LinearOp>();
  if (!linear)
    return rewriter.notifyMatchFailure(activationOp, "input is not a linear");
  if (linear.getActivation() != Activation::none)
    return rewriter.notifyMatchFailure(activationOp,
                                       "linear already has an activation");
  // The pre-activation values are needed elsewhere: keep them.
  if (!linear->hasOneUse())
    return rewriter.notifyMatchFailure(activationOp,
                                       "linear result has other uses");
  if (linear.getType() != activationOp->getResult(0).getType())
    return rewriter.notifyMatchFailure(activationOp, "types differ");
  rewriter.modifyOpInPlace(linear, [&] { linear.setActivation(*activation); });
  rewriter.replaceOp(activationOp, linear.getResult());
  return success();
}

namespace {

template <typename OpTy> struct FuseActivation : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    return fuseEpilogue(rewriter, op);
  }
};

struct TfmFuseEpiloguePass
    : kiln::tfm::impl::TfmFuseEpilogueBase<TfmFuseEpiloguePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseActivation<GeluOp>, FuseActivation<QuickGeluOp>,
                 FuseActivation<SiluOp>, FuseActivation<ReluOp>,
                 FuseActivation<TanhOp>>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
