//===- AttentionTest.cpp - The fused fp32 attention kernel ----------------===//

#include "runtime/kernels/Attention.h"
#include "runtime/threads/ThreadPool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace kiln;
using kernels::AttentionMask;

namespace {

using Shape4 = std::array<int64_t, 4>;

/// A [B, H, S, X] strided view into a buffer of its own. Elements outside the
/// view are NaN, so that a kernel reading them gives NaN results.
struct Operand {
  std::vector<float> data;
  int64_t offset = 0;
  Shape4 sizes{}, strides{};

  Operand(Shape4 sizes, Shape4 strides, int64_t offset)
      : offset(offset), sizes(sizes), strides(strides) {
    int64_t last = offset;
    for (int a = 0; a < 4; ++a)
      last += (sizes[a] - 1) * strides[a];
    data.assign(static_cast<size_t>(std::max(last + 1, offset + 1)),
                std::numeric_limits<float>::quiet_NaN());
  }
  /// A dense row-major [B, H, S, X] operand.
  explicit Operand(Shape4 sizes)
      : Operand(
            sizes,
            {sizes[1] * sizes[2] * sizes[3], sizes[2] * sizes[3], sizes[3], 1},
            0) {}

  float &at(int64_t b, int64_t h, int64_t s, int64_t x) {
    return data[static_cast<size_t>(offset + b * strides[0] + h * strides[1] +
                                    s * strides[2] + x * strides[3])];
  }
  template <typename F> void forEach(F f) {
    for (int64_t b = 0; b < sizes[0]; ++b)
      for (int64_t h = 0; h < sizes[1]; ++h)
        for (int64_t s = 0; s < sizes[2]; ++s)
          for (int64_t x = 0; x < sizes[3]; ++x)
            f(b, h, s, x, at(b, h, s, x));
  }
  void fillUniform(std::mt19937 &rng, float bound) {
    std::uniform_real_distribution<float> dist(-bound, bound);
    forEach(
        [&](int64_t, int64_t, int64_t, int64_t, float &v) { v = dist(rng); });
  }
  const float *base() const { return data.data() + offset; }
  float *base() { return data.data() + offset; }
  KilnMemRef<4> memref() {
    return KilnMemRef<4>{data.data(),
                         data.data(),
                         offset,
                         {sizes[0], sizes[1], sizes[2], sizes[3]},
                         {strides[0], strides[1], strides[2], strides[3]}};
  }
};

/// Strides of `bias` as the kernel takes them: 0 on its axes of size 1,
/// which broadcast onto the scores.
Shape4 broadcastStrides(const Operand &bias) {
  Shape4 strides = bias.strides;
  for (int a = 0; a < 4; ++a)
    if (bias.sizes[a] == 1)
      strides[a] = 0;
  return strides;
}

/// Element (b, h, i, j) of the scores' bias: `bias` broadcast (size-1 axes).
float biasAt(Operand &bias, int64_t b, int64_t h, int64_t i, int64_t j) {
  return bias.at(bias.sizes[0] == 1 ? 0 : b, bias.sizes[1] == 1 ? 0 : h,
                 bias.sizes[2] == 1 ? 0 : i, bias.sizes[3] == 1 ? 0 : j);
}

/// The semantics of Attention.h in double precision, with an optional bias
/// that broadcasts onto the scores.
std::vector<double> reference(Operand &q, Operand &k, Operand &v,
                              AttentionMask mask,
                              const std::vector<int64_t> &lengths, float scale,
                              Operand *bias = nullptr) {
  int64_t batch = q.sizes[0], heads = q.sizes[1], sq = q.sizes[2],
          d = q.sizes[3], sk = k.sizes[2], dv = v.sizes[3];
  std::vector<double> out(static_cast<size_t>(batch * heads * sq * dv));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < sq; ++i) {
        double *o = &out[static_cast<size_t>(((b * heads + h) * sq + i) * dv)];
        int64_t visible = sk;
        if (mask == AttentionMask::Causal)
          visible = i + (sk - sq) + 1;
        if (mask == AttentionMask::Padding)
          visible = std::min(lengths[static_cast<size_t>(b)], sk);
        if (visible <= 0) {
          // Every score gets the lowest float: all equal, a plain mean.
          for (int64_t j = 0; j < sk; ++j)
            for (int64_t x = 0; x < dv; ++x)
              o[x] += double(v.at(b, h, j, x)) / double(sk);
          continue;
        }
        std::vector<double> s(static_cast<size_t>(visible));
        double mx = -INFINITY;
        for (int64_t j = 0; j < visible; ++j) {
          double dot = 0.0;
          for (int64_t x = 0; x < d; ++x)
            dot += double(q.at(b, h, i, x)) * double(k.at(b, h, j, x));
          s[size_t(j)] = double(scale) * dot;
          if (bias)
            s[size_t(j)] += double(biasAt(*bias, b, h, i, j));
          mx = std::max(mx, s[size_t(j)]);
        }
        double sum = 0.0;
        for (int64_t j = 0; j < visible; ++j) {
          double w = std::exp(s[size_t(j)] - mx);
          sum += w;
          for (int64_t x = 0; x < dv; ++x)
            o[x] += w * double(v.at(b, h, j, x));
        }
        for (int64_t x = 0; x < dv; ++x)
          o[x] /= sum;
      }
  return out;
}

