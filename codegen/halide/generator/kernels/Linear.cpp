//===- Linear.cpp - out = act(x . B + bias)
//---------------------------------===//
//
// A linear layer as one register-blocked GEMM. The product is accumulated
// per column panel (acc(j, p, m), column p * W + j) in rows x W register
// tiles with the K loop innermost, so every tile's accumulators stay in
// registers for the whole reduction; the bias and the activation are applied
// to the finished tile while it is still in registers, before its one store.
//
// A long K (a tile's A rows past L1, e.g. BERT's FFN down-projection) is cut
// into blocks (Kernels.h, chooseKBlock): block(j, p, m, kb) is one block's
// register tile, and acc, a buffer over the whole output, sums the blocks in
// order with the block loop outermost, so that every row tile reuses a
// block of B from cache instead of streaming all of B; the bias and the
// activation are then applied once, by a pass over acc after the last block.
//
// "panels" weights (the layout the compiler packs, [P, K, W] zero padded
// past N) are read in place: a tile's panel row is W contiguous floats.
// "in_out" weights are read in place too when N is a multiple of W (a panel
// row is then a contiguous piece of a weight row); otherwise, and always for
// "out_in" (whose columns are strided), the weight is packed into zero
// padded panels first, once per call, in parallel.
//
//===----------------------------------------------------------------------===//

#include "codegen/halide/generator/Kernels.h"

namespace kiln::halide {

using namespace Halide;

BuiltKernel buildLinear(const KernelSpec &spec, const Target &target) {
  const std::string layout = spec.attr<std::string>("weight_layout", "out_in");
  const std::string activation = spec.attr<std::string>("activation", "none");
  const bool hasBias = spec.attr("has_bias", false);
  const int64_t m = spec.args[0].shape[0], k = spec.args[0].shape[1],
                n = spec.output().shape[1];

  BuiltKernel kernel;
  ImageParam x = makeInput(spec.args[0]), weight = makeInput(spec.args[1]);
  kernel.inputs = {x, weight};
  ImageParam bias;
  if (hasBias) {
    bias = makeInput(spec.args[2]);
    kernel.inputs.push_back(bias);
  }

  int givenWidth =
      layout == "panels" ? static_cast<int>(spec.args[1].shape[2]) : 0;
  GemmTiling tiling = chooseGemmTiling(target, givenWidth, m);
  const int width = tiling.panelWidth;

  Var j("j"), p("p"), kk("kk"), col("n"), row("m");
  // B as panels: panelB(j, k, p) = B[k, p * W + j], zero past N.
  Func panelB("panel_b");
  std::string packing = "weight panels read in place";
  if (layout == "panels") {
    panelB(j, kk, p) = weight(j, kk, p);
  } else {
    Expr column = p * width + j;
    Expr clamped = min(column, static_cast<int>(n - 1));
    Expr value = layout == "in_out" ? weight(clamped, kk) : weight(kk, clamped);
    if (n % width)
      value = select(column < static_cast<int>(n), value, 0.0f);
    panelB(j, kk, p) = value;
    if (layout == "out_in" || n % width) {
      panelB.compute_root()
          .bound(j, 0, width)
          .vectorize(j, tiling.vector)
          .parallel(p);
      packing = "weight packed into panels per call";
    } else {
      packing = "weight rows read in place";
    }
  }

  const int64_t kc = chooseKBlock(tiling, m, k);
  Func acc("acc"), block("acc_block");
  Var kb("kb");
  if (kc) {
    // block(j, p, m, kb): the product over the kc values of K block kb;
    // acc sums the blocks in order. Rows past M (acc is bounded to whole
    // row tiles) read row M - 1.
    RDom r(0, static_cast<int>(kc), "r");
    Expr kIndex = kb * static_cast<int>(kc) + r;
    block(j, p, row, kb) = 0.0f;
    block(j, p, row, kb) +=
        x(kIndex, min(row, static_cast<int>(m - 1))) * panelB(j, kIndex, p);
    RDom blocks(0, static_cast<int>(k / kc), "blocks");
    acc(j, p, row) = 0.0f;
    acc(j, p, row) += block(j, p, row, blocks);
  } else {
    RDom r(0, static_cast<int>(k), "r");
    acc(j, p, row) = 0.0f;
    acc(j, p, row) += x(r, row) * panelB(j, r, p);
  }

  Expr value = acc(col % width, col / width, row);
  if (hasBias)
    value += bias(col);
  Func out("linear");
  out(col, row) = applyActivation(activation, value);
  constrainOutput(out, spec.output());

  std::string summary =
      kc ? scheduleBlockedGemm(out, acc, block, tiling, n, m, k, kc)
         : scheduleGemm(out, acc, tiling, n, m, k, 1);
  kernel.output = out;
  kernel.scheduleSummary =
      "linear " + activation + ": " + summary + "; " + packing;
  return kernel;
}

} // namespace kiln::halide
