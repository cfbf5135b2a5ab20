//===- Attention.cpp - softmax(scale Q K^T + mask) V per (batch, head) ----===//
//
// Blocked two-pass attention built from two register-blocked GEMMs.
//
// Queries are taken in groups of R rows (query i is row i % R of group
// i / R; the group is a dimension of every intermediate Func, so the unrolled
// rows of a group share one key range). Tasks of (batch, head, block of
// groups) run in parallel. Per task, the keys the block can see are packed
// transposed, kT(key, d): a score tile then reads keys as the vector lane.
// (With fewer than 4 query rows, decode, each tile's keys are read by one
// group only: they are packed per tile instead, while they are in L1, and
// only for the tiles the group scores.)
// Per group, over its chunks (vectors of keys) up to the group's end:
//   1. scores S(key, row) = Q(row) . K(key), a GEMM with R rows x T chunks
//      of accumulators in registers (Q broadcast) and D innermost, for the
//      whole tiles of T chunks, then the rest in parts of T/2, ... chunks
//      (the part of w chunks is there when the chunk count has bit w); the
//      narrowest part has at least 8 accumulators (the FMA latency), the
//      count is rounded up to it, and a single chunk of R >= 4 rows splits D
//      into two chains (even and odd d) to get them;
//   2. per row, the maximum of the visible scores, vectorized over keys
//      (lane-wise maxima over whole vectors, then the lanes);
//   3. P(key, row) = exp(S - max) (0 for hidden keys) and their sum, again
//      lane-wise then across lanes;
//   4. O = P V, a GEMM with R rows x DW value columns in registers (V rows
//      loaded as vectors, P broadcast) and the keys innermost (in two chains,
//      odd and even keys, when R x DW has fewer than 8 vectors), divided by
//      the sum at the end.
// The key ranges come from the mask: end(i) = Sk, Sk - Sq + i + 1 (causal) or
// min(lengths[b], Sk) (padding), and a group's range is that of its last row
// (the largest). Bounds inference ignores RDom predicates and cannot see
// through the lengths load, so every loop over keys, the pure ones included,
// is an RDom whose range is a predicate Halide turns into the loop bound: S,
// P and (with padding) the packing are updates over trimmed RDoms (pure
// definitions would cover all Sk keys). Halide proves such a predicate
// redundant only in the form `rvar < bound` with a simple bound; arithmetic on
// a loaded value stays a branch in the innermost loop, where it keeps the
// accumulators out of registers. So with padding the per-batch values (the
// visible keys, the parts present) are small tables computed first. Hidden keys
// inside a computed range get exactly zero weight. A batch item with lengths[b]
// <= 0 sees every key with the score 0 (the reference's scores are all the
// lowest float then): its rows are the mean of V.
//
// R is 4 to 6 (whichever pads Sq least): 6 x 4 (AVX-512) accumulators fill
// the registers best, 4 rows divide the common power-of-two lengths and give
// the causal diagonal a finer step. The per-group buffers are stored per
// task (one allocation per task, not per group).
//
// Two passes over a group's keys rather than an online (running max)
// softmax: Halide has no natural way to rescale an accumulator across an
// update's iterations, and a group's scores (R x Sk) stay in L1 between the
// passes. The order of every sum depends only on the shape and the mask (and
// the lengths), not on the task split, so the results do not depend on the
// thread count.
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
  // Score tiles: rows x tileChunks chunks (vectors of keys); a single row
  // takes twice the chunks, or its FMAs would wait on one another.
  const int tileChunks = (avx512 ? 4 : 2) * (rows == 1 ? 2 : 1);
  // The narrowest part of a tile computed on its own has enough
  // accumulators (8) to hide the FMA latency; a group's chunk count is
  // rounded up to it. A single chunk of 4 or more rows is still a part of
  // its own, with D in two chains (even and odd d, added at the end).
  int minPart = 1;
  while (minPart < tileChunks && rows * minPart < 8)
    minPart *= 2;
  const bool splitChunk = minPart == 2 && rows * 2 >= 8 && d % 2 == 0;
  if (splitChunk)
    minPart = 1;
  const int keyTile = tileChunks * lanes;
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
  Func visibleKeys("visible_keys");
  if (mask == "padding") {
    Expr length = lengths(b);
    uniform = length <= 0;
    visibleKeys(b) =
        select(uniform, keys, cast<int>(min(length, cast<int64_t>(keys))));
    paddingEnd = clamp(visibleKeys(b), 1, keys);
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

  // The group's scores cover its chunks rounded up to the narrowest part:
  // whole tiles of tileChunks chunks, then the parts.
  const int tiles = (chunks + tileChunks - 1) / tileChunks;
  Expr groupChunks = (groupEnd + (lanes - 1)) / lanes;
  Expr scoreChunks = (groupChunks + (minPart - 1)) / minPart * minPart;
  // Whether the group's chunk count has bit w (0 or 1). With padding this is
  // a per-batch table: a predicate comparing an RVar with a loaded value
  // becomes the loop's bound, while arithmetic on a load stays a branch in
  // the innermost loop.
  Var w("w");
  Func chunkBits("chunk_bits");
  if (mask == "padding")
    chunkBits(w, b) = scoreChunks / w % 2;
  auto hasPart = [&](int width) -> Expr {
    if (mask == "padding")
      return chunkBits(width, b);
    return scoreChunks / width % 2;
  };
  // The whole tiles: likewise a per-batch table with padding (which the
  // guards of the packing per tile test too).
  Func tileCount("tile_count");
  Expr fullTiles = scoreChunks / tileChunks;
  if (mask == "padding") {
    tileCount(b) = fullTiles;
    fullTiles = tileCount(b);
  }

  // Keys transposed (the key as the vector lane); clamped rows past Sk only
  // fill the last tile and are never weighted.
  // keyT(lane, d, chunk) is key (chunk * lanes + lane): chunks of a vector
  // of keys, each D vectors long.
  Var kd("kd"), kc("kc");
  Func keyRows("key_rows"), keyT("key_t");
  // With padding, only the batch item's chunks are packed (an RDom trimmed
  // by a per-batch count; bounds inference would pack them all).
  // Few rows (decode: a single group) use the keys of a score tile once:
  // they are packed per tile, while they are in L1, when the tiles are the
  // only readers (no parts).
  const bool packPerTile =
      (tileChunks / 2 < minPart || tileChunks == 1) && !splitChunk;
  // Packed per tile with padding, the tiles past the group's are skipped:
  // the packing (the key rows loaded too, where they are a stage of their
  // own) is an update over an RDom of one point, whose predicate tests the
  // pure chunk (row). The body of the loop over tiles is then a no-op past
  // the count, and Halide trims the loop to it (a producer computed
  // unconditionally in the loop would keep all of its tiles).
  Func packChunks("pack_chunks");
  RDom pk(0, tiles * tileChunks, "pk"), packOnce(0, 1, "pack_once"),
      rowOnce(0, 1, "row_once");
  const bool packTrimmed = mask == "padding" && !packPerTile;
  const bool packGuarded = mask == "padding" && packPerTile;
  const bool rowsGuarded = packGuarded && d % 4 == 0;
  if (rowsGuarded) {
    rowOnce.where(kk / keyTile < fullTiles);
    keyRows(kd, kk, h, b) = undef<float>();
    keyRows(kd, kk, h, b) = key(kd, min(kk + rowOnce, keys - 1), h, b);
  } else {
    keyRows(kd, kk, h, b) = key(kd, min(kk, keys - 1), h, b);
  }
  if (packTrimmed) {
    packChunks(b) = scoreChunks;
    pk.where(pk < packChunks(b));
    keyT(l, kd, kc, h, b) = undef<float>();
    keyT(l, kd, pk, h, b) = keyRows(kd, pk * lanes + l, h, b);
  } else if (packGuarded) {
    packOnce.where(kc / tileChunks < fullTiles);
    keyT(l, kd, kc, h, b) = undef<float>();
    keyT(l, kd, kc, h, b) = keyRows(kd, (kc + packOnce) * lanes + l, h, b);
  } else {
    keyT(l, kd, kc, h, b) = keyRows(kd, kc * lanes + l, h, b);
  }

  // dot(l, v, t, ...): the score of key (t * tileChunks + v) * lanes + l
  // (before the scale), defined only over the group's score chunks: zeroed,
  // then the whole tiles, then the parts.
  Var v("v"), t("t");
  Func dot("dot");
  dot(l, v, t, ii, g, h, b) = undef<float>();
  RDom zero(0, tiles * tileChunks, "zero");
  zero.where(zero < scoreChunks);
  dot(l, zero % tileChunks, zero / tileChunks, ii, g, h, b) = 0.0f;
  RDom full(0, static_cast<int>(d), 0, tiles, "full");
  full.where(full.y < fullTiles);
  dot(l, v, full.y, ii, g, h, b) +=
      query(full.x, row, h, b) * keyT(l, full.x, full.y * tileChunks + v, h, b);
  // The rest (fewer than tileChunks chunks) in parts of tileChunks / 2, ...
  // chunks: the part of w chunks is there when bit w of the chunk count is,
  // and starts where the count rounded down to 2w does. The outer RVar of
  // extent 2 carries the presence test (a trimmed loop of 0 or 1 trips;
  // extent 1 would be folded away and leave the test innermost).
  std::vector<RDom> parts;
  for (int width = tileChunks / 2; width >= (splitChunk ? 2 : minPart);
       width /= 2) {
    RDom part(0, static_cast<int>(d), 0, width, 0, 2,
              "part" + std::to_string(width));
    part.where(part.z < hasPart(width));
    // (The clamps are identities where the part is there; they bound the
    // indices for bounds inference.)
    Expr start = clamp(scoreChunks / (2 * width) * (2 * width), 0,
                       tiles * tileChunks - width);
    Expr vector = start % tileChunks / (2 * width) * (2 * width) + part.y;
    dot(l, vector, start / tileChunks, ii, g, h, b) +=
        query(part.x, row, h, b) * keyT(l, part.x, start + part.y, h, b);
    parts.push_back(part);
  }
  Func lastChunk("last_chunk");
  RDom half(0, static_cast<int>(d / 2), 0, 2, "half");
  Var e("e");
  if (splitChunk) {
    half.where(half.y < hasPart(1));
    Expr last = clamp(scoreChunks - 1, 0, tiles * tileChunks - 1);
    lastChunk(l, e, ii, g, h, b) = 0.0f;
    lastChunk(l, e, ii, g, h, b) +=
        query(half.x * 2 + e, row, h, b) * keyT(l, half.x * 2 + e, last, h, b);
    RDom once(0, 2, "once");
    once.where(once < hasPart(1));
    dot(l, last % tileChunks + once, last / tileChunks, ii, g, h, b) =
        lastChunk(l, 0, ii, g, h, b) + lastChunk(l, 1, ii, g, h, b);
  }
  auto scoreOf = [&](const Expr &c) {
    return select(uniform, 0.0f,
                  dot(l, c % tileChunks, c / tileChunks, ii, g, h, b) * scale);
  };
  auto visibleOf = [&](const Expr &c) { return c * lanes + l < rowEnd; };

  // Row maximum: lane-wise over whole vectors of keys, then across lanes.
  RDom chunk(0, chunks, "chunk");
  chunk.where(chunk * lanes < rowEnd);
  Func maxLanes("max_lanes");
  maxLanes(l, ii, g, h, b) = Float(32).min();
  maxLanes(l, ii, g, h, b) =
      max(maxLanes(l, ii, g, h, b),
          select(visibleOf(chunk), scoreOf(chunk), Float(32).min()));
  RDom lane(0, lanes, "lane");
  Func rowMax("row_max");
  rowMax(ii, g, h, b) = Float(32).min();
  rowMax(ii, g, h, b) = max(rowMax(ii, g, h, b), maxLanes(lane, ii, g, h, b));

  // weight(l, c, ...): the weight of key c * lanes + l, over the group's
  // chunks (0 past the row's end).
  Func weight("weight");
  weight(l, kc, ii, g, h, b) = undef<float>();
  RDom wc(0, chunks, "wc");
  wc.where(wc < groupChunks);
  weight(l, wc, ii, g, h, b) = select(
      visibleOf(wc), accurateExp(scoreOf(wc) - rowMax(ii, g, h, b)), 0.0f);
  RDom chunk2(0, chunks, "chunk2");
  chunk2.where(chunk2 * lanes < rowEnd);
  Func sumLanes("sum_lanes");
  sumLanes(l, ii, g, h, b) = 0.0f;
  sumLanes(l, ii, g, h, b) += weight(l, chunk2, ii, g, h, b);
  Func rowSum("row_sum");
  rowSum(ii, g, h, b) = 0.0f;
  rowSum(ii, g, h, b) += sumLanes(lane, ii, g, h, b);

  // P V over the group's chunks (rows that see fewer have zero weights);
  // keys past the group's end in its last chunk have zero weight, V's row
  // index is clamped for those past Sk. With fewer than 8 accumulators (a
  // row or two) the keys alternate between two chains, added at the end.
  const int pvChains = rows * valueVectors < 8 ? 2 : 1;
  RDom r(0, lanes / pvChains, 0, chunks, "r");
  r.where(r.y < groupChunks);
  Var c("c");
  Expr pvLane = r.x * pvChains + c;
  Expr pvKey = r.y * lanes + pvLane;
  Expr valueRow = keys % lanes ? min(pvKey, keys - 1) : pvKey;
  Func chains("pv_chains");
  chains(x, c, ii, g, h, b) = 0.0f;
  chains(x, c, ii, g, h, b) +=
      weight(pvLane, r.y, ii, g, h, b) * value(x, valueRow, h, b);
  auto weighted = [&](const Expr &col, const Expr &r0, const Expr &grp) {
    Expr sum = chains(col, 0, r0, grp, h, b);
    for (int k = 1; k < pvChains; ++k)
      sum += chains(col, k, r0, grp, h, b);
    return sum;
  };

  Func out("attention");
  out(x, i, h, b) =
      weighted(x, i % rows, i / rows) / rowSum(i % rows, i / rows, h, b);
  constrainOutput(out, spec.output());

  //===--------------------------------------------------------------------===//
  // Schedule
  //===--------------------------------------------------------------------===//

  // Tasks of up to 128 query rows: a task packs its keys once for all its
  // groups (128 rows: once per head at the common lengths). The rows of a
  // partial last group have their stores predicated rather than their loop
  // shortened (GuardWithIf): the loop over a group's rows then always covers
  // exactly one group, which bounds inference needs to compute one group (not
  // two) of every intermediate per iteration.
  const int groupsPerTask = std::max(1, std::min(groups, 128 / rows));
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

  // The packed keys of a task, in blocks of a vector of keys x 4 of D: the
  // key rows are loaded as vectors (their stride is only known at run time)
  // into a block with constant strides, which the transposed read turns
  // into shuffles; the block's keyT storage is contiguous.
  Var kdi("kdi");
  if (mask == "padding") {
    visibleKeys.compute_root();
    chunkBits.compute_root().bound(w, 1, tileChunks);
    tileCount.compute_root();
    if (packTrimmed)
      packChunks.compute_root();
  }
  if (packPerTile)
    keyT.compute_at(dot, full.y);
  else
    keyT.compute_at(out, taskLoop);
  Stage packing =
      packTrimmed || packGuarded ? Stage(keyT.update()) : Stage(keyT);
  if (d % 4 == 0) {
    packing.split(kd, kd, kdi, 4)
        .reorder(l, kdi, kd, packTrimmed ? VarOrRVar(pk.x) : VarOrRVar(kc))
        .vectorize(l)
        .vectorize(kdi);
    keyRows.compute_at(keyT, kd);
    Stage rowLoads = rowsGuarded ? Stage(keyRows.update()) : Stage(keyRows);
    rowLoads.vectorize(kd).unroll(kk, lanes, TailStrategy::GuardWithIf);
  } else {
    packing.vectorize(l);
  }

  // Scores: R x T (a tile) or R x w (a part) accumulators, D innermost.
  dot.store_at(out, taskLoop)
      .compute_at(out, g)
      .bound(l, 0, lanes)
      .bound(v, 0, tileChunks)
      .bound(ii, 0, rows)
      .bound_storage(t, tiles);
  dot.update(0).vectorize(l);
  dot.update(1)
      .reorder(l, v, ii, full.x, full.y)
      .vectorize(l)
      .unroll(v)
      .unroll(ii);
  if (splitChunk) {
    lastChunk.compute_at(out, g)
        .bound(l, 0, lanes)
        .bound(e, 0, 2)
        .bound(ii, 0, rows)
        .vectorize(l)
        .unroll(e)
        .unroll(ii);
    lastChunk.update()
        .reorder(l, e, ii, half.x, half.y)
        .vectorize(l)
        .unroll(e)
        .unroll(ii);
    dot.update(2 + parts.size()).vectorize(l).unroll(ii);
  }
  for (size_t p = 0; p < parts.size(); ++p)
    dot.update(2 + p)
        .reorder(l, parts[p].y, ii, parts[p].x, parts[p].z)
        .vectorize(l)
        .unroll(parts[p].y)
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
      .bound(l, 0, lanes)
      .bound(ii, 0, rows)
      .bound_storage(kc, chunks);
  weight.update().vectorize(l);
  sumLanes.store_at(out, taskLoop)
      .compute_at(out, g)
      .bound(ii, 0, rows)
      .vectorize(l);
  sumLanes.update().vectorize(l);
  rowSum.store_at(out, taskLoop).compute_at(out, g).bound(ii, 0, rows);
  rowSum.update().atomic().vectorize(lane);

  // P V: R x DW accumulators, keys innermost.
  Var xt("xt"), xv("xv");
  chains.store_at(out, taskLoop)
      .compute_at(out, g)
      .bound(c, 0, pvChains)
      .bound(ii, 0, rows)
      .split(x, xt, x, valueTile)
      .split(x, xv, x, valueLanes)
      .reorder(x, xv, c, ii, xt)
      .vectorize(x)
      .unroll(xv)
      .unroll(c)
      .unroll(ii);
  chains.update()
      .split(x, xt, x, valueTile)
      .split(x, xv, x, valueLanes)
      .reorder(x, xv, c, ii, r.x, r.y, xt)
      .vectorize(x)
      .unroll(xv)
      .unroll(c)
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