/// Runs the kernel on the views (out prefilled with a sentinel) and returns
/// its output; checks that nothing outside out's view was written.
void runKernel(Operand &q, Operand &k, Operand &v, Operand &out,
               AttentionMask mask, const std::vector<int64_t> &lengths,
               float scale, int maxThreads = 0, Operand *bias = nullptr) {
  std::fill(out.data.begin(), out.data.end(), 12345.0f);
  const int64_t *lengthsData = lengths.empty() ? nullptr : lengths.data();
  if (bias) {
    Shape4 biasStrides = broadcastStrides(*bias);
    kernels::attention(
        q.sizes[0], q.sizes[1], q.sizes[2], k.sizes[2], q.sizes[3], v.sizes[3],
        q.base(), q.strides.data(), k.base(), k.strides.data(), v.base(),
        v.strides.data(), out.base(), out.strides.data(), bias->base(),
        biasStrides.data(), mask, lengthsData, 1, scale, maxThreads);
  } else {
    kernels::attention(q.sizes[0], q.sizes[1], q.sizes[2], k.sizes[2],
                       q.sizes[3], v.sizes[3], q.base(), q.strides.data(),
                       k.base(), k.strides.data(), v.base(), v.strides.data(),
                       out.base(), out.strides.data(), mask, lengthsData, 1,
                       scale, maxThreads);
  }
  std::vector<bool> inside(out.data.size(), false);
  out.forEach([&](int64_t, int64_t, int64_t, int64_t, float &e) {
    inside[static_cast<size_t>(&e - out.data.data())] = true;
  });
  for (size_t i = 0; i < out.data.size(); ++i)
    if (!inside[i]) {
      ASSERT_EQ(out.data[i], 12345.0f) << "wrote outside out at " << i;
    }
}

void expectMatches(Operand &out, const std::vector<double> &want) {
  int64_t heads = out.sizes[1], sq = out.sizes[2], dv = out.sizes[3];
  out.forEach([&](int64_t b, int64_t h, int64_t i, int64_t x, float &got) {
    double w = want[static_cast<size_t>(((b * heads + h) * sq + i) * dv + x)];
    ASSERT_NEAR(got, w, 1e-5 * (1.0 + std::fabs(w)))
        << "(b " << b << ", h " << h << ", i " << i << ", x " << x << ")";
  });
}

struct Case {
  int64_t batch, heads, sq, sk, d, dv;
};

std::string describe(const Case &c, AttentionMask mask) {
  const char *names[] = {"none", "causal", "padding"};
  return "B " + std::to_string(c.batch) + " H " + std::to_string(c.heads) +
         " Sq " + std::to_string(c.sq) + " Sk " + std::to_string(c.sk) + " D " +
         std::to_string(c.d) + " Dv " + std::to_string(c.dv) + " mask " +
         names[static_cast<int>(mask)];
}

/// One random dense problem against the reference.
void checkDense(const Case &c, AttentionMask mask,
                const std::vector<int64_t> &lengths, std::mt19937 &rng) {
  SCOPED_TRACE(describe(c, mask));
  Operand q({c.batch, c.heads, c.sq, c.d}), k({c.batch, c.heads, c.sk, c.d}),
      v({c.batch, c.heads, c.sk, c.dv}), out({c.batch, c.heads, c.sq, c.dv});
  q.fillUniform(rng, 1.0f);
  k.fillUniform(rng, 1.0f);
  v.fillUniform(rng, 1.0f);
  float scale = 1.0f / std::sqrt(float(std::max<int64_t>(c.d, 1)));
  runKernel(q, k, v, out, mask, lengths, scale);
  expectMatches(out, reference(q, k, v, mask, lengths, scale));
}

/// Every AttentionTest runs once per kernel (avx2 and avx512); the avx512
/// instance is skipped on CPUs without AVX-512.
class AttentionTest : public ::testing::TestWithParam<kernels::GemmIsa> {
protected:
  void SetUp() override {
    if (GetParam() == kernels::GemmIsa::Avx512 && !kernels::avx512Available())
      GTEST_SKIP() << "no AVX-512 on this CPU";
    kernels::setAttentionIsaForTesting(GetParam());
    // Builds without AVX2 have only the portable kernel.
    if (std::strcmp(kernels::attentionIsaName(), "scalar") != 0) {
      ASSERT_STREQ(kernels::attentionIsaName(),
                   GetParam() == kernels::GemmIsa::Avx2 ? "avx2" : "avx512");
    }
  }
  void TearDown() override {
    kernels::setAttentionIsaForTesting(kernels::GemmIsa::Auto);
  }
};

// Sizes that do not divide the tiles (64 queries, 64 keys, 6-row groups, 16
// lanes), and some that do.
const Case kCases[] = {
    {1, 2, 5, 37, 9, 7},      {2, 3, 64, 64, 16, 16},  {1, 1, 130, 200, 64, 64},
    {1, 2, 1, 1, 4, 4},       {1, 1, 65, 129, 33, 80}, {1, 1, 3, 70, 64, 130},
    {2, 1, 13, 13, 1, 1},     {1, 2, 17, 150, 24, 40}, {1, 1, 128, 128, 64, 64},
    {1, 1, 200, 1100, 16, 8}, {1, 2, 3, 5, 0, 4},
};

TEST_P(AttentionTest, NoMask) {
  std::mt19937 rng(1);
  for (const Case &c : kCases) {
    checkDense(c, AttentionMask::None, {}, rng);
    if (HasFatalFailure())
      return;
  }
}

TEST_P(AttentionTest, Causal) {
  std::mt19937 rng(2);
  for (const Case &c : kCases) {
    checkDense(c, AttentionMask::Causal, {}, rng);
    if (HasFatalFailure())
      return;
  }
  // Fewer queries than keys: the queries are the last positions.
  for (Case c : {Case{1, 2, 1, 1024, 64, 64}, Case{2, 3, 5, 37, 9, 7},
                 Case{1, 1, 70, 300, 32, 32}, Case{1, 1, 64, 65, 8, 8}}) {
    checkDense(c, AttentionMask::Causal, {}, rng);
    if (HasFatalFailure())
      return;
  }
}

