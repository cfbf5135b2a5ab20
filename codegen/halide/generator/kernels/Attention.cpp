//===- Attention.cpp - softmax(scale Q K^T + mask) V per (batch, head) ----===//
//
// Blocked two-pass attention built from two register-blocked GEMMs.
//
// Queries are taken in groups of R rows (query i is row i % R of group
// i / R; the group is a dimension of every intermediate Func, so the unrolled
// rows of a group share one key range). Tasks of (batch, head, block of
// groups) run in parallel. Per task, the keys the block can see are packed
// transposed, kT(key, d): a score tile then reads keys as the vector lane.
// Per group:
//   1. scores S(key, row) = Q(row) . K(key), a GEMM with R rows x KW keys of
//      accumulators in registers (KW/lanes vectors per row, Q broadcast) and
//      D innermost, over the group's visible keys rounded up to KW;
//   2. per row, the maximum of the visible scores, vectorized over keys
//      (lane-wise maxima over whole vectors, then the lanes);
//   3. P(key, row) = exp(S - max) (0 for hidden keys) and their sum, again
//      lane-wise then across lanes;
//   4. O = P V, a GEMM with R rows x DW value columns in registers (V rows
//      loaded as vectors, P broadcast) and the keys innermost, divided by the
//      sum at the end.
// The key ranges come from the mask: end(i) = Sk, Sk - Sq + i + 1 (causal) or
// min(lengths[b], Sk) (padding), and a group's range is that of its last row
// (the largest). Every reduction over keys carries its range as an RDom
// predicate, which Halide turns into the loop bound (the P V predicate is on
// whole vectors of keys: Halide cannot prove a bound read from lengths
// redundant inside the trimmed loop and keeps it as a branch, which must not
// sit in the innermost loop). Bounds inference sizes S, P and kT from the
// causal bounds (affine in the query), so key tiles past a group's diagonal
// are neither packed nor computed; it cannot see through the lengths load, so
// with padding S and P cover all Sk keys and only the max, the sum and P V
// stop at lengths[b]. Hidden keys inside a computed range get exactly zero
// weight. A batch item with lengths[b] <= 0 sees every key with the score 0
// (the reference's scores are all the lowest float then): its rows are the
// mean of V.
//
// R is 4 to 6 (whichever pads Sq least): 6 x 4 (AVX-512) accumulators fill
// the registers best, 4 rows divide the common power-of-two lengths and give
// the causal diagonal a finer step. The per-group buffers are stored per
// task (one allocation per task, not per group).
//
// Two passes over a group's keys rather than an online (running max)
// softmax: Halide has no natural way to rescale an accumulator across an
// update's iterations, and a group's scores (R x Sk) stay in L1 between the
// passes. The order of every sum depends only on the shape and the mask (not
// on the task split), so the results do not depend on the thread count.
//
//===----------------------------------------------------------------------===//

#include "codegen/halide/generator/Kernels.h"

