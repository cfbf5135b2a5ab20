//===- SerializeNestedParallelLoops.cpp - inner scf.parallel to scf.for ---===//

#include "codegen/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace kiln {
#define GEN_PASS_DEF_KILNSERIALIZENESTEDPARALLELLOOPS
#include "codegen/Passes.h.inc"
} // namespace kiln

using namespace mlir;

/// Replaces `op` by a nest of scf.for loops with the same iteration space.
static LogicalResult serializeParallelLoop(RewriterBase &rewriter,
                                           scf::ParallelOp op) {
  if (op.getNumResults() != 0)
    return rewriter.notifyMatchFailure(op, "parallel loop with reductions");
  rewriter.setInsertionPoint(op);
  scf::LoopNest nest =
      scf::buildLoopNest(rewriter, op.getLoc(), op.getLowerBound(),
                         op.getUpperBound(), op.getStep());
  SmallVector<Value> ivs;
  for (scf::ForOp loop : nest.loops)
    ivs.push_back(loop.getInductionVar());
  Block *innermost = nest.loops.back().getBody();
  rewriter.eraseOp(op.getBody()->getTerminator());
  rewriter.inlineBlockBefore(op.getBody(), innermost->getTerminator(), ivs);
  rewriter.eraseOp(op);
  return success();
}

namespace {
struct SerializeNestedParallelLoopsPass
    : kiln::impl::KilnSerializeNestedParallelLoopsBase<
          SerializeNestedParallelLoopsPass> {
  void runOnOperation() override {
    SmallVector<scf::ParallelOp> nested;
    getOperation()->walk([&](scf::ParallelOp op) {
      if (op->getParentOfType<scf::ParallelOp>())
        nested.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    // Innermost first: the walk is post-order.
    for (scf::ParallelOp op : nested)
      (void)serializeParallelLoop(rewriter, op);
  }
};
} // namespace