TEST_P(AttentionTest, Padding) {
  std::mt19937 rng(3);
  for (const Case &c : kCases) {
    std::vector<int64_t> lengths;
    for (int64_t b = 0; b < c.batch; ++b)
      lengths.push_back(std::max<int64_t>(1, c.sk * (b + 1) / 3 + b));
    checkDense(c, AttentionMask::Padding, lengths, rng);
    if (HasFatalFailure())
      return;
  }
  // Two batch items with different lengths, in and beyond the first tile.
  checkDense({2, 3, 70, 70, 16, 16}, AttentionMask::Padding, {5, 66}, rng);
  checkDense({2, 2, 1, 300, 64, 64}, AttentionMask::Padding, {300, 129}, rng);
}

TEST_P(AttentionTest, PaddingLengthsOutOfRange) {
  // lengths <= 0: no key visible, the mean of V over all keys; lengths > Sk:
  // every key, exactly as without a mask.
  std::mt19937 rng(4);
  Case c{4, 2, 9, 37, 9, 7};
  std::vector<int64_t> lengths = {0, 1000, -3, 37};
  checkDense(c, AttentionMask::Padding, lengths, rng);

  Operand q({1, 2, 9, 9}), k({1, 2, 70, 9}), v({1, 2, 70, 7}),
      padded({1, 2, 9, 7}), unmasked({1, 2, 9, 7});
  q.fillUniform(rng, 1.0f);
  k.fillUniform(rng, 1.0f);
  v.fillUniform(rng, 1.0f);
  runKernel(q, k, v, padded, AttentionMask::Padding, {71}, 0.3f);
  runKernel(q, k, v, unmasked, AttentionMask::None, {}, 0.3f);
  EXPECT_EQ(padded.data, unmasked.data);
}

TEST_P(AttentionTest, DecodeReadsOnlyVisibleKeys) {
  // Decode: one query, a 1024-key cache of which 17 (or 64, 65) positions
  // are filled. The rest is NaN: reading any of it would show.
  std::mt19937 rng(5);
  for (int64_t length : {17, 64, 65, 1}) {
    SCOPED_TRACE("length " + std::to_string(length));
    Operand q({1, 12, 1, 64}), k({1, 12, 1024, 64}), v({1, 12, 1024, 64}),
        out({1, 12, 1, 64});
    q.fillUniform(rng, 1.0f);
    k.fillUniform(rng, 1.0f);
    v.fillUniform(rng, 1.0f);
    std::vector<int64_t> lengths = {length};
    std::vector<double> want =
        reference(q, k, v, AttentionMask::Padding, lengths, 0.125f);
    for (Operand *t : {&k, &v})
      t->forEach([&](int64_t, int64_t, int64_t j, int64_t, float &e) {
        if (j >= length)
          e = std::numeric_limits<float>::quiet_NaN();
      });
    runKernel(q, k, v, out, AttentionMask::Padding, lengths, 0.125f);
    expectMatches(out, want);
  }
}

TEST_P(AttentionTest, StridedViews) {
  std::mt19937 rng(6);
  int64_t batch = 2, heads = 3, s = 45, d = 20;
  for (AttentionMask mask :
       {AttentionMask::None, AttentionMask::Causal, AttentionMask::Padding}) {
    SCOPED_TRACE(describe({batch, heads, s, s, d, d}, mask));
    // Q, K, V: the head split of a fused QKV projection [B, S, 3, H, D], a
    // transposed view with heads interleaved (offsets 0, H*D, 2*H*D).
    Shape4 fused{s * 3 * heads * d, d, 3 * heads * d, 1};
    Operand q({batch, heads, s, d}, fused, 0),
        k({batch, heads, s, d}, fused, heads * d),
        v({batch, heads, s, d}, fused, 2 * heads * d);
    // Out written straight into [B, S, H, D] for the output projection.
    Operand out({batch, heads, s, d}, {s * heads * d, d, heads * d, 1}, 0);
    q.fillUniform(rng, 1.0f);
    k.fillUniform(rng, 1.0f);
    v.fillUniform(rng, 1.0f);
    std::vector<int64_t> lengths = {30, 45};
    runKernel(q, k, v, out, mask, lengths, 0.2f);
    expectMatches(out, reference(q, k, v, mask, lengths, 0.2f));
    if (HasFatalFailure())
      return;

    // No unit stride: K stored transposed [B, H, D, S], Q, V and out with
    // every other (or third) element, plus padded rows.
    Operand qs({batch, heads, s, d},
               {heads * s * (3 * d + 1), s * (3 * d + 1), 3 * d + 1, 3}, 2),
        kt({batch, heads, s, d}, {heads * d * s, d * s, 1, s}, 1),
        vs({batch, heads, s, d},
           {heads * s * (2 * d + 5), s * (2 * d + 5), 2 * d + 5, 2}, 3),
        outs({batch, heads, s, d}, {heads * s * 2 * d, s * 2 * d, 2 * d, 2}, 1);
    qs.fillUniform(rng, 1.0f);
    kt.fillUniform(rng, 1.0f);
    vs.fillUniform(rng, 1.0f);
    runKernel(qs, kt, vs, outs, mask, lengths, 0.2f);
    expectMatches(outs, reference(qs, kt, vs, mask, lengths, 0.2f));
    if (HasFatalFailure())
      return;
  }
}

