//===- MemrefCopyToLinalg.cpp - memref.copy as linalg.copy ----------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

namespace kiln {
#define GEN_PASS_DEF_KILNMEMREFCOPYTOLINALG
#include "codegen/Passes.h.inc"
} // namespace kiln

using namespace mlir;

static void rewriteCopyAsLinalg(RewriterBase &rewriter, memref::CopyOp copy) {
  rewriter.setInsertionPoint(copy);
  rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(),
                                              copy.getTarget());
}

namespace {
struct MemrefCopyToLinalgPass
    : kiln::impl::KilnMemrefCopyToLinalgBase<MemrefCopyToLinalgPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation()->walk([&](memref::CopyOp copy) {
      auto source = cast<MemRefType>(copy.getSource().getType());
      auto target = cast<MemRefType>(copy.getTarget().getType());
      if (source.getElementType() == target.getElementType())
        copies.push_back(copy);
    });
    IRRewriter rewriter(&getContext());
    for (memref::CopyOp copy : copies)
      rewriteCopyAsLinalg(rewriter, copy);
  }
};
} // namespace
