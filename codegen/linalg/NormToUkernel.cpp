//===- NormToUkernel.cpp - Normalizations as row-wise kernel calls --------===//
//
// LayerNorm (with or without a fused residual add) and RMSNorm on f32 become
// calls of the runtime's row-wise kernels (runtime/kernels/Norm.h): each row
// is read once into cache, reduced with vector accumulators and written
// normalized. Through linalg they are whole-tensor passes whose reductions
// run as scalar chains.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/linalg/Ukernels.h"
#include "dialect/TfmOps.h"
#include "runtime/Contract.h"

namespace kiln {
#define GEN_PASS_DEF_KILNNORMTOUKERNEL
#include "codegen/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln::tfm;

namespace {

/// Whether `op` (a norm) is f32 on rows of rank >= 2.
bool isCovered(Operation *op) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  return type.getElementType().isF32() && type.getRank() >= 2;
}

/// Replaces the norm `op` of `input` (+ `residual`) by a kernel call.
void rewriteNorm(RewriterBase &rewriter, ModuleOp module, Operation *op,
                 Value input, Value residual, Value weight, Value bias,
                 FloatAttr epsilon) {
  MLIRContext *ctx = rewriter.getContext();
  Type f32 = rewriter.getF32Type();
  Type matrix = kiln::getDynamicStridedType(f32, 2);
  Type vector = kiln::getDynamicStridedType(f32, 1);
  bool isLayerNorm = static_cast<bool>(bias);
  func::FuncOp kernel =
      isLayerNorm
          ? kiln::declareUkernel(
                module, kiln::contract::kLayerNormKernel,
                FunctionType::get(ctx,
                                  {matrix, matrix, vector, vector, matrix, f32,
                                   rewriter.getI64Type()},
                                  {}))
          : kiln::declareUkernel(
                module, kiln::contract::kRmsNormKernel,
                FunctionType::get(ctx, {matrix, vector, matrix, f32}, {}));

  rewriter.setInsertionPoint(op);
  Location loc = op->getLoc();
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  int64_t d = type.getShape().back();
  SmallVector<Value> args;
  Value rows = kiln::bufferForKernel(rewriter, loc, input, 2);
  args.push_back(rows);
  if (isLayerNorm)
    args.push_back(residual ? kiln::bufferForKernel(rewriter, loc, residual, 2)
                            : rows);
  args.push_back(kiln::bufferForKernel(rewriter, loc, weight, 1));
  if (isLayerNorm)
    args.push_back(kiln::bufferForKernel(rewriter, loc, bias, 1));
  kiln::KernelResult output = kiln::allocateKernelResult(
      rewriter, loc, {type.getNumElements() / std::max<int64_t>(d, 1), d}, f32);
  args.push_back(output.operand);
  args.push_back(arith::ConstantOp::create(rewriter, loc, epsilon));
  if (isLayerNorm)
    args.push_back(
        arith::ConstantIntOp::create(rewriter, loc, residual ? 1 : 0, 64));
  func::CallOp::create(rewriter, loc, kernel, args);
  Value result = kiln::kernelResultTensor(rewriter, loc, output);
  rewriter.replaceOp(op, kiln::expandFromKernel(rewriter, loc, result, type));
}

struct NormToUkernelPass
    : kiln::impl::KilnNormToUkernelBase<NormToUkernelPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<Operation *> ops;
    module.walk([&](Operation *op) {
      if (isa<LayerNormOp, AddLayerNormOp, RmsNormOp>(op) && isCovered(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : ops) {
      if (auto norm = dyn_cast<LayerNormOp>(op))
        rewriteNorm(rewriter, module, op, norm.getInput(), Value(),
                    norm.getWeight(), norm.getBias(), norm.getEpsilonAttr());
      else if (auto norm = dyn_cast<AddLayerNormOp>(op))
        rewriteNorm(rewriter, module, op, norm.getInput(), norm.getResidual(),
                    norm.getWeight(), norm.getBias(), norm.getEpsilonAttr());
      else if (auto norm = dyn_cast<RmsNormOp>(op))
        rewriteNorm(rewriter, module, op, norm.getInput(), Value(),
                    norm.getWeight(), Value(), norm.getEpsilonAttr());
    }
  }
};

} // namespace
