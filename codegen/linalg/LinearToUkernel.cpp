//===- LinearToUkernel.cpp - Linear layers on panels as one kernel call ---===//
//
// A linear layer whose weight is in GEMM panels (tfm-pack-weights) becomes
// one call of the runtime's kiln_linear_panels_f32: out = act(x · W + b),
// the bias starting each output tile's accumulation and the activation
// applied to the tile while it is in cache. Lowered through linalg the same
// layer is three passes over the output (bias broadcast, product,
// activation). The packing of the weights into panels (tfm.pack_panels, run
// once at load) calls the runtime's packing routine too.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/linalg/Ukernels.h"
#include "dialect/TfmOps.h"
#include "runtime/Contract.h"

namespace kiln {
#define GEN_PASS_DEF_KILNLINEARTOUKERNEL
#include "codegen/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using kiln::tfm::LinearOp;
using kiln::tfm::PackPanelsOp;

namespace {

using kiln::contract::Activation;

/// The kernel's code of a tfm activation: the two enums are kept apart, so
/// that a new tfm activation is a compile error here until the kernel has it.
Activation kernelActivation(kiln::tfm::Activation activation) {
  switch (activation) {
  case kiln::tfm::Activation::none:
    return Activation::None;
  case kiln::tfm::Activation::gelu:
    return Activation::Gelu;
  case kiln::tfm::Activation::gelu_tanh:
    return Activation::GeluTanh;
  case kiln::tfm::Activation::quick_gelu:
    return Activation::QuickGelu;
  case kiln::tfm::Activation::silu:
    return Activation::Silu;
  case kiln::tfm::Activation::relu:
    return Activation::Relu;
  case kiln::tfm::Activation::tanh:
    return Activation::Tanh;
  }
  llvm_unreachable("unknown tfm activation");
}

LogicalResult rewriteAsKernelCall(RewriterBase &rewriter, ModuleOp module,
                                  LinearOp op) {
  if (!op.getWeightPanels())
    return rewriter.notifyMatchFailure(op, "weight not in panels");
  if (!op.getType().getElementType().isF32())
    return rewriter.notifyMatchFailure(op, "not f32");
  if (op.getInput().getType().getRank() < 2)
    return rewriter.notifyMatchFailure(op, "input of rank 1");

  MLIRContext *ctx = rewriter.getContext();
  Type f32 = rewriter.getF32Type(), i64 = rewriter.getI64Type();
  Type matrix = kiln::getDynamicStridedType(f32, 2);
  Type vector = kiln::getDynamicStridedType(f32, 1);
  func::FuncOp kernel = kiln::declareUkernel(
      module, kiln::contract::kLinearPanelsKernel,
      FunctionType::get(ctx,
                        {matrix, kiln::getDynamicStridedType(f32, 3), vector,
                         matrix, i64, i64, i64},
                        {}));

  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  Value input = kiln::bufferForKernel(rewriter, loc, op.getInput(), 2);
  Value panels = kiln::bufferForKernel(rewriter, loc, op.getWeight(), 3);
  Value bias;
  if (op.getBias()) {
    bias = kiln::bufferForKernel(rewriter, loc, op.getBias(), 1);
  } else {
    // The kernel ignores the bias operand when told there is none.
    Value none =
        memref::AllocaOp::create(rewriter, loc, MemRefType::get({1}, f32));
    bias = kiln::castToDynamicStrided(rewriter, loc, none);
  }
  RankedTensorType resultType = op.getType();
  int64_t n = resultType.getShape().back();
  int64_t m = resultType.getNumElements() / std::max<int64_t>(n, 1);
  kiln::KernelResult output =
      kiln::allocateKernelResult(rewriter, loc, {m, n}, f32);
  auto constant = [&](int64_t value) -> Value {
    return arith::ConstantIntOp::create(rewriter, loc, value, 64);
  };
  func::CallOp::create(rewriter, loc, kernel,
                       ValueRange{input, panels, bias, output.operand,
                                  constant(0), constant(op.getBias() ? 1 : 0),
                                  constant(static_cast<int64_t>(
                                      kernelActivation(op.getActivation())))});
  Value result = kiln::kernelResultTensor(rewriter, loc, output);
  rewriter.replaceOp(op,
                     kiln::expandFromKernel(rewriter, loc, result, resultType));
  return success();
}

/// The packing that feeds such layers (in prepare_weights, once at load):
/// one call of kiln_pack_panels_f32 instead of the transpose, pad and
/// transpose loops of the linalg lowering.
LogicalResult rewritePackAsKernelCall(RewriterBase &rewriter, ModuleOp module,
                                      PackPanelsOp op) {
  if (!op.getType().getElementType().isF32())
    return rewriter.notifyMatchFailure(op, "not f32");
  Type f32 = rewriter.getF32Type();
  func::FuncOp kernel = kiln::declareUkernel(
      module, kiln::contract::kPackPanelsKernel,
      FunctionType::get(rewriter.getContext(),
                        {kiln::getDynamicStridedType(f32, 2),
                         kiln::getDynamicStridedType(f32, 3),
                         rewriter.getI64Type()},
                        {}));
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  Value weight = kiln::bufferForKernel(rewriter, loc, op.getWeight(), 2);
  kiln::KernelResult output =
      kiln::allocateKernelResult(rewriter, loc, op.getType().getShape(), f32);
  func::CallOp::create(rewriter, loc, kernel,
                       ValueRange{weight, output.operand,
                                  arith::ConstantIntOp::create(
                                      rewriter, loc, op.getInOut(), 64)});
  rewriter.replaceOp(op, kiln::kernelResultTensor(rewriter, loc, output));
  return success();
}

struct LinearToUkernelPass
    : kiln::impl::KilnLinearToUkernelBase<LinearToUkernelPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<LinearOp> ops;
    SmallVector<PackPanelsOp> packs;
    module.walk([&](LinearOp op) { ops.push_back(op); });
    module.walk([&](PackPanelsOp op) { packs.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (LinearOp op : ops)
      (void)rewriteAsKernelCall(rewriter, module, op);
    for (PackPanelsOp op : packs)
      (void)rewritePackAsKernelCall(rewriter, module, op);
  }
};

} // namespace
