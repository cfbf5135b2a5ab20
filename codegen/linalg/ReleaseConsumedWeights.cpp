//===- ReleaseConsumedWeights.cpp - Drop packed sources early -------------===//
//
// prepare_weights packs every linear weight of the model. Without help the
// runtime can only drop the checkpoint tensors after the whole entry ran,
// so loading peaks at the weights plus all their packed copies. This pass
// inserts a call of the runtime's kiln_release_weight after the last read
// of each tensor that no other entry reads: the pages go as soon as the
// packed copy exists.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "runtime/Contract.h"

#include "mlir/Interfaces/ViewLikeInterface.h"

namespace kiln {
#define GEN_PASS_DEF_KILNRELEASECONSUMEDWEIGHTS
#include "codegen/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using kiln::kConsumedWeightAttr;

namespace {

/// The op of `block` that is, or contains, the last user of `buffer` or of
/// any view of it; nullptr if nothing uses it.
Operation *findLastUseInBlock(Value buffer, Block &block) {
  Operation *last = nullptr;
  SmallVector<Value> worklist = {buffer};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (Operation *user : value.getUsers()) {
      // A view or cast aliases the buffer: its uses count too.
      if (auto view = dyn_cast<ViewLikeOpInterface>(user))
        if (view.getViewSource() == value)
          worklist.push_back(view->getResult(0));
      if (isa<memref::CastOp>(user))
        worklist.push_back(user->getResult(0));
      Operation *ancestor = block.findAncestorOpInBlock(*user);
      if (ancestor && (!last || last->isBeforeInBlock(ancestor)))
        last = ancestor;
    }
  }
  return last;
}

/// `kiln_release_weight(i64 pointer, i64 bytes)`, declared once per module.
func::FuncOp declareRelease(ModuleOp module) {
  StringRef name = kiln::contract::kReleaseWeightSymbol;
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  Type i64 = builder.getI64Type();
  auto func = func::FuncOp::create(builder, module.getLoc(), name,
                                   builder.getFunctionType({i64, i64}, {}));
  func.setPrivate();
  return func;
}

/// Inserts the release of `weight` (a statically shaped memref argument)
/// after its last use. Fails on a dynamic shape, which weights never have.
LogicalResult releaseAfterLastUse(func::FuncOp func, BlockArgument weight) {
  auto type = dyn_cast<MemRefType>(weight.getType());
  if (!type || !type.hasStaticShape())
    return func.emitError() << "argument #" << weight.getArgNumber()
                            << " marked '" << kConsumedWeightAttr
                            << "' must be a statically shaped memref";
  Block &body = func.getBody().front();
  Operation *last = findLastUseInBlock(weight, body);
  OpBuilder builder(func.getContext());
  if (!last)
    builder.setInsertionPointToStart(&body);
  else if (last->hasTrait<OpTrait::IsTerminator>())
    builder.setInsertionPoint(last);
  else
    builder.setInsertionPointAfter(last);
  func::FuncOp release = declareRelease(func->getParentOfType<ModuleOp>());
  Location loc = weight.getLoc();
  uint64_t bytes = static_cast<uint64_t>(type.getNumElements()) *
                   llvm::divideCeil(type.getElementTypeBitWidth(), 8);
  Value pointer =
      memref::ExtractAlignedPointerAsIndexOp::create(builder, loc, weight);
  Value pointerI64 =
      arith::IndexCastOp::create(builder, loc, builder.getI64Type(), pointer);
  Value size = arith::ConstantIntOp::create(builder, loc, builder.getI64Type(),
                                            static_cast<int64_t>(bytes));
  func::CallOp::create(builder, loc, release, ValueRange{pointerI64, size});
  return success();
}

struct ReleaseConsumedWeightsPass
    : kiln::impl::KilnReleaseConsumedWeightsBase<ReleaseConsumedWeightsPass> {
  void runOnOperation() override {
    // A module pass: the runtime function is declared in the module.
    SmallVector<func::FuncOp> funcs(getOperation().getOps<func::FuncOp>());
    for (func::FuncOp func : funcs) {
      if (func.isExternal())
        continue;
      for (BlockArgument arg : func.getArguments()) {
        if (!func.getArgAttr(arg.getArgNumber(), kConsumedWeightAttr))
          continue;
        if (failed(releaseAfterLastUse(func, arg)))
          return signalPassFailure();
        func.removeArgAttr(arg.getArgNumber(), kConsumedWeightAttr);
      }
    }
  }
};

} // namespace