TEST_P(AttentionTest, LargeScoresRescale) {
  // Scale 10 and values up to +-10: scores span thousands, so the running
  // max jumps between tiles and old sums are rescaled by exp(m_old - m_new)
  // down to zero. Q and K are multiples of 1/4 so that the float scores are
  // exact and the comparison measures the softmax, not the dot products.
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> quarter(-40, 40);
  for (AttentionMask mask : {AttentionMask::None, AttentionMask::Causal}) {
    Case c{1, 2, 70, 300, 16, 24};
    SCOPED_TRACE(describe(c, mask));
    Operand q({1, 2, 70, 16}), k({1, 2, 300, 16}), v({1, 2, 300, 24}),
        out({1, 2, 70, 24});
    for (Operand *t : {&q, &k})
      t->forEach([&](int64_t, int64_t, int64_t, int64_t, float &e) {
        e = quarter(rng) / 4.0f;
      });
    v.fillUniform(rng, 10.0f);
    runKernel(q, k, v, out, mask, {}, 10.0f);
    expectMatches(out, reference(q, k, v, mask, {}, 10.0f));
  }
  // Moderate scores that grow along the keys: every tile raises the max by
  // a little, so alpha is strictly between 0 and 1.
  Operand q({1, 1, 40, 8}), k({1, 1, 400, 8}), v({1, 1, 400, 8}),
      out({1, 1, 40, 8});
  q.forEach([](int64_t, int64_t, int64_t, int64_t, float &e) { e = 1.0f; });
  k.forEach([](int64_t, int64_t, int64_t j, int64_t x, float &e) {
    e = 0.01f * float(j) + 0.001f * float(x);
  });
  v.fillUniform(rng, 3.0f);
  runKernel(q, k, v, out, AttentionMask::None, {}, 0.5f);
  expectMatches(out, reference(q, k, v, AttentionMask::None, {}, 0.5f));
}

TEST_P(AttentionTest, EmptyKeysGiveZeros) {
  // Softmax over no keys times an empty V: zeros, as the unfused product.
  Operand q({1, 2, 3, 4}), k({1, 2, 0, 4}), v({1, 2, 0, 5}), out({1, 2, 3, 5});
  std::mt19937 rng(8);
  q.fillUniform(rng, 1.0f);
  runKernel(q, k, v, out, AttentionMask::None, {}, 1.0f);
  EXPECT_EQ(out.data, std::vector<float>(out.data.size(), 0.0f));
  runKernel(q, k, v, out, AttentionMask::Padding, {0}, 1.0f);
  EXPECT_EQ(out.data, std::vector<float>(out.data.size(), 0.0f));
}

/// Runs `f` with the global pool at `threads` threads.
template <typename F> void withThreads(int threads, F f) {
  ThreadPool &pool = ThreadPool::global();
  int saved = pool.numThreads();
  pool.setNumThreads(threads);
  f();
  pool.setNumThreads(saved);
}

TEST_P(AttentionTest, ThreadCountDoesNotChangeResults) {
  std::mt19937 rng(9);
  struct Problem {
    Case c;
    AttentionMask mask;
    std::vector<int64_t> lengths;
  };
  const Problem problems[] = {
      {{1, 12, 128, 128, 64, 64}, AttentionMask::None, {}},
      {{1, 12, 300, 300, 64, 64}, AttentionMask::Causal, {}},
      {{2, 12, 1, 1024, 64, 64}, AttentionMask::Padding, {17, 1000}},
      {{3, 4, 100, 100, 32, 48}, AttentionMask::Padding, {100, 7, 0}},
  };
  for (const Problem &p : problems) {
    SCOPED_TRACE(describe(p.c, p.mask));
    const Case &c = p.c;
    Operand q({c.batch, c.heads, c.sq, c.d}), k({c.batch, c.heads, c.sk, c.d}),
        v({c.batch, c.heads, c.sk, c.dv}),
        serial({c.batch, c.heads, c.sq, c.dv});
    q.fillUniform(rng, 1.0f);
    k.fillUniform(rng, 1.0f);
    v.fillUniform(rng, 1.0f);
    runKernel(q, k, v, serial, p.mask, p.lengths, 0.125f, 1);
    for (int threads : {2, 3}) {
      Operand parallel = serial;
      withThreads(threads, [&] {
        runKernel(q, k, v, parallel, p.mask, p.lengths, 0.125f);
      });
      EXPECT_EQ(serial.data, parallel.data) << threads << " threads";
    }
  }
}

TEST_P(AttentionTest, CalledInsideAParallelRegion) {
  // Nested calls run serially on the calling thread and give the same bits.
  std::mt19937 rng(10);
  Operand q({1, 4, 100, 32}), k({1, 4, 100, 32}), v({1, 4, 100, 32}),
      expected({1, 4, 100, 32});
  q.fillUniform(rng, 1.0f);
  k.fillUniform(rng, 1.0f);
  v.fillUniform(rng, 1.0f);
  runKernel(q, k, v, expected, AttentionMask::Causal, {}, 0.2f);
  std::vector<Operand> results(4, expected);
  ThreadPool pool(4);
  pool.run(4, [&](int index, int) {
    Operand &out = results[static_cast<size_t>(index)];
    std::fill(out.data.begin(), out.data.end(), 0.0f);
    kernels::attention(1, 4, 100, 100, 32, 32, q.base(), q.strides.data(),
                       k.base(), k.strides.data(), v.base(), v.strides.data(),
                       out.base(), out.strides.data(), AttentionMask::Causal,
                       nullptr, 0, 0.2f);
  });
  for (const Operand &out : results)
    EXPECT_EQ(out.data, expected.data);
}

