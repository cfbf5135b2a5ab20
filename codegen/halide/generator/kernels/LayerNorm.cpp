//===- LayerNorm.cpp - (y - mean) / sqrt(var + eps) * weight + bias
//---------===//
//
// LayerNorm over the last axis, y = x (+ residual). Two passes over each row
// while it is in L1, as in the runtime's kernel: the mean summed in double
// (rows with a large mean lose nothing to cancellation), then the biased
// variance as the float sum of squared deviations. Both sums run over
// vector-wide lanes (vectorizable, an order fixed by D) and fold the lanes
// at the end. The residual add is recomputed per pass rather than stored: it
// is one add on data already in L1. Rows are split into parallel tasks only
// when the tensor is big enough to pay for the threads.
//
//===----------------------------------------------------------------------===//

#include "codegen/halide/generator/Kernels.h"

namespace kiln::halide {

using namespace Halide;

BuiltKernel buildLayerNorm(const KernelSpec &spec, const Target &target) {
  const bool hasResidual = spec.attr("has_residual", false);
  const float epsilon = static_cast<float>(spec.attr("epsilon", 1e-5));
  const int64_t rows = spec.args[0].shape[0], d = spec.args[0].shape[1];

  BuiltKernel kernel;
  size_t next = 0;
  ImageParam x = makeInput(spec.args[next++]);
  kernel.inputs.push_back(x);
  ImageParam residual;
  if (hasResidual) {
    residual = makeInput(spec.args[next++]);
    kernel.inputs.push_back(residual);
  }
  ImageParam weight = makeInput(spec.args[next++]);
  ImageParam bias = makeInput(spec.args[next++]);
  kernel.inputs.push_back(weight);
  kernel.inputs.push_back(bias);

  const int vector = vectorWidthF32(target);
  Var col("d"), row("m");
  Func y("y");
  y(col, row) = hasResidual ? x(col, row) + residual(col, row) : x(col, row);

  const int lanes = reductionLanes(d, vector);
  RowReduction sum =
      reduceRows(y, d, lanes, ReduceOp::Sum, Float(64), "mean_sum");
  // The mean in two floats: the deviations are then exact up to one
  // rounding.
  Expr meanD = Expr(sum.total(row)) / Expr(static_cast<double>(d));
  Func meanHi("mean_hi"), meanLo("mean_lo");
  meanHi(row) = cast<float>(meanD);
  meanLo(row) = cast<float>(meanD - cast<double>(meanHi(row)));
  Func deviation("deviation");
  // strict_float: the simplifier would fold the two subtractions into one
  // (of the rounded mean).
  deviation(col, row) = strict_float((y(col, row) - meanHi(row)) - meanLo(row));
  Func square("square");
  square(col, row) = deviation(col, row) * deviation(col, row);
  RowReduction squares =
      reduceRows(square, d, lanes, ReduceOp::Sum, Float(32), "var_sum");
  Func invStd("inv_std");
  invStd(row) =
      1.0f / sqrt(squares.total(row) / static_cast<float>(d) + epsilon);

  Func out("layer_norm");
  out(col, row) = deviation(col, row) * invStd(row) * weight(col) + bias(col);
  constrainOutput(out, spec.output());

  std::string summary;
  Var rowLoop = scheduleRows(out, rows, d, vector, summary);
  scheduleRowReduction(sum, out, rowLoop, lanes);
  scheduleRowReduction(squares, out, rowLoop, lanes);
  foldLanesAsTree(sum);
  foldLanesAsTree(squares);
  meanHi.compute_at(out, rowLoop);
  meanLo.compute_at(out, rowLoop);
  invStd.compute_at(out, rowLoop);

  kernel.output = out;
  kernel.scheduleSummary = "layer_norm: two passes per row (double mean, "
                           "float variance), " +
                           summary;
  return kernel;
}

} // namespace kiln::halide
