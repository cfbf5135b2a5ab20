//===- ApproximateMath.cpp - Inline polynomials for erf, exp and tanh -----===//
//
// Lowered as they are, math.erf and math.tanh become libm calls and math.exp
// the llvm.exp intrinsic, which the loop vectorizer cannot widen without a
// vector math library: GELU and softmax then run one scalar call per
// element. MLIR's polynomial approximations (range reduction, then a
// polynomial; a few ulp of f32) are plain arithmetic that vectorizes.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln {
#define GEN_PASS_DEF_KILNAPPROXIMATEMATH
#include "codegen/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// The functions transformer models evaluate per element.
bool isApproximated(StringRef name) {
  name.consume_front("math.");
  return name == "erf" || name == "exp" || name == "tanh";
}

struct ApproximateMathPass
    : kiln::impl::KilnApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, isApproximated);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