TEST_P(AttentionTest, CInterface) {
  std::mt19937 rng(11);
  // Q as the head split of a [B, S, H, D] buffer, the rest dense.
  int64_t batch = 2, heads = 2, sq = 10, sk = 20, d = 12, dv = 6;
  Operand q({batch, heads, sq, d}, {sq * heads * d, d, heads * d, 1}, 5),
      k({batch, heads, sk, d}), v({batch, heads, sk, dv}),
      out({batch, heads, sq, dv});
  q.fillUniform(rng, 1.0f);
  k.fillUniform(rng, 1.0f);
  v.fillUniform(rng, 1.0f);
  KilnMemRef<4> mq = q.memref(), mk = k.memref(), mv = v.memref(),
                mo = out.memref();
  for (int64_t mask : {0, 1}) {
    AttentionMask kind = mask ? AttentionMask::Causal : AttentionMask::None;
    _mlir_ciface_kiln_attention_f32(&mq, &mk, &mv, &mo, mask, 0.3f);
    expectMatches(out, reference(q, k, v, kind, {}, 0.3f));
  }
  // lengths as a strided view: every other element of a buffer, offset 1.
  std::vector<int64_t> buffer = {-1, 7, -1, 0, -1};
  KilnIndexMemRef1 lengths{buffer.data(), buffer.data(), 1, {batch}, {2}};
  _mlir_ciface_kiln_attention_lengths_f32(&mq, &mk, &mv, &lengths, &mo, 0.3f);
  expectMatches(out, reference(q, k, v, AttentionMask::Padding, {7, 0}, 0.3f));
}

//===----------------------------------------------------------------------===//
// Additive bias
//===----------------------------------------------------------------------===//

/// The bias layouts models pass: relative positions shared by the batch
/// (Swin's windows x heads, T5), explicit masks per item, per item and query,
/// a scalar, and a full [B, H, Sq, Sk] one.
enum class BiasShape { SharedByBatch, PerItem, PerItemKeys, Scalar, Full };

const BiasShape kBiasShapes[] = {BiasShape::SharedByBatch, BiasShape::PerItem,
                                 BiasShape::PerItemKeys, BiasShape::Scalar,
                                 BiasShape::Full};

Shape4 biasSizes(BiasShape shape, const Case &c) {
  switch (shape) {
  case BiasShape::SharedByBatch:
    return {1, c.heads, c.sq, c.sk};
  case BiasShape::PerItem:
    return {c.batch, 1, c.sq, c.sk};
  case BiasShape::PerItemKeys:
    return {c.batch, 1, 1, c.sk};
  case BiasShape::Scalar:
    return {1, 1, 1, 1};
  case BiasShape::Full:
    break;
  }
  return {c.batch, c.heads, c.sq, c.sk};
}

std::string describe(const Case &c, AttentionMask mask, const Operand &bias) {
  return describe(c, mask) + " bias [" + std::to_string(bias.sizes[0]) + ", " +
         std::to_string(bias.sizes[1]) + ", " + std::to_string(bias.sizes[2]) +
         ", " + std::to_string(bias.sizes[3]) + "]";
}

/// Uniform in [-2, 2], with about one entry in eight at -100 (a soft mask,
/// as Swin's shifted windows add).
void fillBias(Operand &bias, std::mt19937 &rng) {
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::uniform_int_distribution<int> eighth(0, 7);
  bias.forEach([&](int64_t, int64_t, int64_t, int64_t, float &e) {
    e = eighth(rng) == 0 ? -100.0f : dist(rng);
  });
}

/// Runs the kernel with `bias` and compares with the reference.
void checkWithBias(const Case &c, AttentionMask mask,
                   const std::vector<int64_t> &lengths, Operand &bias,
                   std::mt19937 &rng) {
  SCOPED_TRACE(describe(c, mask, bias));
  Operand q({c.batch, c.heads, c.sq, c.d}), k({c.batch, c.heads, c.sk, c.d}),
      v({c.batch, c.heads, c.sk, c.dv}), out({c.batch, c.heads, c.sq, c.dv});
  q.fillUniform(rng, 1.0f);
  k.fillUniform(rng, 1.0f);
  v.fillUniform(rng, 1.0f);
  float scale = 1.0f / std::sqrt(float(std::max<int64_t>(c.d, 1)));
  runKernel(q, k, v, out, mask, lengths, scale, 0, &bias);
  expectMatches(out, reference(q, k, v, mask, lengths, scale, &bias));
}

/// Lengths that end inside the first, a middle and the last tile.
std::vector<int64_t> someLengths(const Case &c) {
  std::vector<int64_t> lengths;
  for (int64_t b = 0; b < c.batch; ++b)
    lengths.push_back(std::max<int64_t>(1, c.sk * (b + 1) / 3 + b));
  return lengths;
}

// Sizes off the tiles (64 queries, 64 keys, 6-row groups, 16 lanes).
const Case kBiasCases[] = {
    {2, 3, 5, 37, 9, 7},    {2, 2, 70, 130, 16, 24},  {1, 2, 65, 129, 33, 80},
    {2, 2, 1, 300, 64, 64}, {1, 1, 128, 128, 64, 64}, {2, 1, 13, 13, 1, 1},
    {1, 2, 49, 49, 32, 32},
};

TEST_P(AttentionTest, BiasShapes) {
  std::mt19937 rng(20);
  for (const Case &c : kBiasCases)
    for (BiasShape shape : kBiasShapes)
      for (AttentionMask mask : {AttentionMask::None, AttentionMask::Causal,
                                 AttentionMask::Padding}) {
        Operand bias(biasSizes(shape, c));
        fillBias(bias, rng);
        checkWithBias(c, mask, someLengths(c), bias, rng);
        if (HasFatalFailure())
          return;
      }
}

