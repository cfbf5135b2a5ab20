//===- HoistWeightExpressions.cpp - Weight-only work into a load-time entry
//===//
//
// Computations on weights alone (packing into panels, concatenating the
// Q/K/V projections) give the same result on every call. Like IREE's
// initializers, this pass moves them out of the entries into one extra entry,
// `prepare_weights`, that the runtime calls once after binding the
// checkpoint's tensors. Each result is a derived weight, named by the
// expression that computes it; the entries read it as a `tfm.weight` of
// that name, which the runtime binds to the output of `prepare_weights`.
//
// Doing this at load rather than at compile time keeps the checkpoint the
// single source of weights: `--weights` and external weights still work, and
// the executable embeds each tensor once.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/xxhash.h"

namespace kiln::tfm {
#define GEN_PASS_DEF_TFMHOISTWEIGHTEXPRESSIONS
#include "passes/Passes.h.inc"
} // namespace kiln::tfm

using namespace mlir;
using namespace kiln::tfm;

namespace {

/// Ops worth computing once: they write new data. Views (reshape, slice)
/// cost nothing in place and stay in the entries.
bool materializes(Operation *op) {
  return isa<PackPanelsOp, ConcatOp, TransposeOp>(op);
}

/// A readable, canonical name for the weight-only expression `value`:
/// `op[attributes](operands...)` down to checkpoint names, for example
/// `pack_panels[width=32](concat[axis=0](q.weight,k.weight,v.weight))`.
/// Equal expressions get equal names, which is how entries share one derived
/// weight.
std::string describe(Value value) {
  Operation *def = value.getDefiningOp();
  if (auto weight = dyn_cast<WeightOp>(def))
    return weight.getName().str();
  std::string text;
  llvm::raw_string_ostream os(text);
  // A dense constant by its type and a hash of its bytes: printing its
  // values (a Swin window's 2401 position indices) would make the name as
  // large as the data.
  if (auto constant = dyn_cast<ConstantOp>(def))
    if (auto dense = dyn_cast<DenseElementsAttr>(constant.getValue())) {
      ArrayRef<char> bytes = dense.getRawData();
      os << "constant[" << dense.getType() << ",xxh3="
         << llvm::utohexstr(llvm::xxh3_64bits(ArrayRef<uint8_t>(
                reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size())))
         << "]()";
      return text;
    }
  os << def->getName().stripDialect();
  SmallVector<std::string> attributes;
  if (auto pack = dyn_cast<PackPanelsOp>(def))
    attributes.push_back("width=" +
                         std::to_string(pack.getType().getShape()[2]));
  for (NamedAttribute attr : def->getAttrs()) {
    std::string item = attr.getName().str();
    llvm::raw_string_ostream itemOs(item);
    if (auto integer = dyn_cast<IntegerAttr>(attr.getValue()))
      itemOs << "=" << integer.getInt();
    else if (auto array = dyn_cast<DenseI64ArrayAttr>(attr.getValue())) {
      itemOs << "=";
      llvm::interleave(array.asArrayRef(), itemOs, "x");
    } else if (!isa<UnitAttr>(attr.getValue()))
      itemOs << "=" << attr.getValue();
    attributes.push_back(item);
  }
  if (!attributes.empty())
    os << "[" << llvm::join(attributes, ",") << "]";
  os << "(";
  llvm::interleave(
      def->getOperands(), os, [&](Value operand) { os << describe(operand); },
      ",");
  os << ")";
  return text;
}

struct TfmHoistWeightExpressionsPass
    : kiln::tfm::impl::TfmHoistWeightExpressionsBase<
          TfmHoistWeightExpressionsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Roots: materializing weight-only ops with a use that is not itself a
    // materializing weight-only op (that one would be the root instead).
    llvm::MapVector<Operation *, std::string> roots;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      func.walk([&](Operation *op) {
        if (!materializes(op) || op->getNumResults() != 1)
          return;
        llvm::SetVector<Operation *> ops;
        if (failed(collectWeightExpression(op->getResult(0), ops)))
          return;
        bool usedOutside = llvm::any_of(op->getUsers(), [&](Operation *user) {
          llvm::SetVector<Operation *> userOps;
          return !materializes(user) || user->getNumResults() != 1 ||
                 failed(collectWeightExpression(user->getResult(0), userOps));
        });
        if (usedOutside)
          roots.insert({op, describe(op->getResult(0))});
      });
    }
    if (roots.empty())
      return;
    if (Operation *taken = module.lookupSymbol(kPrepareWeightsEntry)) {
      taken->emitError() << "the name '" << kPrepareWeightsEntry
                         << "' is reserved for the load-time entry that "
                            "computes derived weights; rename this function";
      return signalPassFailure();
    }

    // One result per distinct expression, computed in order of appearance.
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto init = func::FuncOp::create(b, module.getLoc(), kPrepareWeightsEntry,
                                     b.getFunctionType({}, {}));
    Block *body = init.addEntryBlock();
    b.setInsertionPointToStart(body);
    IRMapping mapping;
    llvm::StringMap<Value> clonedWeights;
    llvm::MapVector<StringRef, Value> results;
    for (auto &[root, name] : roots) {
      if (results.count(name))
        continue;
      llvm::SetVector<Operation *> ops;
      (void)collectWeightExpression(root->getResult(0), ops);
      // collectWeightExpression lists operands before their users.
      for (Operation *op : ops) {
        if (mapping.contains(op->getResult(0)))
          continue;
        if (auto weight = dyn_cast<WeightOp>(op)) {
          // One read per checkpoint tensor, whatever the entry it came from.
          auto [it, inserted] = clonedWeights.try_emplace(weight.getName());
          if (inserted)
            it->second = b.clone(*op)->getResult(0);
          mapping.map(op->getResult(0), it->second);
          continue;
        }
        b.clone(*op, mapping);
      }
      results.insert({name, mapping.lookup(root->getResult(0))});
    }
    SmallVector<Value> values;
    SmallVector<Type> types;
    for (auto &[name, value] : results) {
      values.push_back(value);
      types.push_back(value.getType());
    }
    func::ReturnOp::create(b, module.getLoc(), values);
    init.setFunctionType(b.getFunctionType({}, types));
    for (auto [index, entry] : llvm::enumerate(results))
      init.setResultAttr(index, "tfm.name", b.getStringAttr(entry.first));

    // The entries read the derived weights by name.
    for (auto &[root, name] : roots) {
      b.setInsertionPoint(root);
      Value weight = WeightOp::create(b, root->getLoc(),
                                      root->getResult(0).getType(), name);
      root->getResult(0).replaceAllUsesWith(weight);
    }
    // What the entries no longer read goes.
    llvm::SetVector<Operation *> dead;
    for (auto &[root, name] : roots)
      (void)collectWeightExpression(root->getResult(0), dead);
    for (Operation *op : llvm::reverse(dead))
      if (op->use_empty())
        op->erase();
  }
};

} // namespace
