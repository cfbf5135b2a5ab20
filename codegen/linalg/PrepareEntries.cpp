//===- PrepareEntries.cpp - The entries' attributes for bufferization -----===//
//
// The tfm attributes through which a builder names an entry's arguments and
// results (codegen/Pipeline.h) are read once, into the signature, just
// before bufferization. This pass then turns them into what the rest of the
// pipeline needs: read-only weights for one-shot bufferization, the
// consumed-weight marks of kiln-release-consumed-weights, and C interfaces
// for the runtime. As a pass rather than driver code, `kiln-opt` replays
// the "bufferized" stage exactly (`--kiln-stage-bufferized`).
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/Pipeline.h"
#include "passes/Passes.h"

#include "llvm/ADT/StringSet.h"

namespace kiln {
#define GEN_PASS_DEF_KILNPREPAREENTRIES
#include "codegen/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using kiln::kIndexBoundAttr;
using kiln::kNameAttr;
using kiln::kStateAttr;
using kiln::kWeightAttr;

namespace {

/// Marks the weight arguments of prepare_weights that no other function
/// reads: the runtime may drop them once prepare_weights is done with them.
void markConsumedWeights(ModuleOp module) {
  auto prepare =
      module.lookupSymbol<func::FuncOp>(kiln::tfm::kPrepareWeightsEntry);
  if (!prepare)
    return;
  llvm::StringSet<> readElsewhere;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func == prepare || func.isExternal())
      continue;
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      if (auto weight = func.getArgAttrOfType<StringAttr>(i, kWeightAttr))
        readElsewhere.insert(weight.getValue());
  }
  UnitAttr mark = UnitAttr::get(module.getContext());
  for (unsigned i = 0; i < prepare.getNumArguments(); ++i)
    if (auto weight = prepare.getArgAttrOfType<StringAttr>(i, kWeightAttr))
      if (!readElsewhere.contains(weight.getValue()))
        prepare.setArgAttr(i, kiln::kConsumedWeightAttr, mark);
}

void prepareEntry(func::FuncOp entry) {
  MLIRContext *ctx = entry.getContext();
  auto notWritable = BoolAttr::get(ctx, false);
  for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
    // Weights may be mapped read-only: never bufferize a write into one.
    if (entry.getArgAttr(i, kWeightAttr))
      entry.setArgAttr(i, "bufferization.writable", notWritable);
    for (StringRef name : {kNameAttr, kWeightAttr, kStateAttr, kIndexBoundAttr})
      entry.removeArgAttr(i, name);
  }
  // Result states stay marked: kiln-drop-state-results removes them after
  // bufferization.
  for (unsigned i = 0; i < entry.getNumResults(); ++i)
    entry.removeResultAttr(i, StringAttr::get(ctx, kNameAttr));
  entry->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
}

struct PrepareEntriesPass
    : kiln::impl::KilnPrepareEntriesBase<PrepareEntriesPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<SmallVector<func::FuncOp>> entries =
        kiln::findEntryFunctions(module, entry);
    if (failed(entries))
      return signalPassFailure();
    // tfm-hoist-weight-expressions added the load-time entry.
    auto prepare =
        module.lookupSymbol<func::FuncOp>(kiln::tfm::kPrepareWeightsEntry);
    if (prepare && !llvm::is_contained(*entries, prepare))
      entries->push_back(prepare);
    markConsumedWeights(module);
    for (func::FuncOp func : *entries)
      prepareEntry(func);
  }
};

} // namespace