TEST_P(AttentionTest, BiasLowestFloatAndExtremes) {
  // Rows whose keys all have the lowest float as bias: the scores are all
  // the lowest float, so the weights are uniform over the visible keys, as
  // the unfused softmax gives; mixed rows give the other keys all the
  // weight. Across tiles, the running max jumps from the lowest float to
  // ordinary scores (alpha 0) and the other way (alpha 1).
  const float lowest = std::numeric_limits<float>::lowest();
  std::mt19937 rng(21);
  Case c{2, 2, 70, 150, 16, 16};
  for (AttentionMask mask :
       {AttentionMask::None, AttentionMask::Causal, AttentionMask::Padding}) {
    Operand bias({c.batch, c.heads, c.sq, c.sk});
    fillBias(bias, rng);
    bias.forEach([&](int64_t, int64_t h, int64_t i, int64_t j, float &e) {
      if (i == 0 || i == 3 || i == 66 || (h == 1 && i == 69))
        e = lowest; // the whole row
      else if (i == 5 && j != 7)
        e = lowest; // all but one key
      else if (i == 10 && j < 64)
        e = lowest; // the first tile
      else if (i == 11 && j >= 64)
        e = lowest; // all but the first tile
      else if (i == 12 && j % 2 == 0)
        e = -3.0e38f; // every other key gets no weight
      else if (i == 13 && j == 100)
        e = 1.0e30f; // one key takes all the weight
      else if (i == 14)
        e = 1.0e30f; // every key: equal scores again
      else if (i == 15)
        e = j == 0 ? 3.0e38f : lowest; // score - max overflows to -inf
    });
    checkWithBias(c, mask, {60, 150}, bias, rng);
    if (HasFatalFailure())
      return;
  }
  // A scalar lowest-float bias: uniform weights everywhere.
  Operand scalar({1, 1, 1, 1});
  scalar.at(0, 0, 0, 0) = lowest;
  checkWithBias(c, AttentionMask::Causal, {}, scalar, rng);
}

TEST_P(AttentionTest, BiasStridedViews) {
  std::mt19937 rng(22);
  Case c{2, 3, 45, 70, 20, 20};
  for (AttentionMask mask :
       {AttentionMask::None, AttentionMask::Causal, AttentionMask::Padding}) {
    // Stored transposed [B, H, Sk, Sq], with an offset: keys are not
    // contiguous and go through the kernel's gathered tile.
    Operand transposed({c.batch, c.heads, c.sq, c.sk},
                       {c.heads * c.sk * c.sq, c.sk * c.sq, 1, c.sq}, 3);
    fillBias(transposed, rng);
    checkWithBias(c, mask, {30, 70}, transposed, rng);
    // Full sizes with stride 0 on the broadcast axes (instead of size 1):
    // [B, 1, 1, Sk] and [1, H, Sq, 1] as the code generator passes them.
    Operand perItemKeys({c.batch, c.heads, c.sq, c.sk}, {c.sk, 0, 0, 1}, 0),
        perRow({c.batch, c.heads, c.sq, c.sk}, {0, c.sq, 1, 0}, 1);
    fillBias(perItemKeys, rng);
    fillBias(perRow, rng);
    checkWithBias(c, mask, {30, 70}, perItemKeys, rng);
    checkWithBias(c, mask, {30, 70}, perRow, rng);
    if (HasFatalFailure())
      return;
  }
}

TEST_P(AttentionTest, BiasOfInvisibleKeysHasNoEffect) {
  // The bias of keys past the causal diagonal or the lengths is NaN: if it
  // reached a score or a weight, the output would show it.
  std::mt19937 rng(23);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Case c{2, 2, 70, 200, 16, 16};
  std::vector<int64_t> lengths = {17, 130};
  for (AttentionMask mask : {AttentionMask::Causal, AttentionMask::Padding}) {
    for (bool transposed : {false, true}) {
      Operand bias =
          transposed ? Operand({c.batch, c.heads, c.sq, c.sk},
                               {c.heads * c.sk * c.sq, c.sk * c.sq, 1, c.sq}, 0)
                     : Operand({c.batch, c.heads, c.sq, c.sk});
      fillBias(bias, rng);
      SCOPED_TRACE(transposed ? "transposed" : "dense");
      Operand q({c.batch, c.heads, c.sq, c.d}),
          k({c.batch, c.heads, c.sk, c.d}), v({c.batch, c.heads, c.sk, c.dv}),
          out({c.batch, c.heads, c.sq, c.dv});
      q.fillUniform(rng, 1.0f);
      k.fillUniform(rng, 1.0f);
      v.fillUniform(rng, 1.0f);
      std::vector<double> want =
          reference(q, k, v, mask, lengths, 0.25f, &bias);
      bias.forEach([&](int64_t b, int64_t, int64_t i, int64_t j, float &e) {
        bool visible = mask == AttentionMask::Causal
                           ? j <= i + (c.sk - c.sq)
                           : j < lengths[static_cast<size_t>(b)];
        if (!visible)
          e = nan;
      });
      runKernel(q, k, v, out, mask, lengths, 0.25f, 0, &bias);
      expectMatches(out, want);
      if (HasFatalFailure())
        return;
    }
  }
}

TEST_P(AttentionTest, BiasWithNoVisibleKey) {
  // lengths <= 0: the mean of V over all keys, whatever the bias (the
  // reference's lowest-float mask absorbs it).
  std::mt19937 rng(24);
  Case c{3, 2, 9, 37, 9, 7};
  Operand bias({1, c.heads, c.sq, c.sk});
  fillBias(bias, rng);
  Operand q({c.batch, c.heads, c.sq, c.d}), k({c.batch, c.heads, c.sk, c.d}),
      v({c.batch, c.heads, c.sk, c.dv}), out({c.batch, c.heads, c.sq, c.dv});
  q.fillUniform(rng, 1.0f);
  k.fillUniform(rng, 1.0f);
  v.fillUniform(rng, 1.0f);
  std::vector<int64_t> lengths = {0, 20, -1};
  runKernel(q, k, v, out, AttentionMask::Padding, lengths, 0.3f, 0, &bias);
  expectMatches(
      out, reference(q, k, v, AttentionMask::Padding, lengths, 0.3f, &bias));
}

