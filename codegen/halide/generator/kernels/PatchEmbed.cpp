//===- PatchEmbed.cpp - Conv2d with kernel = stride = patch, as one GEMM
//----===//
//
// out[b, q, e] = bias[e] + sum_{c, y, x} image[b, c, qy P + y, qx P + x]
//                                      * weight[e, c, y, x]
// with q = qy (W / P) + qx. It is a GEMM with M = patches, K = C P P and N =
// E whose A rows are read straight from the image (no im2col copy): the
// reduction is a 3-D domain (x innermost, contiguous in the image) and a
// row's patch origin is computed once per register tile row. The weight
// ([E, C, P, P], N outermost) is packed into zero padded panels once per
// call (it is small: E C P P floats) so that the register-blocked product
// of Linear.cpp reads contiguous panel rows; the bias is added to the
// finished tile.
//
//===----------------------------------------------------------------------===//

#include "codegen/halide/generator/Kernels.h"

namespace kiln::halide {

using namespace Halide;

BuiltKernel buildPatchEmbed(const KernelSpec &spec, const Target &target) {
  const bool hasBias = spec.attr("has_bias", false);
  const int patch = static_cast<int>(spec.attr<int64_t>("patch", 1));
  const KernelArg &imageArg = spec.args[0];
  const int64_t batch = imageArg.shape[0], channels = imageArg.shape[1],
                width = imageArg.shape[3];
  const int64_t embed = spec.args[1].shape[0];
  const int64_t patches = spec.output().shape[1];
  const int gridWidth = static_cast<int>(width / patch);

  BuiltKernel kernel;
  ImageParam image = makeInput(imageArg), weight = makeInput(spec.args[1]);
  kernel.inputs = {image, weight};
  ImageParam bias;
  if (hasBias) {
    bias = makeInput(spec.args[2]);
    kernel.inputs.push_back(bias);
  }

  GemmTiling tiling = chooseGemmTiling(target, 0, patches);
  const int panelWidth = tiling.panelWidth;

  Var j("j"), p("p"), px("px"), py("py"), c("c"), e("e"), q("q"), b("b");
  // panelB(j, x, y, c, p) = weight[p * W + j, c, y, x], zero past E.
  Expr column = p * panelWidth + j;
  Expr clamped =
      embed % panelWidth ? min(column, static_cast<int>(embed - 1)) : column;
  Expr value = weight(px, py, c, clamped);
  if (embed % panelWidth)
    value = select(column < static_cast<int>(embed), value, 0.0f);
  Func panelB("panel_b");
  panelB(j, px, py, c, p) = value;
  panelB.compute_root()
      .bound(j, 0, panelWidth)
      .vectorize(j, tiling.vector)
      .parallel(p);

  RDom r(0, patch, 0, patch, 0, static_cast<int>(channels), "r");
  Expr originX = (q % gridWidth) * patch, originY = (q / gridWidth) * patch;
  Func acc("acc");
  acc(j, p, q, b) = 0.0f;
  acc(j, p, q, b) +=
      image(originX + r.x, originY + r.y, r.z, b) * panelB(j, r.x, r.y, r.z, p);

  Expr result = acc(e % panelWidth, e / panelWidth, q, b);
  if (hasBias)
    result += bias(e);
  Func out("patch_embed");
  out(e, q, b) = result;
  constrainOutput(out, spec.output());

  std::string summary = scheduleGemm(out, acc, tiling, embed, patches,
                                     channels * patch * patch, batch);
  kernel.output = out;
  kernel.scheduleSummary =
      "patch_embed: " + summary + "; image rows read in place, weight packed";
  return kernel;
}

} // namespace kiln::halide
