//===- AssignBackends.cpp - Choose each kernel's code generator -----------===//
//
// The one place that decides which ops Halide computes: the conversion
// (kiln-convert-to-halide-calls) only follows the marks, and every op left
// unmarked takes the LLVM path.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/halide/HalideKernelOps.h"
#include "codegen/halide/KernelSpec.h"
#include "dialect/TfmOps.h"

#include "llvm/ADT/STLExtras.h"

namespace kiln {
#define GEN_PASS_DEF_KILNASSIGNBACKENDS
#include "codegen/Passes.h.inc"
} // namespace kiln

using namespace mlir;
namespace tfm = kiln::tfm;

namespace kiln {

namespace {

/// A static f32 tensor a Halide buffer can hold.
bool isStaticF32(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.hasStaticShape() && tensor.getElementType().isF32() &&
         tensor.getNumElements() <= kiln::halide::kMaxBufferElements;
}

bool allStaticF32(Operation *op) {
  return llvm::all_of(op->getOperandTypes(), isStaticF32) &&
         llvm::all_of(op->getResultTypes(), isStaticF32);
}

/// Both operands' batch dimensions merge into one: each side's are all
/// equal to the result's, or all 1.
bool hasMergeableBatch(tfm::MatmulOp op) {
  ArrayRef<int64_t> out = op.getType().getShape();
  for (Value side : {op.getLhs(), op.getRhs()}) {
    ArrayRef<int64_t> shape = cast<RankedTensorType>(side.getType()).getShape();
    bool equal = true, ones = true;
    for (size_t d = 0; d + 2 < shape.size(); ++d) {
      equal &= shape[d] == out[d];
      ones &= shape[d] == 1;
    }
    if (!equal && !ones)
      return false;
  }
  return true;
}

} // namespace

bool isHalideKernelOp(Operation *op) {
  if (auto linear = dyn_cast<tfm::LinearOp>(op))
    return allStaticF32(op) && linear.getInput().getType().getRank() >= 2;
  if (auto matmul = dyn_cast<tfm::MatmulOp>(op))
    return allStaticF32(op) && matmul.getType().getRank() >= 3 &&
           hasMergeableBatch(matmul);
  if (auto attention = dyn_cast<tfm::AttentionOp>(op)) {
    if (attention.getBias())
      return false;
    for (Value v : {attention.getQuery(), attention.getKey(),
                    attention.getValue(), attention.getResult()})
      if (!isStaticF32(v.getType()))
        return false;
    if (Value lengths = attention.getLengths()) {
      auto type = cast<RankedTensorType>(lengths.getType());
      if (!type.hasStaticShape() || !type.getElementType().isInteger(64))
        return false;
    }
    return true;
  }
  if (isa<tfm::LayerNormOp, tfm::AddLayerNormOp, tfm::RmsNormOp,
          tfm::SoftmaxOp>(op)) {
    if (!allStaticF32(op) ||
        cast<RankedTensorType>(op->getResultTypes()[0]).getRank() < 2)
      return false;
    if (auto softmax = dyn_cast<tfm::SoftmaxOp>(op)) {
      return softmax.getNormalizedAxis() == softmax.getType().getRank() - 1;
    }
    return true;
  }
  return false;
}

ArrayRef<StringRef> getAutoHalideOps() {
  static const StringRef ops[] = {"tfm.layer_norm", "tfm.add_layer_norm",
                                  "tfm.rms_norm", "tfm.softmax"};
  return ops;
}

} // namespace kiln

namespace {

struct AssignBackendsPass
    : kiln::impl::KilnAssignBackendsBase<AssignBackendsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (backend != "llvm" && backend != "halide" && backend != "auto") {
      getOperation().emitError()
          << "kiln-assign-backends: backend must be llvm, halide or auto, "
             "got '"
          << backend << "'";
      return signalPassFailure();
    }
    if (backend == "llvm")
      return;
    Builder b(&getContext());
    getOperation().walk([&](Operation *op) {
      if (!kiln::isHalideKernelOp(op))
        return;
      if (backend == "auto" &&
          !llvm::is_contained(kiln::getAutoHalideOps(),
                              op->getName().getStringRef()))
        return;
      op->setAttr(kiln::kBackendAttr, b.getStringAttr("halide"));
    });
  }
};

} // namespace