TEST_P(AttentionTest, BiasThreadCountDoesNotChangeResults) {
  std::mt19937 rng(25);
  struct Problem {
    Case c;
    BiasShape shape;
    AttentionMask mask;
    std::vector<int64_t> lengths;
  };
  const Problem problems[] = {
      {{2, 64 * 3, 49, 49, 32, 32},
       BiasShape::SharedByBatch,
       AttentionMask::None,
       {}},
      {{1, 8, 128, 128, 64, 64},
       BiasShape::SharedByBatch,
       AttentionMask::None,
       {}},
      {{1, 4, 300, 300, 64, 64},
       BiasShape::SharedByBatch,
       AttentionMask::Causal,
       {}},
      {{3, 4, 100, 100, 32, 48},
       BiasShape::PerItemKeys,
       AttentionMask::Padding,
       {100, 7, 0}},
      {{2, 3, 70, 90, 16, 16}, BiasShape::Scalar, AttentionMask::None, {}},
  };
  for (const Problem &p : problems) {
    const Case &c = p.c;
    Operand bias(biasSizes(p.shape, c));
    fillBias(bias, rng);
    SCOPED_TRACE(describe(c, p.mask, bias));
    Operand q({c.batch, c.heads, c.sq, c.d}), k({c.batch, c.heads, c.sk, c.d}),
        v({c.batch, c.heads, c.sk, c.dv}),
        serial({c.batch, c.heads, c.sq, c.dv});
    q.fillUniform(rng, 1.0f);
    k.fillUniform(rng, 1.0f);
    v.fillUniform(rng, 1.0f);
    runKernel(q, k, v, serial, p.mask, p.lengths, 0.125f, 1, &bias);
    for (int threads : {2, 3}) {
      Operand parallel = serial;
      withThreads(threads, [&] {
        runKernel(q, k, v, parallel, p.mask, p.lengths, 0.125f, 0, &bias);
      });
      EXPECT_EQ(serial.data, parallel.data) << threads << " threads";
    }
  }
}

TEST_P(AttentionTest, BiasCInterface) {
  std::mt19937 rng(26);
  int64_t batch = 2, heads = 3, sq = 10, sk = 20, d = 12, dv = 6;
  Operand q({batch, heads, sq, d}), k({batch, heads, sk, d}),
      v({batch, heads, sk, dv}), out({batch, heads, sq, dv});
  q.fillUniform(rng, 1.0f);
  k.fillUniform(rng, 1.0f);
  v.fillUniform(rng, 1.0f);
  KilnMemRef<4> mq = q.memref(), mk = k.memref(), mv = v.memref(),
                mo = out.memref();
  // [1, H, Sq, Sk]: the size-1 batch axis broadcasts whatever its stride.
  Operand shared({1, heads, sq, sk});
  fillBias(shared, rng);
  KilnMemRef<4> sharedRef = shared.memref();
  sharedRef.strides[0] = 12345;
  for (int64_t mask : {0, 1}) {
    AttentionMask kind = mask ? AttentionMask::Causal : AttentionMask::None;
    _mlir_ciface_kiln_attention_bias_f32(&mq, &mk, &mv, &sharedRef, &mo, mask,
                                         0.3f);
    expectMatches(out, reference(q, k, v, kind, {}, 0.3f, &shared));
  }
  // [B, 1, 1, Sk] as a full-size view with zero strides, as generated code
  // passes it, and lengths.
  Operand perItem({batch, 1, 1, sk});
  fillBias(perItem, rng);
  KilnMemRef<4> perItemRef = perItem.memref();
  perItemRef.sizes[1] = heads;
  perItemRef.sizes[2] = sq;
  perItemRef.strides[1] = perItemRef.strides[2] = 0;
  std::vector<int64_t> buffer = {13, 0};
  KilnIndexMemRef1 lengths{buffer.data(), buffer.data(), 0, {batch}, {1}};
  _mlir_ciface_kiln_attention_bias_lengths_f32(&mq, &mk, &mv, &perItemRef,
                                               &lengths, &mo, 0.3f);
  expectMatches(
      out, reference(q, k, v, AttentionMask::Padding, {13, 0}, 0.3f, &perItem));
}

INSTANTIATE_TEST_SUITE_P(
    Attention, AttentionTest,
    ::testing::Values(kernels::GemmIsa::Avx2, kernels::GemmIsa::Avx512),
    [](const ::testing::TestParamInfo<kernels::GemmIsa> &info) {
      return std::string(info.param == kernels::GemmIsa::Avx2 ? "avx2"
                                                              : "avx512");
    });

TEST(AttentionIsaTest, Avx2AndAvx512GiveTheSameBits) {
  // Both kernels use the same exp and the same summation orders.
  if (!kernels::avx512Available())
    GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(12);
  for (Case c : {Case{1, 3, 130, 200, 64, 64}, Case{2, 2, 5, 37, 9, 7},
                 Case{1, 1, 1, 1024, 64, 64}, Case{1, 1, 65, 129, 33, 80}})
    for (AttentionMask mask : {AttentionMask::None, AttentionMask::Causal}) {
      SCOPED_TRACE(describe(c, mask));
      Operand q({c.batch, c.heads, c.sq, c.d}),
          k({c.batch, c.heads, c.sk, c.d}), v({c.batch, c.heads, c.sk, c.dv}),
          out2({c.batch, c.heads, c.sq, c.dv}), out512 = out2;
      q.fillUniform(rng, 2.0f);
      k.fillUniform(rng, 2.0f);
      v.fillUniform(rng, 1.0f);
      kernels::setAttentionIsaForTesting(kernels::GemmIsa::Avx2);
      runKernel(q, k, v, out2, mask, {}, 0.4f);
      kernels::setAttentionIsaForTesting(kernels::GemmIsa::Avx512);
      runKernel(q, k, v, out512, mask, {}, 0.4f);
      kernels::setAttentionIsaForTesting(kernels::GemmIsa::Auto);
      EXPECT_EQ(out2.data, out512.data);
    }
}

