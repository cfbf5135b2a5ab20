//===- Kernels.cpp - Dispatch to the kernel families, shared helpers ------===//

#include "codegen/halide/generator/Kernels.h"

// Only the polynomial coefficients (plain constants): the generated code
// rounds like the runtime's kernels.
#include "runtime/kernels/VectorMath.h"

namespace kiln::halide {

using namespace Halide;

std::vector<Argument> BuiltKernel::arguments() const {
  std::vector<Argument> args(inputs.begin(), inputs.end());
  return args;
}

Expected<BuiltKernel> buildKernel(const KernelSpec &spec,
                                  const Target &target) {
  if (Error error = checkKernelSpec(spec))
    return error;
  try {
    if (spec.op == "linear")
      return buildLinear(spec, target);
    if (spec.op == "matmul")
      return buildMatmul(spec, target);
    if (spec.op == "attention")
      return buildAttention(spec, target);
    if (spec.op == "layer_norm")
      return buildLayerNorm(spec, target);
    if (spec.op == "rms_norm")
      return buildRmsNorm(spec, target);
    if (spec.op == "softmax")
      return buildSoftmax(spec, target);
    if (spec.op == "patch_embed")
      return buildPatchEmbed(spec, target);
    if (spec.op == "elementwise")
      return buildElementwise(spec, target);
  } catch (const Halide::Error &error) {
    return makeError("Halide rejected the ", spec.op,
                     " kernel: ", error.what());
  }
  return makeError("kernel spec: op: unknown '", spec.op, "'");
}

ImageParam makeInput(const KernelArg &arg) {
  Type type = arg.dtype == DType::I64 ? Int(64) : Float(32);
  int rank = static_cast<int>(arg.shape.size());
  ImageParam param(type, rank, arg.name);
  for (int d = 0; d < rank; ++d)
    param.dim(d).set_bounds(0, static_cast<int>(arg.shape[rank - 1 - d]));
  return param;
}

void constrainOutput(Func output, const KernelArg &arg) {
  int rank = static_cast<int>(arg.shape.size());
  OutputImageParam buffer = output.output_buffer();
  for (int d = 0; d < rank; ++d)
    buffer.dim(d).set_bounds(0, static_cast<int>(arg.shape[rank - 1 - d]));
}

int vectorWidthF32(const Target &target) {
  return target.has_feature(Target::AVX512) ? 16 : 8;
}

//===----------------------------------------------------------------------===//
// Accurate f32 math
//===----------------------------------------------------------------------===//

namespace {

namespace vm = kiln::kernels::detail;

/// c[0] + c[1] t + ... + c[n - 1] t^(n - 1), by Horner.
Expr horner(const Expr &t, const float *c, int n) {
  Expr y = c[n - 1];
  for (int i = n - 2; i >= 0; --i)
    y = y * t + c[i];
  return y;
}

/// The rounding error of a * b (a * b = hi + lo exactly), by Veltkamp
/// splitting: Halide has no fma Expr. strict_float keeps the simplifier
/// from folding the compensation away.
Expr productError(const Expr &a, const Expr &b, const Expr &hi) {
  auto split = [](const Expr &x, Expr &high, Expr &low) {
    Expr c = x * 4097.0f;
    high = c - (c - x);
    low = x - high;
  };
  Expr ah, al, bh, bl;
  split(a, ah, al);
  split(b, bh, bl);
  return strict_float(((ah * bh - hi) + ah * bl + al * bh) + al * bl);
}

/// erf(z) for |z| < 1, t = z^2 (c0 in two parts: exact near 0).
Expr erfSmall(const Expr &z, const Expr &t) {
  Expr q = horner(t, vm::kErfP, 6) * t + vm::kErfC0Lo;
  return z * vm::kErfC0Hi + z * q;
}

/// erfc(a) / exp(-a^2) for a >= 0.5 (the tail's rational part).
Expr erfcTailRatio(const Expr &a) {
  Expr u = 1.0f / (vm::kErfcP * min(a, vm::kErfcMax) + 1.0f);
  return horner(u, vm::kErfcR, 8) * u;
}

/// x / (1 + exp(nz) (1 + nzLo)): x * sigmoid(-(nz + nzLo)), nzLo a
/// correction of exp's argument far below its last bit.
Expr timesSigmoid(const Expr &x, const Expr &nz, const Expr &nzLo = Expr()) {
  Expr e = accurateExp(nz);
  if (nzLo.defined())
    e = e + e * nzLo;
  return x / (e + 1.0f);
}

} // namespace

Expr accurateExp(const Expr &x) {
  // Halide's exp loses relative accuracy for large |x| (its reduction of x
  // by n ln2 is not exact enough there), which gelu's tail (exp(-x^2 / 2))
  // needs: x = n ln2 + r with ln2 in two parts (n * kLn2Hi exact), exp(r) =
  // 1 + r + r^2 Q(r), times 2^n built from its exponent bits.
  Expr clamped = clamp(x, vm::kExpLow, vm::kExpHigh);
  Expr n = round(clamped * vm::kLog2e);
  Expr r = strict_float((clamped - n * vm::kLn2Hi) - n * vm::kLn2Lo);
  Expr y = horner(r, vm::kExpCephes.c, 6) * (r * r) + r + 1.0f;
  Expr scale = reinterpret(Float(32), (cast<int>(n) + 127) << 23);
  return select(x < vm::kExpLow, 0.0f, y * scale);
}

Expr accurateErf(const Expr &x) {
  Expr a = abs(x), t = x * x;
  // 1 - erfc(a): the error of exp(-t) from the rounding of t is damped by
  // the subtraction, no compensation needed.
  Expr tail = 1.0f - accurateExp(-t) * erfcTailRatio(a);
  return select(a < 1.0f, erfSmall(x, t), select(x < 0.0f, -tail, tail));
}

Expr accurateTanh(const Expr &x) {
  Expr a = abs(x), t = x * x;
  Expr small = x + x * t * horner(t, vm::kTanhP, 5);
  Expr big = 1.0f - 2.0f / (accurateExp(a + a) + 1.0f);
  return select(a < vm::kTanhSmall, small, select(x < 0.0f, -big, big));
}

Expr applyActivation(const std::string &name, const Expr &x) {
  if (name == "none")
    return x;
  if (name == "relu")
    return max(x, 0.0f);
  if (name == "tanh")
    return accurateTanh(x);
  if (name == "silu")
    return timesSigmoid(x, -x);
  if (name == "quick_gelu") {
    // 1.702 in two parts, and the rounding of 1.702 x: exp's argument is
    // large for large |x|, where its rounding would cost relative accuracy.
    const float c = 1.702f, cLo = -2.19345093e-08f; // 1.702 - c
    Expr nz = x * -c;
    Expr nzLo = productError(x, Expr(-c), nz) - x * cLo;
    return timesSigmoid(x, nz, nzLo);
  }
  if (name == "gelu_tanh") {
    // 0.5 x (1 + tanh u) = x sigmoid(2u): no cancellation for negative x.
    const float k1 = 1.59576912f,
                k2 = 0.0713548162f; // 2 sqrt(2/pi) (1, 0.044715)
    return timesSigmoid(x, -(x * (x * x * k2 + k1)));
  }
  if (name == "gelu") {
    // gelu(x) = 0.5 x erfc(z), z = -x / sqrt 2, z^2 = x^2 / 2 in two parts
    // (exp(-z^2) keeps its relative accuracy far into the negative tail).
    Expr z = x * -0.707106781f;
    Expr xx = x * x;
    Expr tHi = xx * 0.5f, tLo = productError(x, x, xx) * 0.5f;
    Expr e = accurateExp(-tHi);
    e = e - e * tLo;
    Expr ratio = erfcTailRatio(abs(z));
    Expr erfc =
        select(z >= 0.5f, e * ratio,
               select(z <= -1.0f, 2.0f - e * ratio, 1.0f - erfSmall(z, tHi)));
    return x * 0.5f * erfc;
  }
  throw CompileError("unknown activation '" + name + "'");
}

//===----------------------------------------------------------------------===//
// The register-blocked product
//===----------------------------------------------------------------------===//

GemmTiling chooseGemmTiling(const Target &target, int panelWidth, int64_t m) {
  GemmTiling tiling;
  tiling.vector = vectorWidthF32(target);
  tiling.panelWidth = panelWidth > 0 ? panelWidth : 2 * tiling.vector;
  // Vectors must tile the panel: the largest power of two dividing it.
  while (tiling.panelWidth % tiling.vector)
    tiling.vector /= 2;
  // 32 (AVX-512) or 16 (AVX2) vector registers: the accumulators take about
  // three quarters, the rest holds the panel row and the broadcast.
  int registers = target.has_feature(Target::AVX512) ? 24 : 12;
  int vectorsPerRow = tiling.panelWidth / tiling.vector;
  tiling.rows = std::max(1, registers / vectorsPerRow);
  tiling.rows = static_cast<int>(std::min<int64_t>(tiling.rows, m));
  return tiling;
}

std::string scheduleGemm(Func out, Func acc, const GemmTiling &tiling,
                         int64_t n, int64_t m, int64_t k, int64_t outerExtent) {
  std::vector<Var> outArgs = out.args(), accArgs = acc.args();
  Var col = outArgs[0], row = outArgs[1];
  Var panel("panel"), lane("lane"), laneVector("lane_vector"),
      rowTile("row_tile"), rowInTile("row_in_tile");
  const int width = tiling.panelWidth, rows = tiling.rows;
  const int64_t panels = (n + width - 1) / width;
  // A tile of few rows (decode) has too few accumulators to hide the FMA
  // latency (one chain per vector): it spans several panels instead, enough
  // for 8 chains, as many as divide the panels (acc reads whole panels).
  const int vectorsPerRow = width / tiling.vector;
  int tilePanels =
      std::min(4, (8 + rows * vectorsPerRow - 1) / (rows * vectorsPerRow));
  while (panels % tilePanels)
    --tilePanels;
  // A partial last panel is guarded (masked stores); the product itself
  // runs over whole panels (acc is bounded to them), which the padded
  // panels make valid.
  out.split(col, panel, lane, width * tilePanels,
            n % width ? TailStrategy::GuardWithIf : TailStrategy::Auto)
      .split(row, rowTile, rowInTile, rows, TailStrategy::ShiftInwards)
      .split(lane, laneVector, lane, tiling.vector)
      .reorder(lane, laneVector, rowInTile, panel, rowTile)
      .vectorize(lane)
      .unroll(laneVector)
      .unroll(rowInTile);

  int64_t rowTiles = (m + rows - 1) / rows * outerExtent;
  const int64_t panelTiles = panels / tilePanels;
  double flops = 2.0 * double(m) * double(n) * double(k) * double(outerExtent);
  const bool overRows = rowTiles >= 8 || rowTiles >= panelTiles;
  std::string parallel = "serial";
  // Over panels, tasks are independent streams of B: worth it from N K ~ 1M
  // (decode); row tiles share B and need twice the work.
  if (flops >= (overRows ? 4e6 : 2e6)) {
    if (overRows) {
      // Row tiles (and batches) in parallel: each task keeps its A rows in
      // L1 and streams the panels.
      Var task = rowTile;
      for (size_t d = 2; d < outArgs.size(); ++d) {
        Var fused("task_" + std::to_string(d));
        out.fuse(task, outArgs[d], fused);
        task = fused;
      }
      out.parallel(task);
      parallel = "parallel over row tiles";
    } else {
      // Few rows (decode): panels in parallel, a few per task.
      int64_t perTask = std::max<int64_t>(1, panelTiles / 16);
      Var panelTask("panel_task");
      out.split(panel, panelTask, panel, static_cast<int>(perTask),
                TailStrategy::GuardWithIf)
          .reorder(lane, laneVector, rowInTile, panel, rowTile, panelTask)
          .parallel(panelTask);
      parallel = "parallel over panel groups";
    }
  }

  Var accLane = accArgs[0], accPanel = accArgs[1], accRow = accArgs[2];
  Var accVector("acc_vector");
  acc.compute_at(out, panel)
      .bound(accLane, 0, width)
      .split(accLane, accVector, accLane, tiling.vector)
      .vectorize(accLane)
      .unroll(accVector)
      .unroll(accRow);
  std::vector<VarOrRVar> order = {accLane, accVector, accRow};
  if (tilePanels > 1) {
    acc.bound_extent(accPanel, tilePanels).unroll(accPanel);
    order.insert(order.begin() + 2, accPanel);
  }
  for (const RVar &r : acc.rvars(0))
    order.push_back(r);
  Stage update = acc.update();
  update.split(accLane, accVector, accLane, tiling.vector)
      .reorder(order)
      .vectorize(accLane)
      .unroll(accVector)
      .unroll(accRow);
  if (tilePanels > 1)
    update.unroll(accPanel);
  return "gemm: " + std::to_string(rows) + "x" +
         std::to_string(width * tilePanels) + " register tiles (" +
         std::to_string(tiling.vector) + "-lane vectors), K innermost, " +
         parallel;
}

int64_t chooseKBlock(const GemmTiling &tiling, int64_t m, int64_t k) {
  // Unblocked, every row tile streams all of B, and its A rows (rows x K)
  // stay in L1 only up to 48 KiB (K = 1024 on AVX-512); decode (one row
  // tile) has no B to reuse.
  const int64_t bytes = 4;
  if (k * tiling.rows * bytes <= 48 * 1024 || m < 2 * tiling.rows)
    return 0;
  // The deepest block up to 512 that divides K (all blocks alike): a panel's
  // piece of a block (kc x W, 64 KiB) and the block of A (M x kc, by row
  // groups) stay in L2. No blocking without a divisor in [256, 512].
  for (int64_t kc = 512; kc >= 256; --kc)
    if (k % kc == 0)
      return kc;
  return 0;
}

std::string scheduleBlockedGemm(Func out, Func acc, Func block,
                                const GemmTiling &tiling, int64_t n, int64_t m,
                                int64_t k, int64_t kc) {
  const int width = tiling.panelWidth, rows = tiling.rows;
  const int panels = static_cast<int>((n + width - 1) / width);
  const int rowTiles = static_cast<int>((m + rows - 1) / rows);
  std::vector<Var> accArgs = acc.args();
  Var j = accArgs[0], p = accArgs[1], row = accArgs[2];
  Var vec("acc_vector"), rowTile("row_tile"), rowInTile("row_in_tile");

  // acc over whole panels and whole row tiles (block clamps the rows of A).
  acc.compute_root()
      .bound(j, 0, width)
      .bound(p, 0, panels)
      .bound(row, 0, rowTiles * rows)
      .vectorize(j, tiling.vector);
  // The K blocks in order, outermost: per block, the panels in parallel and
  // per panel the row tiles, which reuse the panel's piece of the block
  // (kc x W) from L1/L2 while the block of A (M x kc) comes from L2: B is
  // read once from memory, where unblocked every row tile streams it.
  RVar kb = acc.rvars(0)[0];
  std::string parallel = "serial";
  Stage update = acc.update();
  // Many rows: the row tiles in groups whose block of A fits half of L2 (B's
  // block is then read once per group, from L3).
  const int64_t groupTiles = std::max<int64_t>(1, 512 * 1024 / (rows * kc * 4));
  Var rowGroup("row_group");
  update.split(row, rowTile, rowInTile, rows, TailStrategy::RoundUp)
      .split(j, vec, j, tiling.vector);
  if (rowTiles > groupTiles) {
    int64_t groups = (rowTiles + groupTiles - 1) / groupTiles;
    update
        .split(rowTile, rowGroup, rowTile,
               static_cast<int>((rowTiles + groups - 1) / groups),
               TailStrategy::GuardWithIf)
        .reorder(j, vec, rowInTile, rowTile, p, rowGroup, kb);
  } else {
    update.reorder(j, vec, rowInTile, rowTile, p, kb);
  }
  update.vectorize(j).unroll(vec).unroll(rowInTile);
  if (2.0 * double(m) * double(n) * double(k) >= 4e6) {
    update.parallel(p);
    parallel = "panels in parallel";
  }

  std::vector<Var> blockArgs = block.args();
  Var bj = blockArgs[0], bRow = blockArgs[2];
  Var bVec("block_vector");
  block.compute_at(acc, rowTile)
      .bound(bj, 0, width)
      .split(bj, bVec, bj, tiling.vector)
      .vectorize(bj)
      .unroll(bVec)
      .unroll(bRow);
  std::vector<VarOrRVar> order = {bj, bVec, bRow};
  for (const RVar &r : block.rvars(0))
    order.push_back(r);
  block.update()
      .split(bj, bVec, bj, tiling.vector)
      .reorder(order)
      .vectorize(bj)
      .unroll(bVec)
      .unroll(bRow);

  // The bias and activation, once, after the last block: a pass over acc by
  // panels, rows in parallel tasks of at least 32K elements.
  std::vector<Var> outArgs = out.args();
  Var col = outArgs[0], outRow = outArgs[1];
  Var panel("panel"), lane("lane"), laneVector("lane_vector"), task("task");
  out.split(col, panel, lane, width,
            n % width ? TailStrategy::GuardWithIf : TailStrategy::Auto)
      .split(lane, laneVector, lane, tiling.vector)
      .vectorize(lane)
      .unroll(laneVector);
  const int64_t rowsPerTask = std::max<int64_t>(1, 32 * 1024 / n);
  if (m >= 2 * rowsPerTask)
    out.split(outRow, task, outRow, static_cast<int>(rowsPerTask),
              TailStrategy::GuardWithIf)
        .parallel(task);
  return "gemm: " + std::to_string(rows) + "x" + std::to_string(width) +
         " register tiles (" + std::to_string(tiling.vector) +
         "-lane vectors), K in blocks of " + std::to_string(kc) +
         " outermost, " + parallel + " per block";
}

//===----------------------------------------------------------------------===//
// Row-wise reductions
//===----------------------------------------------------------------------===//

RowReduction reduceRows(Func f, int64_t columns, int lanes, ReduceOp op,
                        Type type, const std::string &name) {
  Var l("l"), row("row");
  auto fold = [&](const Expr &a, const Expr &b) {
    return op == ReduceOp::Sum ? a + b : max(a, b);
  };
  Expr init = op == ReduceOp::Sum ? Internal::make_zero(type) : type.min();
  auto value = [&](const Expr &column) { return cast(type, f(column, row)); };
  RowReduction reduction;
  int64_t chunks = columns / lanes, tail = columns - chunks * lanes;
  reduction.total = Func(name);
  reduction.total(row) = init;
  if (chunks > 0) {
    reduction.partial = Func(name + "_lanes");
    RDom chunk(0, static_cast<int>(chunks), name + "_chunk");
    reduction.partial(l, row) = init;
    reduction.partial(l, row) =
        fold(reduction.partial(l, row), value(chunk * lanes + l));
    RDom lane(0, lanes, name + "_lane");
    reduction.total(row) =
        fold(reduction.total(row), reduction.partial(lane, row));
  }
  if (tail > 0) {
    RDom rest(static_cast<int>(chunks * lanes), static_cast<int>(tail),
              name + "_tail");
    reduction.total(row) = fold(reduction.total(row), value(rest));
  }
  return reduction;
}

void scheduleRowReduction(RowReduction reduction, Func out, const Var &rowVar,
                          int lanes) {
  reduction.total.compute_at(out, rowVar);
  if (reduction.partial.defined()) {
    Var l = reduction.partial.args()[0];
    reduction.partial.compute_at(out, rowVar).vectorize(l);
    reduction.partial.update().vectorize(l);
  }
}

int reductionLanes(int64_t columns, int vector, int chains) {
  return columns >= int64_t(chains) * vector ? chains * vector : vector;
}

void foldLanesAsTree(RowReduction reduction) {
  if (reduction.partial.defined())
    reduction.total.update(0).atomic().vectorize(reduction.total.rvars(0)[0]);
}

Var scheduleRows(Func out, int64_t rows, int64_t columns, int vector,
                 std::string &summary) {
  Var column = out.args()[0], row = out.args()[1];
  if (columns >= vector)
    out.vectorize(column, vector,
                  columns % vector ? TailStrategy::GuardWithIf
                                   : TailStrategy::Auto);
  // Tasks of at least 32K elements: less is not worth a thread's wake-up.
  int64_t rowsPerTask = std::max<int64_t>(1, (32 * 1024) / columns);
  if (rows >= 2 * rowsPerTask) {
    Var task("task");
    out.split(row, task, row, static_cast<int>(rowsPerTask),
              TailStrategy::GuardWithIf)
        .parallel(task);
    summary = "rows in parallel tasks of " + std::to_string(rowsPerTask);
  } else {
    summary = "rows serial";
  }
  summary += ", " + std::to_string(vector) + "-lane vectors";
  return row;
}

} // namespace kiln::halide
