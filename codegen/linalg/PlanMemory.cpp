//===- PlanMemory.cpp - One arena for a function's temporaries ------------===//
//
// After bufferization every temporary is a memref.alloc freed by a
// memref.dealloc once its last alias is dead. Called on every entry, that
// is dozens of mallocs and frees per layer, each large one a fresh mmap
// whose pages fault in again. With static shapes the lifetimes are known at
// compile time, so this pass packs the temporaries into one arena: buffers
// whose lifetimes (alloc to last use of any view, in program order) overlap
// get disjoint
// ranges, the others share memory. The arena's size is the function's peak
// temporary memory, recorded as `kiln.arena_bytes` for the signature. A
// public function (an entry) takes the arena as a trailing argument marked
// `kiln.arena`, which the runtime allocates once per session; a private one
// allocates it on entry and frees it on return.
//
// Only allocations in the function's entry block with a static shape, an
// identity layout and exactly one dealloc in that block are planned; the
// rest (loop-local buffers, results) keep their own allocation.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "runtime/Contract.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace kiln {
#define GEN_PASS_DEF_KILNPLANMEMORY
#include "codegen/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// Offsets are multiples of the alignment of the runtime's buffers (the
/// arena's, too), which the kernels expect.
constexpr int64_t kAlignment = kiln::contract::kBufferAlignment;

/// Marks the arena argument of an entry (its name in the signature too).
constexpr llvm::StringRef kArenaAttr = kiln::contract::kArenaArgName;

struct Temporary {
  memref::AllocOp alloc;
  memref::DeallocOp dealloc;
  int64_t begin, end; // positions in the block: alloc to last use
  int64_t bytes;
  int64_t offset = 0;
};

/// Position in `block` of the last op that uses `alloc` or a view of it
/// (nested uses count at their ancestor in `block`), its deallocs aside.
/// The deallocation pipeline frees at the end of the block, so the deallocs
/// say nothing about when a buffer is dead.
int64_t lastUse(memref::AllocOp alloc, Block *block,
                const DenseMap<Operation *, int64_t> &position) {
  int64_t last = position.lookup(alloc);
  SmallVector<Value> aliases = {alloc.getResult()};
  while (!aliases.empty()) {
    Value value = aliases.pop_back_val();
    for (Operation *user : value.getUsers()) {
      if (isa<memref::DeallocOp>(user))
        continue;
      if (Operation *ancestor = block->findAncestorOpInBlock(*user))
        last = std::max(last, position.lookup(ancestor));
      // Any side-effect-free op that yields a memref from this one is
      // taken to alias it (views, casts, memref.transpose, which does not
      // implement ViewLikeOpInterface): a longer lifetime is only safe.
      if (isMemoryEffectFree(user))
        for (Value result : user->getResults())
          if (isa<BaseMemRefType>(result.getType()))
            aliases.push_back(result);
    }
  }
  return last;
}

/// The single dealloc of `alloc` in `block`, if that is its only one.
memref::DeallocOp findDealloc(memref::AllocOp alloc, Block *block) {
  memref::DeallocOp found;
  for (Operation *user : alloc->getUsers()) {
    auto dealloc = dyn_cast<memref::DeallocOp>(user);
    if (!dealloc)
      continue;
    if (found || dealloc->getBlock() != block)
      return {};
    found = dealloc;
  }
  return found;
}

/// Bytes of a planned buffer, or nullopt if `type` cannot be planned.
std::optional<int64_t> plannedBytes(MemRefType type) {
  if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
      !type.getElementType().isIntOrFloat() ||
      type.getElementTypeBitWidth() % 8 != 0 || type.getMemorySpace())
    return std::nullopt;
  int64_t bytes = type.getNumElements() * (type.getElementTypeBitWidth() / 8);
  return llvm::alignTo(std::max<int64_t>(bytes, 1), kAlignment);
}

/// First-fit offsets, largest buffers first: each buffer goes at the lowest
/// offset that does not overlap a placed buffer alive at the same time.
/// Returns the arena size.
int64_t assignOffsets(MutableArrayRef<Temporary> temporaries) {
  SmallVector<Temporary *> order;
  for (Temporary &t : temporaries)
    order.push_back(&t);
  llvm::stable_sort(
      order, [](Temporary *a, Temporary *b) { return a->bytes > b->bytes; });
  SmallVector<Temporary *> placed;
  int64_t size = 0;
  for (Temporary *t : order) {
    SmallVector<std::pair<int64_t, int64_t>> busy;
    for (Temporary *other : placed)
      if (other->begin <= t->end && t->begin <= other->end)
        busy.push_back({other->offset, other->offset + other->bytes});
    llvm::sort(busy);
    int64_t offset = 0;
    for (auto [start, stop] : busy) {
      if (offset + t->bytes <= start)
        break;
      offset = std::max(offset, stop);
    }
    t->offset = offset;
    size = std::max(size, offset + t->bytes);
    placed.push_back(t);
  }
  return size;
}

struct PlanMemoryPass : kiln::impl::KilnPlanMemoryBase<PlanMemoryPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || !func.getBody().hasOneBlock())
      return;
    Block &block = func.getBody().front();
    auto ret = dyn_cast<func::ReturnOp>(block.getTerminator());
    if (!ret)
      return;

    DenseMap<Operation *, int64_t> position;
    int64_t index = 0;
    for (Operation &op : block)
      position[&op] = index++;
    SmallVector<Temporary> temporaries;
    for (auto alloc : block.getOps<memref::AllocOp>()) {
      std::optional<int64_t> bytes = plannedBytes(alloc.getType());
      memref::DeallocOp dealloc = findDealloc(alloc, &block);
      if (!bytes || !dealloc || !alloc.getDynamicSizes().empty() ||
          !alloc.getSymbolOperands().empty())
        continue;
      temporaries.push_back({alloc, dealloc, position[alloc],
                             lastUse(alloc, &block, position), *bytes});
    }
    if (temporaries.empty())
      return;
    int64_t arenaBytes = assignOffsets(temporaries);

    OpBuilder b(func.getContext());
    b.setInsertionPointToStart(&block);
    Location loc = func.getLoc();
    auto arenaType = MemRefType::get({arenaBytes}, b.getI8Type());
    // An entry gets its arena from the caller, which keeps one buffer across
    // calls: no allocation, and no page faults after the first call.
    Value arena;
    if (func.isPublic()) {
      unsigned index = func.getNumArguments();
      if (failed(func.insertArgument(
              index, arenaType,
              b.getDictionaryAttr(b.getNamedAttr(kArenaAttr, b.getUnitAttr())),
              loc)))
        return signalPassFailure();
      arena = func.getArgument(index);
    } else {
      arena = memref::AllocOp::create(b, loc, arenaType,
                                      b.getI64IntegerAttr(kAlignment));
    }
    for (Temporary &t : temporaries) {
      b.setInsertionPoint(t.alloc);
      Value offset =
          arith::ConstantIndexOp::create(b, t.alloc.getLoc(), t.offset);
      Value view = memref::ViewOp::create(
          b, t.alloc.getLoc(), t.alloc.getType(), arena, offset, ValueRange{});
      t.alloc.replaceAllUsesWith(view);
      t.dealloc.erase();
      t.alloc.erase();
    }
    if (!func.isPublic()) {
      b.setInsertionPoint(ret);
      memref::DeallocOp::create(b, loc, arena);
    }
    func->setAttr(kiln::kArenaBytesAttr, b.getI64IntegerAttr(arenaBytes));
  }
};

} // namespace
