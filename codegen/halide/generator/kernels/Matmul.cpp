//===- Matmul.cpp - out[b] = A[b] . B[b], with transposes and broadcast
//-----===//
//
// A batched GEMM on the register-blocked product of Linear.cpp: per batch,
// acc(j, p, m) accumulates rows x W register tiles with the K loop
// innermost. A (transposed or not) is only ever broadcast one element at a
// time, so it is read in place whatever its layout. B is read in place when
// its rows are the contiguous dimension and N is a multiple of the panel
// width W; otherwise (transposed B, or a partial last panel) it is packed
// once per call into zero padded [K, W] panels, which makes every tile's
// panel row contiguous. A batch of 1 broadcasts (index 0).
//
//===----------------------------------------------------------------------===//

#include "codegen/halide/generator/Kernels.h"

namespace kiln::halide {

using namespace Halide;

BuiltKernel buildMatmul(const KernelSpec &spec, const Target &target) {
  const bool transposeLhs = spec.attr("transpose_lhs", false);
  const bool transposeRhs = spec.attr("transpose_rhs", false);
  const KernelArg &lhsArg = spec.args[0], &rhsArg = spec.args[1];
  const int64_t batch = spec.output().shape[0], m = spec.output().shape[1],
                n = spec.output().shape[2];
  const int64_t k = lhsArg.shape[transposeLhs ? 1 : 2];

  BuiltKernel kernel;
  ImageParam lhs = makeInput(lhsArg), rhs = makeInput(rhsArg);
  kernel.inputs = {lhs, rhs};

  GemmTiling tiling = chooseGemmTiling(target, 0, m);
  const int width = tiling.panelWidth;

  Var j("j"), p("p"), kk("kk"), col("n"), row("m"), b("b");
  Expr lhsBatch = lhsArg.shape[0] == 1 ? Expr(0) : Expr(b);
  Expr rhsBatch = rhsArg.shape[0] == 1 ? Expr(0) : Expr(b);

  // B as panels: panelB(j, k, p, b) = B[b, k, p * W + j], zero past N.
  Expr column = p * width + j;
  Expr clamped = n % width ? min(column, static_cast<int>(n - 1)) : column;
  Expr value =
      transposeRhs ? rhs(kk, clamped, rhsBatch) : rhs(clamped, kk, rhsBatch);
  if (n % width)
    value = select(column < static_cast<int>(n), value, 0.0f);
  Func panelB("panel_b");
  panelB(j, kk, p, b) = value;
  bool packed = transposeRhs || n % width;
  if (packed) {
    // Only the batches B has: a broadcast B is packed once.
    Var task("task");
    panelB.compute_root()
        .bound(j, 0, width)
        .bound(b, 0, static_cast<int>(rhsArg.shape[0]))
        .vectorize(j, tiling.vector)
        .fuse(p, b, task)
        .parallel(task);
  }
  Expr panelBatch = packed ? rhsBatch : Expr(b);

  RDom r(0, static_cast<int>(k), "r");
  Func acc("acc");
  acc(j, p, row, b) = 0.0f;
  Expr a = transposeLhs ? lhs(row, r, lhsBatch) : lhs(r, row, lhsBatch);
  acc(j, p, row, b) += a * panelB(j, r, p, panelBatch);

  Func out("matmul");
  out(col, row, b) = acc(col % width, col / width, row, b);
  constrainOutput(out, spec.output());

  std::string summary = scheduleGemm(out, acc, tiling, n, m, k, batch);
  kernel.output = out;
  kernel.scheduleSummary =
      "matmul: " + summary +
      (packed ? "; B packed into panels per call" : "; B read in place");
  return kernel;
}

} // namespace kiln::halide
