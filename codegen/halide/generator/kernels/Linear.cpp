//===- Linear.cpp - out = act(x . B + bias)
//---------------------------------===//
//
// A linear layer, by one of two paths.
//
// Few rows (M <= kStreamRows, decode) with an unpacked weight ("out_in" or
// "in_out"): a streaming product that reads the weight exactly once, in its
// stored layout. Packing it into panels would read and write the whole
// weight on every call, several times the product's own cost at these M
// (GPT-2's tied LM head, 50257 x 768 "out_in": 76 ms packed, against a
// 4 ms stream).
//  - "out_in" (w[n, k], K contiguous): one dot product per output, over K
//    in chunks of two vectors (two independent accumulator vectors per
//    output), several outputs and all rows per block so that a chunk of x
//    is loaded once for all of them; the lanes are folded as a tree, the
//    whole vector and the scalars past the last chunk added after.
//  - "in_out" (w[k, n], N contiguous): vectors over n, a block of up to 8
//    vectors per row held in registers for the whole K loop, each weight
//    row piece read once; a partial last block is shifted inwards.
// Blocks of columns run in parallel tasks once N K reaches about 1M.
//
// Otherwise a register-blocked GEMM. The product is accumulated
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
// padded panels first, once per call, in parallel: with many rows, the
// packing is paid back by the register tiles' reuse of every panel.
//
// Every path's summation order depends only on the shape, never on the
// thread count.
//
//===----------------------------------------------------------------------===//

#include "codegen/halide/generator/Kernels.h"

#include <algorithm>

