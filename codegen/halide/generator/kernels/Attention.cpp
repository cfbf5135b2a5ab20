//===- Attention.cpp - softmax(scale Q K^T + mask) V per (batch, head)
//------===//
//
// Blocked two-pass attention: the work is split into tasks of (batch, head,
// block of queries), run in parallel. A task computes the scaled scores of
// its queries against the keys they can see only, into an O(block x Sk)
// scratch (never the whole Sq x Sk matrix), then per query the maximum, the
// exponentials and their sum, and the weighted sum of V rows divided by the
// sum. Every reduction over keys has the mask as its RDom predicate (key <
// end(query), end = Sk, Sk - Sq + query + 1 for causal, min(lengths[b], Sk)
// for padding), which Halide turns into loop bounds: hidden keys are neither
// computed nor read, so causal blocks stop at their diagonal and decoding
// (Sq = 1) costs in proportion to the visible length. A batch item with
// lengths[b] <= 0 sees every key with the score 0 (the reference's scores
// are all the lowest float then): its rows are the mean of V.
//
// Two passes rather than an online (running max) softmax: Halide has no
// natural way to rescale an accumulator across an update's iterations, and
// the scores of a block are reused from L1/L2 by the second pass. A score is
// a dot product over D, vectorized over D (the operands are strided views,
// so keys are not transposed in memory) and folded horizontally once per
// (query, key); the weighted sum of V is vectorized over Dv with the V row
// broadcast-multiplied into registers.
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

  const int vector = vectorWidthF32(target);
  Var x("x"), kk("kk"), i("i"), h("h"), b("b");
  const int keys = static_cast<int>(sk);

  // end(i, b): the keys [0, end) query i sees; uniform(b): no key visible
  // (every score 0, all keys used).
  Expr end = keys, uniform = Internal::const_false();
  if (mask == "causal")
    end = i + static_cast<int>(sk - sq + 1);
  if (mask == "padding") {
    Expr length = lengths(b);
    uniform = length <= 0;
    end = select(uniform, keys, cast<int>(min(length, cast<int64_t>(keys))));
  }
  Func visibleEnd("visible_end");
  visibleEnd(i, b) = end;

  // Score lanes: the widest power of two (up to a vector) dividing D.
  int lanes = vector;
  while (d % lanes)
    lanes /= 2;
  RDom rd(0, static_cast<int>(d), "rd");
  Func dot("dot");
  dot(kk, i, h, b) = 0.0f;
  dot(kk, i, h, b) += query(rd, i, h, b) * key(rd, kk, h, b);

  Func score("score");
  score(kk, i, h, b) = select(uniform, 0.0f, dot(kk, i, h, b) * scale);

  RDom r(0, keys, "r");
  r.where(r < visibleEnd(i, b));
  Func rowMax("row_max");
  rowMax(i, h, b) = Float(32).min();
  rowMax(i, h, b) = max(rowMax(i, h, b), score(r, i, h, b));

  Func weight("weight");
  weight(kk, i, h, b) = accurateExp(score(kk, i, h, b) - rowMax(i, h, b));
  Func rowSum("row_sum");
  rowSum(i, h, b) = 0.0f;
  rowSum(i, h, b) += weight(r, i, h, b);

  Func weighted("weighted");
  weighted(x, i, h, b) = 0.0f;
  weighted(x, i, h, b) += weight(r, i, h, b) * value(x, r, h, b);

  Func out("attention");
  out(x, i, h, b) = weighted(x, i, h, b) / rowSum(i, h, b);
  constrainOutput(out, spec.output());

  // Query blocks: big enough to reuse the K and V tiles from cache, small
  // enough that a block's scores (block x Sk) stay in L2.
  int block = static_cast<int>(std::min<int64_t>(sq, 32));
  Var io("io"), task("task");
  out.split(i, io, i, block, TailStrategy::GuardWithIf).reorder(x, i, io, h, b);
  if (dv >= vector)
    out.vectorize(x, vector,
                  dv % vector ? TailStrategy::GuardWithIf : TailStrategy::Auto);
  double work = double(batch) * heads * sq * sk * (d + dv);
  std::string parallel = "serial";
  if (work >= 1e5) {
    out.fuse(io, h, task).fuse(task, b, task).parallel(task);
    parallel = "(batch, head, query block) tasks in parallel";
  }
  Var blockLoop = work >= 1e5 ? task : io;

  // Scores of the block: a vector of D-lanes per (query, key), folded once.
  dot.compute_at(out, blockLoop);
  RVar rdOuter("rd_outer"), rdLane("rd_lane");
  Var lane("lane");
  Func partial =
      dot.update().split(rd, rdOuter, rdLane, lanes).rfactor(rdLane, lane);
  partial.compute_at(dot, kk).vectorize(lane);
  partial.update().vectorize(lane);
  dot.update().atomic().vectorize(rdLane);
  score.compute_at(out, blockLoop);
  rowMax.compute_at(out, blockLoop);
  weight.compute_at(out, blockLoop)
      .vectorize(kk, vector, TailStrategy::GuardWithIf);
  rowSum.compute_at(out, blockLoop);
  // The weighted sum of one query row: Dv in registers over the keys.
  weighted.compute_at(out, i);
  if (dv >= vector) {
    weighted.vectorize(x, vector, TailStrategy::GuardWithIf);
    weighted.update().reorder(x, r).vectorize(x, vector,
                                              TailStrategy::GuardWithIf);
  }

  kernel.output = out;
  kernel.scheduleSummary = "attention " + mask + ": query blocks of " +
                           std::to_string(block) +
                           ", two passes over the visible keys, " + parallel;
  return kernel;
}

} // namespace kiln::halide
