//===- OrderGlobals.cpp - Constant globals in a content order -------------===//
//
// Compiling the same model twice must give the same bytes. Bufferization
// creates the constants' memref.globals in an order that can change from
// run to run; this pass makes their order and names a function of their
// contents.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/raw_ostream.h"

namespace kiln {
#define GEN_PASS_DEF_KILNORDERGLOBALS
#include "codegen/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// The text a global's order is decided by: its type and initial value.
std::string contentKey(memref::GlobalOp global) {
  std::string key;
  llvm::raw_string_ostream os(key);
  os << global.getType() << " = ";
  if (std::optional<Attribute> value = global.getInitialValue())
    os << *value;
  return key;
}

struct OrderGlobalsPass : kiln::impl::KilnOrderGlobalsBase<OrderGlobalsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<std::pair<std::string, memref::GlobalOp>> constants;
    for (auto global : module.getOps<memref::GlobalOp>())
      if (global.getConstant() && global.isPrivate())
        constants.push_back({contentKey(global), global});
    // Equal contents keep their relative order: their uses differ only in
    // which name they read, and their names are assigned in that order.
    llvm::stable_sort(constants, [](const auto &a, const auto &b) {
      return a.first < b.first;
    });
    // Two steps, so that no new name collides with an old one.
    SmallVector<std::pair<memref::GlobalOp, StringAttr>> renames;
    for (auto [index, entry] : llvm::enumerate(constants)) {
      memref::GlobalOp global = entry.second;
      auto temporary = StringAttr::get(
          &getContext(), "__kiln_order_" + std::to_string(index));
      if (failed(SymbolTable::replaceAllSymbolUses(global.getSymNameAttr(),
                                                   temporary, module)))
        return signalPassFailure();
      global.setSymName(temporary.getValue());
      renames.push_back(
          {global, StringAttr::get(&getContext(),
                                   "__constant_" + std::to_string(index))});
    }
    for (auto [global, name] : renames) {
      if (SymbolTable::lookupSymbolIn(module, name)) {
        global.emitError() << "cannot rename to '" << name.getValue()
                           << "': the name is taken";
        return signalPassFailure();
      }
      if (failed(SymbolTable::replaceAllSymbolUses(global.getSymNameAttr(),
                                                   name, module)))
        return signalPassFailure();
      global.setSymName(name.getValue());
    }
    // Last first, each to the front: the module starts in sorted order.
    Block *body = module.getBody();
    for (auto [global, name] : llvm::reverse(renames))
      global->moveBefore(body, body->begin());
  }
};

} // namespace