namespace kiln::halide {

using namespace Halide;

namespace {

/// The most rows of the streaming path: past it, the register tiles' reuse
/// of packed panels pays for the packing.
constexpr int64_t kStreamRows = 8;

/// Splits `out`'s columns (`blocks` of `block` columns each, at `blockVar`)
/// into parallel tasks when the product is large enough (N K >= ~1M): at
/// most 16 tasks of at least 256K weight elements. Returns the summary.
std::string parallelizeColumnBlocks(Func out, const Var &blockVar,
                                    int64_t blocks, int64_t block, int64_t n,
                                    int64_t k) {
  if (n * k < (int64_t(1) << 20))
    return "serial";
  int64_t perTask = std::max<int64_t>(
      (blocks + 15) / 16, ((int64_t(256) << 10) / k + block - 1) / block);
  if (perTask >= blocks)
    return "serial";
  Var task("task");
  out.split(blockVar, task, blockVar, static_cast<int>(perTask),
            TailStrategy::GuardWithIf)
      .parallel(task);
  return "parallel tasks of " + std::to_string(perTask * block) + " columns";
}

/// The streaming product of few rows by an unpacked weight (see the header).
std::string buildStreamingLinear(Func out, ImageParam x, ImageParam weight,
                                 ImageParam bias, bool hasBias,
                                 const std::string &layout,
                                 const std::string &activation,
                                 const Target &target, int64_t m, int64_t k,
                                 int64_t n) {
  const int vec = vectorWidthF32(target);
  // Accumulator vectors: half the vector registers (32 with AVX-512, 16
  // with AVX2), the rest for x's chunk and the weight's loads.
  const int budget = target.has_feature(Target::AVX512) ? 16 : 8;
  Var col("n"), row("m"), l("l"), block("block"), inBlock("in_block"),
      vector("vector");
  const int rows = static_cast<int>(m);
  std::string summary;
  int64_t blockCols, blocks;

  if (layout == "out_in") {
    // weight(k, n): dot(l, n, m) sums lanes l of the chunks of K, two
    // vectors each (one vector when K is shorter).
    const int lanes = reductionLanes(k, vec, 2);
    const int64_t chunks = k / lanes;
    const int64_t tailVectors = (k - chunks * lanes) / vec;
    const int64_t wholeEnd = chunks * lanes + tailVectors * vec;
    Func dot("dot"), total("dot_total");
    total(col, row) = 0.0f;
    if (chunks > 0) {
      RDom rc(0, static_cast<int>(chunks), "chunk");
      Expr kIndex = rc * lanes + l;
      dot(l, col, row) = 0.0f;
      dot(l, col, row) += x(kIndex, row) * weight(kIndex, col);
      if (tailVectors > 0) {
        // The whole vector past the chunks, into the first lanes.
        RDom rv(0, vec, "tail_lane");
        Expr kTail = static_cast<int>(chunks * lanes) + rv;
        dot(rv, col, row) += x(kTail, row) * weight(kTail, col);
      }
      RDom rl(0, lanes, "lane");
      total(col, row) += dot(rl, col, row);
    }
    if (wholeEnd < k) {
      RDom rt(static_cast<int>(wholeEnd), static_cast<int>(k - wholeEnd),
              "tail");
      total(col, row) += x(rt, row) * weight(rt, col);
    }
    Expr value = total(col, row);
    if (hasBias)
      value += bias(col);
    out(col, row) = applyActivation(activation, value);

    // A block of outputs x all rows: its accumulators (2 vectors each) in
    // registers, x's chunk loaded once per block.
    const int accumulatorsPerColumn = rows * (lanes / vec);
    blockCols = std::clamp<int64_t>(budget / accumulatorsPerColumn, 1, 4);
    blockCols = std::min(blockCols, n);
    blocks = (n + blockCols - 1) / blockCols;
    out.split(col, block, inBlock, static_cast<int>(blockCols),
              TailStrategy::ShiftInwards)
        .reorder(inBlock, row, block)
        .unroll(inBlock)
        .unroll(row);
    total.compute_at(out, block).unroll(col).unroll(row);
    int stage = 0;
    if (chunks > 0) {
      total.update(stage++)
          .atomic()
          .vectorize(total.rvars(0)[0])
          .unroll(col)
          .unroll(row);
      Var dl = dot.args()[0], dn = dot.args()[1], dm = dot.args()[2];
      dot.compute_at(out, block)
          .bound(dl, 0, lanes)
          .split(dl, vector, dl, vec)
          .vectorize(dl)
          .unroll(vector)
          .unroll(dn)
          .unroll(dm);
      dot.update(0)
          .split(dl, vector, dl, vec)
          .reorder(dl, vector, dn, dm, dot.rvars(0)[0])
          .vectorize(dl)
          .unroll(vector)
          .unroll(dn)
          .unroll(dm);
      if (tailVectors > 0)
        dot.update(1)
            .reorder(dot.rvars(1)[0], dn, dm)
            .vectorize(dot.rvars(1)[0])
            .unroll(dn)
            .unroll(dm);
    }
    if (wholeEnd < k)
      total.update(stage).unroll(col).unroll(row);
    summary = "streaming dot products over K (" + std::to_string(lanes) +
              "-lane chunks, " + std::to_string(blockCols) +
              " outputs per block)";
  } else {
    // weight(n, k): vectors over n, K innermost.
    Func acc("acc");
    RDom r(0, static_cast<int>(k), "r");
    acc(col, row) = 0.0f;
    acc(col, row) += x(r, row) * weight(col, r);
    Expr value = acc(col, row);
    if (hasBias)
      value += bias(col);
    out(col, row) = applyActivation(activation, value);

    const int64_t vectors =
        std::clamp<int64_t>(std::min<int64_t>(budget / rows, n / vec), 1, 8);
    const int lanes = n >= vec ? vec : static_cast<int>(n);
    blockCols = n >= vec ? vectors * vec : n;
    blocks = (n + blockCols - 1) / blockCols;
    // A partial last block shifts inwards (recomputes a few columns): every
    // load stays a whole vector.
    out.split(col, block, inBlock, static_cast<int>(blockCols),
              TailStrategy::ShiftInwards)
        .split(inBlock, vector, inBlock, lanes)
        .reorder(inBlock, vector, row, block)
        .vectorize(inBlock)
        .unroll(vector)
        .unroll(row);
    Var an = acc.args()[0], am = acc.args()[1];
    acc.compute_at(out, block)
        .split(an, vector, an, lanes)
        .vectorize(an)
        .unroll(vector)
        .unroll(am);
    acc.update()
        .split(an, vector, an, lanes)
        .reorder(an, vector, am, r)
        .vectorize(an)
        .unroll(vector)
        .unroll(am);
    summary = "streaming over K rows, " + std::to_string(blockCols) +
              "-column register blocks (" + std::to_string(lanes) +
              "-lane vectors)";
  }
  return summary + ", " +
         parallelizeColumnBlocks(out, block, blocks, blockCols, n, k) +
         "; weight read once in place";
}

} // namespace

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

  if (layout != "panels" && m <= kStreamRows) {
    Func out("linear");
    std::string summary = buildStreamingLinear(
        out, x, weight, bias, hasBias, layout, activation, target, m, k, n);
    constrainOutput(out, spec.output());
    kernel.output = out;
    kernel.scheduleSummary = "linear " + activation + ": " + summary;
    return kernel;
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