TEST(AttentionIsaTest, BiasAvx2AndAvx512GiveTheSameBits) {
  if (!kernels::avx512Available())
    GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(27);
  const float lowest = std::numeric_limits<float>::lowest();
  for (Case c : {Case{1, 3, 130, 200, 64, 64}, Case{2, 2, 5, 37, 9, 7},
                 Case{1, 1, 1, 1024, 64, 64}, Case{1, 2, 49, 49, 32, 32}})
    for (BiasShape shape : kBiasShapes)
      for (AttentionMask mask : {AttentionMask::None, AttentionMask::Causal,
                                 AttentionMask::Padding}) {
        Operand bias(biasSizes(shape, c));
        fillBias(bias, rng);
        bias.forEach([&](int64_t, int64_t, int64_t i, int64_t, float &e) {
          if (i == 2)
            e = lowest;
        });
        SCOPED_TRACE(describe(c, mask, bias));
        Operand q({c.batch, c.heads, c.sq, c.d}),
            k({c.batch, c.heads, c.sk, c.d}), v({c.batch, c.heads, c.sk, c.dv}),
            out2({c.batch, c.heads, c.sq, c.dv}), out512 = out2;
        q.fillUniform(rng, 2.0f);
        k.fillUniform(rng, 2.0f);
        v.fillUniform(rng, 1.0f);
        std::vector<int64_t> lengths = someLengths(c);
        kernels::setAttentionIsaForTesting(kernels::GemmIsa::Avx2);
        runKernel(q, k, v, out2, mask, lengths, 0.4f, 0, &bias);
        kernels::setAttentionIsaForTesting(kernels::GemmIsa::Avx512);
        runKernel(q, k, v, out512, mask, lengths, 0.4f, 0, &bias);
        kernels::setAttentionIsaForTesting(kernels::GemmIsa::Auto);
        EXPECT_EQ(out2.data, out512.data);
      }
}

TEST(AttentionDeathTest, MismatchedShapesAbort) {
  std::vector<float> buf(4096, 0.0f);
  auto memref = [&](Shape4 s) {
    return KilnMemRef<4>{buf.data(),
                         buf.data(),
                         0,
                         {s[0], s[1], s[2], s[3]},
                         {s[1] * s[2] * s[3], s[2] * s[3], s[3], 1}};
  };
  KilnMemRef<4> q = memref({1, 2, 3, 4}), k = memref({1, 2, 5, 4}),
                v = memref({1, 2, 5, 6}), out = memref({1, 2, 3, 6});
  KilnMemRef<4> badK = memref({1, 2, 5, 8}), badV = memref({1, 2, 6, 6}),
                badOut = memref({1, 3, 3, 6});
  EXPECT_DEATH(_mlir_ciface_kiln_attention_f32(&q, &badK, &v, &out, 0, 1.0f),
               "kiln_attention_f32: shapes do not agree: head dims of Q and "
               "K differ");
  EXPECT_DEATH(_mlir_ciface_kiln_attention_f32(&q, &k, &badV, &out, 0, 1.0f),
               "key counts of K and V differ");
  EXPECT_DEATH(_mlir_ciface_kiln_attention_f32(&q, &k, &v, &badOut, 0, 1.0f),
               "head counts differ");
  EXPECT_DEATH(_mlir_ciface_kiln_attention_f32(&q, &k, &v, &out, 2, 1.0f),
               "unknown mask kind 2");
  // Causal attention needs Sq <= Sk.
  KilnMemRef<4> longQ = memref({1, 2, 7, 4}), longOut = memref({1, 2, 7, 6});
  EXPECT_DEATH(
      _mlir_ciface_kiln_attention_f32(&longQ, &k, &v, &longOut, 1, 1.0f),
      "kiln_attention_f32: causal attention needs no more queries than keys "
      "\\(Sq 7, Sk 5\\)");
  std::vector<int64_t> lengths = {3, 3};
  KilnIndexMemRef1 badLengths{lengths.data(), lengths.data(), 0, {2}, {1}};
  EXPECT_DEATH(_mlir_ciface_kiln_attention_lengths_f32(&q, &k, &v, &badLengths,
                                                       &out, 1.0f),
               "kiln_attention_lengths_f32: lengths has 2 entries for a "
               "batch of 1");
  // A bias must broadcast onto the scores [1, 2, 3, 5].
  KilnMemRef<4> badBias = memref({1, 2, 3, 4}), bias = memref({1, 1, 3, 5});
  EXPECT_DEATH(
      _mlir_ciface_kiln_attention_bias_f32(&q, &k, &v, &badBias, &out, 0, 1.0f),
      "kiln_attention_bias_f32: bias \\[1, 2, 3, 4\\] does not "
      "broadcast to the scores \\[1, 2, 3, 5\\]");
  EXPECT_DEATH(
      _mlir_ciface_kiln_attention_bias_f32(&q, &k, &v, &bias, &out, 2, 1.0f),
      "kiln_attention_bias_f32: unknown mask kind 2");
  EXPECT_DEATH(_mlir_ciface_kiln_attention_bias_lengths_f32(
                   &q, &k, &v, &bias, &badLengths, &out, 1.0f),
               "kiln_attention_bias_lengths_f32: lengths has 2 entries");
}

} // namespace
