//===- OutlineWeights.cpp - tfm.weight ops into entry arguments -----------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"

namespace kiln::tfm {
#define GEN_PASS_DEF_TFMOUTLINEWEIGHTS
#include "passes/Passes.h.inc"
} // namespace kiln::tfm

using namespace mlir;
using namespace kiln::tfm;

/// Replaces the weights of one function by trailing arguments.
static LogicalResult outlineWeights(func::FuncOp func, ModuleOp module) {
  SmallVector<WeightOp> weights;
  func.walk([&](WeightOp op) { weights.push_back(op); });
  if (weights.empty())
    return success();
  // New arguments would leave existing call sites short of operands.
  if (!SymbolTable::symbolKnownUseEmpty(func, module))
    return func.emitOpError()
           << "is called within the module, so its weights cannot become "
              "arguments (inline it or make it private first)";
  llvm::StringMap<BlockArgument> arguments;
  Builder builder(func.getContext());
  for (WeightOp weight : weights) {
    auto [it, inserted] = arguments.try_emplace(weight.getName());
    if (inserted) {
      unsigned index = func.getNumArguments();
      NamedAttribute nameAttr(builder.getStringAttr("tfm.weight"),
                              weight.getNameAttr());
      if (failed(func.insertArgument(index, weight.getType(),
                                     builder.getDictionaryAttr(nameAttr),
                                     weight.getLoc())))
        return failure();
      it->second = func.getArgument(index);
    } else if (it->second.getType() != weight.getType()) {
      return weight.emitOpError()
             << "uses weight '" << weight.getName() << "' as "
             << weight.getType() << " but an earlier use has type "
             << it->second.getType();
    }
    weight.getResult().replaceAllUsesWith(it->second);
    weight.erase();
  }
  return success();
}

namespace {
struct TfmOutlineWeightsPass
    : kiln::tfm::impl::TfmOutlineWeightsBase<TfmOutlineWeightsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isPublic() && !func.isExternal() &&
          failed(outlineWeights(func, getOperation())))
        return signalPassFailure();
    }
  }
};
} // namespace
