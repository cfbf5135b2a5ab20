//===- Linear.cpp - out = act(x . B + bias)
//---------------------------------===//
//
// A linear layer as one register-blocked GEMM. The product is accumulated
// per column panel (acc(j, p, m), column p * W + j) in rows x W register
// tiles with the K loop innermost, so every tile's accumulators stay in
// registers for the whole reduction; the bias and the activation are applied
// to the finished tile while it is still in registers, before its one store.
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

  RDom r(0, static_cast<int>(k), "r");
  Func acc("acc");
  acc(j, p, row) = 0.0f;
  acc(j, p, row) += x(r, row) * panelB(j, r, p);

  Expr value = acc(col % width, col / width, row);
  if (hasBias)
    value += bias(col);
  Func out("linear");
  out(col, row) = applyActivation(activation, value);
  constrainOutput(out, spec.output());

  std::string summary = scheduleGemm(out, acc, tiling, n, m, k, 1);
  kernel.output = out;
  kernel.scheduleSummary =
      "linear " + activation + ": " + summary + "; " + packing;
  return kernel;
}

} // namespace kiln::halide