namespace kiln::halide {

using namespace Halide;

BuiltKernel buildAttention(const KernelSpec &spec, const Target &target) {
  const std::string mask = spec.attr<std::string>("mask", "none");
  const float scale = static_cast<float>(spec.attrs["scale"].get<double>());
  const KernelArg &queryArg = spec.args[0], &keyArg = spec.args[1],
                  &valueArg = spec.args[2];
  const int64_t batch = queryArg.shape[0], heads = queryArg.shape[1],
                sq = queryArg.shape[2], d = queryArg.shape[3];
  const int64_t sk = keyArg.shape[2], dv = valueArg.shape[3];

  BuiltKernel kernel;
  ImageParam query = makeInput(queryArg), key = makeInput(keyArg),
             value = makeInput(valueArg);
  kernel.inputs = {query, key, value};
  ImageParam lengths;
  if (mask == "padding") {
    lengths = makeInput(spec.args[3]);
    kernel.inputs.push_back(lengths);
  }

  // Register tiles. AVX-512 (32 registers): up to 6 rows x 4 vectors of
  // accumulators, 4 for the loaded vectors and one broadcast. AVX2 (16): up
  // to 6 rows x 2 vectors.
  const int lanes = vectorWidthF32(target);
  const bool avx512 = target.has_feature(Target::AVX512);
  // Rows per group: 4 to 6, whichever pads Sq the least (rows past Sq are
  // computed and dropped), the most on a tie; 4 x 4 accumulators still
  // keep both FMA pipes busy.
  int rows = static_cast<int>(std::min<int64_t>(sq, 6));
  for (int candidate = rows - 1; candidate >= 4; --candidate)
    if ((sq + candidate - 1) / candidate * candidate <
        (sq + rows - 1) / rows * rows)
      rows = candidate;
  int keyTile = (avx512 ? 4 : 2) * lanes;
  if (getenv("KT")) keyTile = atoi(getenv("KT"));
  if (getenv("ROWS")) rows = atoi(getenv("ROWS"));
  // P V tiles divide Dv exactly (V's columns past Dv are not there to read):
  // vectors of the widest power of two dividing Dv, as many per tile as the
  // registers hold and Dv's vector count allows.
  int valueLanes = lanes;
  while (dv % valueLanes)
    valueLanes /= 2;
  const int maxValueVectors = avx512 ? 4 : 2;
  int valueVectors = 1;
  for (int v = 1; v <= maxValueVectors; ++v)
    if ((dv / valueLanes) % v == 0)
      valueVectors = v;
  const int valueTile = valueVectors * valueLanes;

  const int keys = static_cast<int>(sk), queries = static_cast<int>(sq);
  const int groups = (queries + rows - 1) / rows;
  const int chunks = (keys + lanes - 1) / lanes;

  Var kk("kk"), l("l"), x("x"), ii("ii"), g("g"), i("i"), h("h"), b("b");

  // The query row of (ii, g); rows past Sq (a partial last group) repeat the
  // last one and are not stored.
  Expr row = min(g * rows + ii, queries - 1);
  // end(row): the keys [0, end) the row sees; uniform: no key visible (every
  // score 0, all keys used).
  Expr uniform = Internal::const_false();
  Expr paddingEnd;
  if (mask == "padding") {
    Expr length = lengths(b);
    uniform = length <= 0;
    paddingEnd =
        select(uniform, keys, cast<int>(min(length, cast<int64_t>(keys))));
  }
  auto endOf = [&](const Expr &queryRow) -> Expr {
    if (mask == "causal")
      return queryRow + (keys - queries + 1);
    if (mask == "padding")
      return paddingEnd;
    return keys;
  };
  Expr rowEnd = endOf(row);
  // The group's key range: that of its last (valid) row.
  Expr groupEnd = endOf(min(g * rows + (rows - 1), queries - 1));

  // Chunks (vectors of keys) the group sees. Every access below clamps its
  // chunk to them: an identity inside the trimmed loops, but bounds
  // inference does not look at RDom predicates, and the clamp is what sizes
  // the scores and weights to the group's keys.
  Expr groupChunks = (groupEnd + (lanes - 1)) / lanes;
  auto inGroup = [&](const Expr &c) { return clamp(c, 0, groupChunks - 1); };

  // Keys transposed (the key as the vector lane); clamped rows past Sk only
  // fill the last tile and are never weighted.
  // keyT(lane, d, chunk) is key (chunk * lanes + lane): chunks of a vector
  // of keys, each D vectors long.
  Var kd("kd"), kc("kc");
  Func keyRows("key_rows"), keyT("key_t");
  keyRows(kd, kk, h, b) = key(kd, min(kk, keys - 1), h, b);
  keyT(l, kd, kc, h, b) = keyRows(kd, kc * lanes + l, h, b);

  Func dot("dot");
  RDom rd(0, static_cast<int>(d), "rd");
  dot(kk, ii, g, h, b) = 0.0f;
  dot(kk, ii, g, h, b) +=
      query(rd, row, h, b) * keyT(kk % lanes, rd, kk / lanes, h, b);
  Expr score = select(uniform, 0.0f, dot(kk, ii, g, h, b) * scale);
  Expr visible = kk < rowEnd;

  // Row maximum: lane-wise over whole vectors of keys, then across lanes.
  Func maskedScore("masked_score");
  maskedScore(kk, ii, g, h, b) = select(visible, score, Float(32).min());
  RDom chunk(0, chunks, "chunk");
  chunk.where(chunk * lanes < rowEnd);
  Func maxLanes("max_lanes");
  maxLanes(l, ii, g, h, b) = Float(32).min();
  maxLanes(l, ii, g, h, b) =
      max(maxLanes(l, ii, g, h, b),
          maskedScore(inGroup(chunk) * lanes + l, ii, g, h, b));
  RDom lane(0, lanes, "lane");
  Func rowMax("row_max");
  rowMax(ii, g, h, b) = Float(32).min();
  rowMax(ii, g, h, b) = max(rowMax(ii, g, h, b), maxLanes(lane, ii, g, h, b));

  Func weight("weight");
  weight(kk, ii, g, h, b) =
      select(visible, accurateExp(score - rowMax(ii, g, h, b)), 0.0f);
  RDom chunk2(0, chunks, "chunk2");
  chunk2.where(chunk2 * lanes < rowEnd);
  Func sumLanes("sum_lanes");
  sumLanes(l, ii, g, h, b) = 0.0f;
  sumLanes(l, ii, g, h, b) += weight(inGroup(chunk2) * lanes + l, ii, g, h, b);
  Func rowSum("row_sum");
  rowSum(ii, g, h, b) = 0.0f;
  rowSum(ii, g, h, b) += sumLanes(lane, ii, g, h, b);

  // P V over the group's keys (rows that see fewer have zero weights).
  // Keys in vectors' worth: the range test is on the outer dimension only
  // (once per `lanes` keys; with a bound read from lengths Halide keeps it
  // as a branch next to the trimmed loop bound). Keys past the group's end
  // in its last vector have zero weight; V's row index is clamped for those
  // past Sk.
  RDom r(0, lanes, 0, chunks, "r");
  r.where(r.y * lanes < groupEnd);
  Expr pvKey = inGroup(r.y) * lanes + r.x;
  Expr valueRow = keys % lanes ? min(pvKey, keys - 1) : pvKey;
  Func weighted("weighted");
  weighted(x, ii, g, h, b) = 0.0f;
  weighted(x, ii, g, h, b) +=
      weight(pvKey, ii, g, h, b) * value(x, valueRow, h, b);

  Func out("attention");
  out(x, i, h, b) =
      weighted(x, i % rows, i / rows, h, b) / rowSum(i % rows, i / rows, h, b);
  constrainOutput(out, spec.output());

  //===--------------------------------------------------------------------===//
  // Schedule
  //===--------------------------------------------------------------------===//

  // Tasks of about 64 query rows: a task packs its keys once for all its
  // groups. The rows of a partial last group have their stores predicated
  // rather than their loop shortened (GuardWithIf): the loop over a group's
  // rows then always covers exactly one group, which bounds inference needs
  // to compute one group (not two) of every intermediate per iteration.
  const int groupsPerTask = std::max(1, std::min(groups, 64 / rows));
  Var gt("gt"), task("task");
  out.split(i, g, ii, rows, TailStrategy::PredicateStores)
      .split(g, gt, g, groupsPerTask, TailStrategy::GuardWithIf)
      .reorder(x, ii, g, gt, h, b);
  if (dv >= lanes)
    out.vectorize(x, lanes,
                  dv % lanes ? TailStrategy::GuardWithIf : TailStrategy::Auto);
  double work = double(batch) * heads * sq * sk * (d + dv);
  std::string parallel = "serial";
  Var taskLoop = gt;
  if (work >= 1e5) {
    out.fuse(gt, h, task).fuse(task, b, task).parallel(task);
    taskLoop = task;
    parallel = "(batch, head, query block) tasks in parallel";
  }

  // The packed keys of a task, in blocks of a vector of keys x 8 of D: the
  // key rows are loaded as vectors (their stride is only known at run time)
  // into a block with constant strides, which the transposed read turns
  // into shuffles; the block's keyT storage is contiguous.
  Var kdi("kdi");
  keyT.compute_at(out, taskLoop);
  if (d % 8 == 0) {
    keyT.split(kd, kd, kdi, 8)
        .reorder(l, kdi, kd, kc)
        .vectorize(l)
        .vectorize(kdi);
    keyRows.compute_at(keyT, kd).vectorize(kd).unroll(kk);
  } else {
    keyT.vectorize(l);
  }

  // Scores: R x KW accumulators, D innermost.
  Var kt("kt"), kv("kv");
  dot.store_at(out, taskLoop)
      .compute_at(out, g)
      .bound(ii, 0, rows)
      .split(kk, kc, kk, lanes, TailStrategy::RoundUp)
      .split(kc, kt, kv, keyTile / lanes, TailStrategy::RoundUp)
      .reorder(kk, kv, ii, kt)
      .vectorize(kk)
      .unroll(kv)
      .unroll(ii);
  dot.update()
      .split(kk, kc, kk, lanes, TailStrategy::RoundUp)
      .split(kc, kt, kv, keyTile / lanes, TailStrategy::RoundUp)
      .reorder(kk, kv, ii, rd, kt)
      .vectorize(kk)
      .unroll(kv)
      .unroll(ii);

  maxLanes.store_at(out, taskLoop)
      .compute_at(out, g)
      .bound(ii, 0, rows)
      .vectorize(l);
  maxLanes.update().vectorize(l);
  rowMax.store_at(out, taskLoop).compute_at(out, g).bound(ii, 0, rows);
  // Across lanes: a shuffle tree rather than a serial chain of lanes.
  rowMax.update().atomic().vectorize(lane);
  weight.store_at(out, taskLoop)
      .compute_at(out, g)
      .bound(ii, 0, rows)
      .vectorize(kk, lanes, TailStrategy::RoundUp);
  sumLanes.store_at(out, taskLoop)
      .compute_at(out, g)
      .bound(ii, 0, rows)
      .vectorize(l);
  sumLanes.update().vectorize(l);
  rowSum.store_at(out, taskLoop).compute_at(out, g).bound(ii, 0, rows);
  rowSum.update().atomic().vectorize(lane);

  // P V: R x DW accumulators, keys innermost.
  Var xt("xt"), xv("xv");
  weighted.store_at(out, taskLoop)
      .compute_at(out, g)
      .bound(ii, 0, rows)
      .split(x, xt, x, valueTile)
      .split(x, xv, x, valueLanes)
      .reorder(x, xv, ii, xt)
      .vectorize(x)
      .unroll(xv)
      .unroll(ii);
  weighted.update()
      .split(x, xt, x, valueTile)
      .split(x, xv, x, valueLanes)
      .reorder(x, xv, ii, r.x, r.y, xt)
      .vectorize(x)
      .unroll(xv)
      .unroll(ii);

  kernel.output = out;
  kernel.scheduleSummary =
      "attention " + mask + ": groups of " + std::to_string(rows) +
      " queries, " + std::to_string(rows) + "x" + std::to_string(keyTile) +
      " score tiles and " + std::to_string(rows) + "x" +
      std::to_string(valueTile) +
      " P.V tiles in registers, two passes over the visible keys, " + parallel;
  return kernel;
}

} // namespace kiln::halide
