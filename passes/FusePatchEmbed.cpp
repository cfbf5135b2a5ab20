//===- FusePatchEmbed.cpp - Strided convolution + flatten into patch_embed ===//
//
// ViT, CLIP and Swin cut an image into patches with a Conv2d whose kernel
// equals its stride, then flatten the patch grid and move the channels last:
// `conv(x).flatten(2).transpose(1, 2)`. Lowered as written that is a
// convolution (or an im2col copy and a GEMM) and a transposing copy of the
// tokens; as `tfm.patch_embed` it is one GEMM whose rows are read straight
// from the image and whose output is already in token order.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln::tfm {
#define GEN_PASS_DEF_TFMFUSEPATCHEMBED
#include "passes/Passes.h.inc"
} // namespace kiln::tfm

using namespace mlir;
using namespace kiln::tfm;

/// Why `conv` is not a patch embedding, or success.
static LogicalResult matchPatchConvolution(RewriterBase &rewriter,
                                           Conv2dOp conv) {
  ArrayRef<int64_t> image = conv.getInput().getType().getShape();
  ArrayRef<int64_t> filter = conv.getWeight().getType().getShape();
  if (!conv->hasOneUse())
    return rewriter.notifyMatchFailure(conv, "the convolution has other uses");
  if (conv.getStrides()[0] != filter[2] || conv.getStrides()[1] != filter[3])
    return rewriter.notifyMatchFailure(
        conv, "the stride is not the kernel size (patches overlap or skip)");
  if (conv.getPadding()[0] != 0 || conv.getPadding()[1] != 0)
    return rewriter.notifyMatchFailure(conv, "the convolution pads");
  if (conv.getDilation()[0] != 1 || conv.getDilation()[1] != 1)
    return rewriter.notifyMatchFailure(conv, "the convolution is dilated");
  if (image[2] % filter[2] || image[3] % filter[3])
    return rewriter.notifyMatchFailure(
        conv, "the image is not a whole number of patches");
  return success();
}

FailureOr<PatchEmbedOp> kiln::tfm::fusePatchEmbed(RewriterBase &rewriter,
                                                  Operation *tokens) {
  // [B, E, GH, GW] -reshape-> [B, E, N] -transpose(0, 2, 1)-> [B, N, E], or
  // [B, E, GH, GW] -transpose(0, 2, 3, 1)-> [B, GH, GW, E] -reshape-> [B, N,
  // E].
  Operation *middle;
  if (auto transpose = dyn_cast<TransposeOp>(tokens)) {
    if (transpose.getPermutation() != ArrayRef<int64_t>{0, 2, 1})
      return rewriter.notifyMatchFailure(tokens,
                                         "not a transpose of the last axes");
    middle = transpose.getInput().getDefiningOp<ReshapeOp>();
  } else if (auto reshape = dyn_cast<ReshapeOp>(tokens)) {
    middle = reshape.getInput().getDefiningOp<TransposeOp>();
    if (middle && cast<TransposeOp>(middle).getPermutation() !=
                      ArrayRef<int64_t>{0, 2, 3, 1})
      return rewriter.notifyMatchFailure(tokens, "not channels moved last");
  } else {
    return rewriter.notifyMatchFailure(tokens, "not a reshape or transpose");
  }
  if (!middle)
    return rewriter.notifyMatchFailure(tokens, "no flatten of a patch grid");
  if (!middle->hasOneUse())
    return rewriter.notifyMatchFailure(tokens, "the grid has other uses");
  auto conv = middle->getOperand(0).getDefiningOp<Conv2dOp>();
  if (!conv)
    return rewriter.notifyMatchFailure(tokens, "not fed by a convolution");
  auto resultType = cast<RankedTensorType>(tokens->getResult(0).getType());
  ArrayRef<int64_t> grid = conv.getType().getShape();
  if (resultType.getShape() !=
      ArrayRef<int64_t>{grid[0], grid[2] * grid[3], grid[1]})
    return rewriter.notifyMatchFailure(tokens,
                                       "not the [batch, patches, channels] "
                                       "tokens of the grid");
  if (failed(matchPatchConvolution(rewriter, conv)))
    return failure();
  auto fused = rewriter.replaceOpWithNewOp<PatchEmbedOp>(
      tokens, resultType, conv.getInput(), conv.getWeight(), conv.getBias());
  rewriter.eraseOp(middle);
  rewriter.eraseOp(conv);
  return fused;
}

namespace {

template <typename OpTy> struct FusePatchEmbedPattern : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    return fusePatchEmbed(rewriter, op);
  }
};

struct TfmFusePatchEmbedPass
    : kiln::tfm::impl::TfmFusePatchEmbedBase<TfmFusePatchEmbedPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FusePatchEmbedPattern<TransposeOp>,
                 FusePatchEmbedPattern<ReshapeOp>>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
