//===- Softmax.cpp - softmax over the last axis
//-----------------------------===//
//
// Per row, while it is in L1: the maximum, exp(x - max) stored once (the
// exponentials are the expensive part), their sum over vector-wide lanes
// (an order fixed by N), then one division per element. Halide's f32 exp is
// accurate to the last bit and vectorizes. Rows are split into parallel
// tasks only when the tensor is big enough to pay for the threads.
//
//===----------------------------------------------------------------------===//

#include "codegen/halide/generator/Kernels.h"

namespace kiln::halide {

using namespace Halide;

BuiltKernel buildSoftmax(const KernelSpec &spec, const Target &target) {
  const int64_t rows = spec.args[0].shape[0], n = spec.args[0].shape[1];

  BuiltKernel kernel;
  ImageParam x = makeInput(spec.args[0]);
  kernel.inputs = {x};

  const int vector = vectorWidthF32(target);
  Var col("n"), row("m");
  Func input("input");
  input(col, row) = x(col, row);
  RowReduction rowMax =
      reduceRows(input, n, vector, ReduceOp::Max, Float(32), "row_max");
  Func exps("exps");
  exps(col, row) = accurateExp(x(col, row) - rowMax.total(row));
  RowReduction rowSum =
      reduceRows(exps, n, vector, ReduceOp::Sum, Float(32), "row_sum");

  Func out("softmax");
  out(col, row) = exps(col, row) / rowSum.total(row);
  constrainOutput(out, spec.output());

  std::string summary;
  Var rowLoop = scheduleRows(out, rows, n, vector, summary);
  scheduleRowReduction(rowMax, out, rowLoop, vector);
  scheduleRowReduction(rowSum, out, rowLoop, vector);
  exps.compute_at(out, rowLoop);
  if (n >= vector)
    exps.vectorize(exps.args()[0], vector,
                   n % vector ? TailStrategy::GuardWithIf : TailStrategy::Auto);

  kernel.output = out;
  kernel.scheduleSummary =
      "softmax: max, stored exps, sum, divide per row, " + summary;
  return kernel;
}

} // namespace kiln::halide
