//===- AttentionToUkernel.cpp - tfm.attention as a flash-kernel call ------===//
//
// The runtime's attention kernel (runtime/kernels/Attention.h) tiles keys
// with an online softmax: it never materializes the [Sq, Sk] scores, skips
// key tiles a causal mask or the padding lengths hide, and so costs O(S·d)
// memory. On tensors, the call is bracketed by bufferization ops: read-only
// buffers of Q, K, V (and lengths, bias), a fresh output buffer, and a
// `restrict` tensor of it, which one-shot bufferization takes as they are.
// The kernel takes any strides, so the head split and merge transposes
// around attention become views instead of copies, and an additive bias
// that broadcasts onto the scores ([1, H, Sq, Sk] relative positions shared
// by the batch, [B, 1, 1, Sk] masks) reaches it as a [B, H, Sq, Sk] view
// with stride 0 on the broadcast axes, read tile by tile next to the scores.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/linalg/Ukernels.h"
#include "dialect/TfmOps.h"
#include "runtime/Contract.h"

#include "mlir/IR/PatternMatch.h"

namespace kiln {
#define GEN_PASS_DEF_KILNATTENTIONTOUKERNEL
#include "codegen/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using kiln::tfm::AttentionOp;
using kiln::tfm::MaskKind;
using kiln::tfm::TransposeOp;

namespace {

LogicalResult rewriteAsKernelCall(RewriterBase &rewriter, ModuleOp module,
                                  AttentionOp op) {
  if (!op.getType().getElementType().isF32())
    return rewriter.notifyMatchFailure(op, "not f32");
  Value bias = op.getBias();
  if (bias && !cast<RankedTensorType>(bias.getType()).hasStaticShape())
    return rewriter.notifyMatchFailure(op, "bias of a dynamic shape");
  Value lengths = op.getLengths();
  if (lengths &&
      !cast<RankedTensorType>(lengths.getType()).getElementType().isInteger(64))
    return rewriter.notifyMatchFailure(op, "lengths are not i64");

  MLIRContext *ctx = rewriter.getContext();
  Type operand = kiln::getDynamicStridedType(rewriter.getF32Type(), 4);
  Type scale = rewriter.getF32Type();
  // (q, k, v, [bias,] lengths, out, scale) or (q, k, v, [bias,] out, mask,
  // scale), as in runtime/kernels/Attention.h.
  SmallVector<Type> inputs = {operand, operand, operand};
  if (bias)
    inputs.push_back(operand);
  if (lengths)
    inputs.push_back(
        kiln::getDynamicStridedType(rewriter.getI64Type(), /*rank=*/1));
  inputs.push_back(operand);
  if (!lengths)
    inputs.push_back(rewriter.getI64Type());
  inputs.push_back(scale);
  StringRef name = lengths ? (bias ? kiln::contract::kAttentionBiasLengthsKernel
                                   : kiln::contract::kAttentionLengthsKernel)
                           : (bias ? kiln::contract::kAttentionBiasKernel
                                   : kiln::contract::kAttentionKernel);
  func::FuncOp kernel =
      kiln::declareUkernel(module, name, FunctionType::get(ctx, inputs, {}));

  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  SmallVector<Value> args;
  for (Value input : {op.getQuery(), op.getKey(), op.getValue()})
    args.push_back(kiln::headsOperand(rewriter, loc, input));
  if (bias) {
    ArrayRef<int64_t> q = op.getQuery().getType().getShape();
    int64_t keys = op.getKey().getType().getShape()[2];
    args.push_back(kiln::broadcastBufferForKernel(rewriter, loc, bias,
                                                  {q[0], q[1], q[2], keys}));
  }
  if (lengths)
    args.push_back(kiln::bufferForKernel(rewriter, loc, lengths, 1));
  // When the heads are merged right after ([B, H, S, D] -> [B, S, H, D]),
  // the kernel writes the merged layout through a transposed view.
  TransposeOp merge = kiln::headMergeOf(op);
  RankedTensorType outputType = merge ? merge.getType() : op.getType();
  kiln::KernelResult output = kiln::allocateKernelResult(
      rewriter, loc, outputType.getShape(), outputType.getElementType());
  if (merge)
    output.operand = kiln::headSwapView(rewriter, loc, output.operand);
  args.push_back(output.operand);
  if (!lengths) {
    auto mask = op.getMask() == MaskKind::causal
                    ? kiln::contract::AttentionMask::Causal
                    : kiln::contract::AttentionMask::None;
    args.push_back(arith::ConstantIntOp::create(
        rewriter, loc, static_cast<int64_t>(mask), 64));
  }
  args.push_back(
      arith::ConstantOp::create(rewriter, loc, op.getScaleAttr()).getResult());
  func::CallOp::create(rewriter, loc, kernel, args);
  Value result = kiln::kernelResultTensor(rewriter, loc, output);
  if (merge) {
    rewriter.replaceOp(merge, result);
    rewriter.eraseOp(op);
  } else {
    rewriter.replaceOp(op, result);
  }
  return success();
}

struct AttentionToUkernelPass
    : kiln::impl::KilnAttentionToUkernelBase<AttentionToUkernelPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<AttentionOp> ops;
    module.walk([&](AttentionOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (AttentionOp op : ops)
      (void)rewriteAsKernelCall(rewriter, module, op);
  }
};

} // namespace
