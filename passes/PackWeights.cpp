//===- PackWeights.cpp - Linear weights in the GEMM kernel's panel layout -===//
//
// The GEMM kernels multiply by B in column panels of the register tile's
// width; given a plain weight they re-pack it on every call. A weight is a
// constant, so this pass inserts `tfm.pack_panels` on the weight of each
// linear layer and marks the layer `weight_panels`: the packing is a
// weight-only expression, hoisted out of the entries and run once at load by
// tfm-hoist-weight-expressions.
//
// A checkpoint tensor that is also read in another way (GPT-2's token
// embedding doubles as its LM head) is left alone: packing it would keep two
// copies of it in memory.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"

namespace kiln::tfm {
#define GEN_PASS_DEF_TFMPACKWEIGHTS
#include "passes/Passes.h.inc"
} // namespace kiln::tfm

using namespace mlir;
using namespace kiln::tfm;

/// Collects the ops of the weight-only expression computing `value` (its
/// leaves are tfm.weight and tfm.constant); fails if it reads anything else.
LogicalResult
kiln::tfm::collectWeightExpression(Value value,
                                   llvm::SetVector<Operation *> &ops) {
  Operation *def = value.getDefiningOp();
  if (!def || def->getNumRegions() != 0 || !isPure(def) ||
      def->getDialect() != value.getContext()->getLoadedDialect<TfmDialect>())
    return failure();
  if (ops.contains(def))
    return success();
  for (Value operand : def->getOperands())
    if (failed(collectWeightExpression(operand, ops)))
      return failure();
  ops.insert(def);
  return success();
}

namespace {

struct TfmPackWeightsPass
    : kiln::tfm::impl::TfmPackWeightsBase<TfmPackWeightsPass> {
  using TfmPackWeightsBase::TfmPackWeightsBase;

  void runOnOperation() override {
    if (panelWidth < 1) {
      getOperation()->emitError("tfm-pack-weights: panel-width must be >= 1");
      return signalPassFailure();
    }
    // Linear layers whose weight is a weight-only expression, the
    // checkpoint tensors each reads, and the ops of those expressions.
    SmallVector<std::pair<LinearOp, SmallVector<StringRef>>> candidates;
    llvm::DenseSet<Operation *> candidateOps, inExpressions;
    getOperation()->walk([&](LinearOp op) {
      llvm::SetVector<Operation *> ops;
      if (op.getWeightPanels() ||
          !op.getWeight().getType().getElementType().isF32() ||
          failed(collectWeightExpression(op.getWeight(), ops)))
        return;
      SmallVector<StringRef> names;
      for (Operation *def : ops)
        if (auto weight = dyn_cast<WeightOp>(def))
          names.push_back(weight.getName());
      candidates.push_back({op, std::move(names)});
      candidateOps.insert(op);
      inExpressions.insert(ops.begin(), ops.end());
    });
    // Checkpoint tensors with a use outside those expressions.
    llvm::StringSet<> shared;
    getOperation()->walk([&](WeightOp weight) {
      for (OpOperand &use : weight->getUses()) {
        Operation *user = use.getOwner();
        bool asLinearWeight = isa<LinearOp>(user) &&
                              use.getOperandNumber() == 1 &&
                              candidateOps.contains(user);
        if (!asLinearWeight && !inExpressions.contains(user))
          shared.insert(weight.getName());
      }
    });

    OpBuilder b(&getContext());
    for (auto &[op, names] : candidates) {
      if (llvm::any_of(names,
                       [&](StringRef name) { return shared.contains(name); }))
        continue;
      int64_t n = op.getOutFeatures(), k = op.getInFeatures();
      auto panelsType = RankedTensorType::get(
          {static_cast<int64_t>(llvm::divideCeil(n, int64_t(panelWidth))), k,
           int64_t(panelWidth)},
          b.getF32Type());
      b.setInsertionPoint(op);
      Value panels = PackPanelsOp::create(b, op.getLoc(), panelsType,
                                          op.getWeight(), op.getWeightInOut());
      op.getWeightMutable().assign(panels);
      op.setWeightInOut(false);
      op.setWeightPanels(true);
    }
  }
};

} // namespace
