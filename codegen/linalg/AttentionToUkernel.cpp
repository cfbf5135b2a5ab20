//===- AttentionToUkernel.cpp - tfm.attention as a flash-kernel call ------===//
//
// The runtime's attention kernel (runtime/kernels/Attention.h) tiles keys
// with an online softmax: it never materializes the [Sq, Sk] scores, skips
// key tiles a causal mask or the padding lengths hide, and so costs O(S·d)
// memory. On tensors, the call is bracketed by bufferization ops: read-only
// buffers of Q, K, V (and lengths), a fresh output buffer, and a `restrict`
// tensor of it, which one-shot bufferization takes as they are. The kernel
// takes any strides, so the head split and merge transposes around attention
// become views instead of copies.
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
  // Additive biases (relative positions) need the score tile: decompose.
  if (op.getBias())
    return rewriter.notifyMatchFailure(op, "has a bias");
  Value lengths = op.getLengths();
  if (lengths &&
      !cast<RankedTensorType>(lengths.getType()).getElementType().isInteger(64))
    return rewriter.notifyMatchFailure(op, "lengths are not i64");

  MLIRContext *ctx = rewriter.getContext();
  Type operand = kiln::getDynamicStridedType(rewriter.getF32Type(), 4);
  Type scale = rewriter.getF32Type();
  func::FuncOp kernel;
  if (lengths) {
    Type lengthsType =
        kiln::getDynamicStridedType(rewriter.getI64Type(), /*rank=*/1);
    kernel = kiln::declareUkernel(
        module, kiln::contract::kAttentionLengthsKernel,
        FunctionType::get(
            ctx, {operand, operand, operand, lengthsType, operand, scale}, {}));
  } else {
    kernel = kiln::declareUkernel(
        module, kiln::contract::kAttentionKernel,
        FunctionType::get(
            ctx,
            {operand, operand, operand, operand, rewriter.getI64Type(), scale},
            {}));
  }

  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  SmallVector<Value> args;
  for (Value input : {op.getQuery(), op.getKey(), op.getValue()})
    args.push_back(kiln::headsOperand(rewriter, loc, input));
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
