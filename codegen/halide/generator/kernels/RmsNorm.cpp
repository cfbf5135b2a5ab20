//===- RmsNorm.cpp - x / sqrt(mean(x^2) + eps) * weight
//---------------------===//
//
// RMSNorm over the last axis (T5, LLaMA): one vectorized pass summing x^2
// in float over vector-wide lanes (an order fixed by D), then the scaled
// row, both while the row is in L1. Rows are split into parallel tasks only
// when the tensor is big enough to pay for the threads.
//
//===----------------------------------------------------------------------===//

#include "codegen/halide/generator/Kernels.h"

namespace kiln::halide {

using namespace Halide;

BuiltKernel buildRmsNorm(const KernelSpec &spec, const Target &target) {
  const float epsilon = static_cast<float>(spec.attr("epsilon", 1e-6));
  const int64_t rows = spec.args[0].shape[0], d = spec.args[0].shape[1];

  BuiltKernel kernel;
  ImageParam x = makeInput(spec.args[0]), weight = makeInput(spec.args[1]);
  kernel.inputs = {x, weight};

  const int vector = vectorWidthF32(target);
  Var col("d"), row("m");
  Func square("square");
  square(col, row) = x(col, row) * x(col, row);
  const int lanes = reductionLanes(d, vector);
  RowReduction squares =
      reduceRows(square, d, lanes, ReduceOp::Sum, Float(32), "square_sum");
  Func invRms("inv_rms");
  invRms(row) =
      1.0f / sqrt(squares.total(row) / static_cast<float>(d) + epsilon);

  Func out("rms_norm");
  out(col, row) = x(col, row) * invRms(row) * weight(col);
  constrainOutput(out, spec.output());

  std::string summary;
  Var rowLoop = scheduleRows(out, rows, d, vector, summary);
  scheduleRowReduction(squares, out, rowLoop, lanes);
  foldLanesAsTree(squares);
  invRms.compute_at(out, rowLoop);

  kernel.output = out;
  kernel.scheduleSummary = "rms_norm: one sum pass per row, " + summary;
  return kernel;
}

} // namespace kiln::halide
