//===- Elementwise.cpp - a chain of elementwise ops on broadcast inputs
//-----===//
//
// The spec's program becomes one Halide expression per output element (each
// step an Expr, later steps referring to earlier ones), so the whole chain
// runs in registers with one load per input and one store. An input's
// dimensions of size 1 broadcast (index 0). The transcendental ops use the
// accurate math of Kernels.cpp (shared with linear's activations). The
// innermost dimension is vectorized (masked tail); the outer dimensions are
// fused and split into parallel tasks when the tensor is big enough.
//
//===----------------------------------------------------------------------===//

#include "codegen/halide/generator/Kernels.h"

namespace kiln::halide {

using namespace Halide;

namespace {

Expr applyOp(const std::string &op, const std::vector<Expr> &operands) {
  if (op == "add")
    return operands[0] + operands[1];
  if (op == "sub")
    return operands[0] - operands[1];
  if (op == "mul")
    return operands[0] * operands[1];
  if (op == "div")
    return operands[0] / operands[1];
  if (op == "max")
    return max(operands[0], operands[1]);
  if (op == "min")
    return min(operands[0], operands[1]);
  const Expr &x = operands[0];
  if (op == "neg")
    return -x;
  if (op == "exp")
    return accurateExp(x);
  if (op == "erf")
    return accurateErf(x);
  if (op == "sqrt")
    return sqrt(x);
  if (op == "rsqrt")
    return 1.0f / sqrt(x);
  // tanh, gelu, gelu_tanh, quick_gelu, silu, relu: the activations.
  return applyActivation(op, x);
}

} // namespace

BuiltKernel buildElementwise(const KernelSpec &spec, const Target &target) {
  const KernelArg &outArg = spec.output();
  const int rank = static_cast<int>(outArg.shape.size());
  const size_t inputCount = spec.args.size() - 1;

  std::vector<Var> vars;
  for (int d = 0; d < rank; ++d)
    vars.push_back(Var("x" + std::to_string(d)));

  BuiltKernel kernel;
  // values: the inputs, then the steps' results.
  std::vector<Expr> values;
  for (size_t i = 0; i < inputCount; ++i) {
    const KernelArg &arg = spec.args[i];
    ImageParam input = makeInput(arg);
    kernel.inputs.push_back(input);
    std::vector<Expr> index;
    for (int d = 0; d < rank; ++d) {
      // Halide dimension d is the spec's dimension rank - 1 - d.
      bool broadcast =
          arg.shape[rank - 1 - d] == 1 && outArg.shape[rank - 1 - d] != 1;
      index.push_back(broadcast ? Expr(0) : Expr(vars[d]));
    }
    values.push_back(input(index));
  }
  for (const nlohmann::json &step : spec.attrs["program"]) {
    std::string op = step[0];
    if (op == "const") {
      values.push_back(Expr(step[1].get<float>()));
      continue;
    }
    std::vector<Expr> operands;
    for (size_t o = 1; o < step.size(); ++o)
      operands.push_back(values[step[o].get<size_t>()]);
    values.push_back(applyOp(op, operands));
  }

  Func out("elementwise");
  out(vars) = values.back();
  constrainOutput(out, outArg);

  const int vector = vectorWidthF32(target);
  std::string summary = "serial";
  int64_t elements = 1;
  for (int64_t extent : outArg.shape)
    elements *= extent;
  if (rank > 0) {
    int64_t inner = outArg.shape[rank - 1];
    if (inner >= vector)
      out.vectorize(vars[0], vector,
                    inner % vector ? TailStrategy::GuardWithIf
                                   : TailStrategy::Auto);
    // The outer dimensions as one loop of rows.
    Var rows = rank > 1 ? vars[1] : Var();
    for (int d = 2; d < rank; ++d) {
      Var fused("rows" + std::to_string(d));
      out.fuse(rows, vars[d], fused);
      rows = fused;
    }
    const int64_t perTask = 64 * 1024;
    if (elements >= 2 * perTask) {
      Var task("task");
      if (rank > 1) {
        int64_t rowsPerTask = std::max<int64_t>(1, perTask / inner);
        out.split(rows, task, rows, static_cast<int>(rowsPerTask),
                  TailStrategy::GuardWithIf);
      } else {
        out.split(vars[0], task, vars[0], static_cast<int>(perTask),
                  TailStrategy::GuardWithIf);
      }
      out.parallel(task);
      summary = "parallel tasks of ~64K elements";
    }
  }

  kernel.output = out;
  kernel.scheduleSummary =
      "elementwise (" + std::to_string(spec.attrs["program"].size()) +
      " steps fused): " + std::to_string(vector) + "-lane vectors, " + summary;
  return kernel;
}

} // namespace kiln::halide
