//===- DropStateResults.cpp - States updated in place leave the results ---===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/BitVector.h"

namespace kiln {
#define GEN_PASS_DEF_KILNDROPSTATERESULTS
#include "codegen/Passes.h.inc"
} // namespace kiln

using namespace mlir;

static constexpr llvm::StringLiteral kStateAttr = "tfm.state";

/// Removes the state results of `func`, checking each returns its argument.
static LogicalResult dropStateResults(func::FuncOp func) {
  llvm::BitVector erase(func.getNumResults());
  SmallVector<func::ReturnOp> returns;
  func.walk([&](func::ReturnOp op) { returns.push_back(op); });
  for (unsigned i = 0; i < func.getNumResults(); ++i) {
    auto state = func.getResultAttrOfType<StringAttr>(i, kStateAttr);
    if (!state)
      continue;
    for (func::ReturnOp op : returns) {
      auto argument = dyn_cast<BlockArgument>(op.getOperand(i));
      if (!argument || argument.getOwner() != &func.getBody().front())
        return func.emitError()
               << "state '" << state.getValue()
               << "' is not updated in place: bufferization copied it";
    }
    erase.set(i);
  }
  for (func::ReturnOp op : returns)
    op->eraseOperands(erase);
  return func.eraseResults(erase);
}

namespace {
struct DropStateResultsPass
    : kiln::impl::KilnDropStateResultsBase<DropStateResultsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal() && failed(dropStateResults(func)))
        return signalPassFailure();
  }
};
} // namespace
