//===- KernelTests.cpp - The Halide kernel families against references ----===//
//
// Each test builds a kernel from a spec (codegen/halide/generator/Kernels.h),
// JIT-compiles it for the host (and for an AVX2-only target where said),
// runs it on random inputs (fixed seeds), some of them strided views, and
// compares it with a naive reference accumulating in double.
//
// Timings live in utils/bench/halide_kernels.cpp.
//
//===----------------------------------------------------------------------===//

#include "codegen/halide/generator/Kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <random>

// In a sanitized build (make test-sanitize), LeakSanitizer would fail this
// binary at exit on libHalide's JIT state, which it never frees.
#if defined(__SANITIZE_ADDRESS__)
extern "C" int __lsan_is_turned_off() { return 1; }
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
extern "C" int __lsan_is_turned_off() { return 1; }
#endif
#endif

using namespace kiln::halide;
using Halide::Buffer;
using kiln::Expected;

namespace {

const Halide::Target &hostTarget() {
  static Halide::Target target = Halide::get_host_target();
  return target;
}

const Halide::Target &avx2Target() {
  static Halide::Target target("x86-64-linux-avx-avx2-fma-f16c-sse41");
  return target;
}

KernelArg arg(const std::string &name, std::vector<int64_t> shape,
              DType dtype = DType::F32) {
  KernelArg result;
  result.name = name;
  result.dtype = dtype;
  result.shape = std::move(shape);
  return result;
}

/// A dense buffer of `shape` (spec order, outermost first).
Buffer<float> makeBuffer(const std::vector<int64_t> &shape) {
  std::vector<int> sizes(shape.rbegin(), shape.rend());
  return Buffer<float>(sizes);
}

void fillRandom(Buffer<float> &buffer, uint32_t seed, float lo = -1.0f,
                float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  buffer.for_each_value([&](float &v) { v = dist(rng); });
}

Buffer<float> randomBuffer(const std::vector<int64_t> &shape, uint32_t seed,
                           float lo = -1.0f, float hi = 1.0f) {
  Buffer<float> buffer = makeBuffer(shape);
  fillRandom(buffer, seed, lo, hi);
  return buffer;
}

/// Element at spec-order index `index` (outermost first).
template <typename T>
T &at(Buffer<T> &buffer, std::initializer_list<int> index) {
  int position[8];
  int rank = static_cast<int>(index.size());
  int d = rank - 1;
  for (int i : index)
    position[d--] = i;
  return buffer(position);
}

/// Builds `spec` for `target` and runs it on `inputs` into `out`.
void run(const KernelSpec &spec, const Halide::Target &target,
         const std::vector<Halide::Buffer<>> &inputs, Buffer<float> &out,
         std::string *summary = nullptr) {
  ASSERT_FALSE(checkKernelSpec(spec)) << spec.toJson();
  Expected<BuiltKernel> built = buildKernel(spec, target);
  ASSERT_TRUE(bool(built)) << built.message();
  BuiltKernel kernel = std::move(*built);
  ASSERT_EQ(kernel.inputs.size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    kernel.inputs[i].set(inputs[i]);
  if (summary)
    *summary = kernel.scheduleSummary;
  kernel.pipeline().realize(out, target);
}

/// Expects |got - want| <= atol + rtol |want| elementwise (spec shapes).
void expectClose(Buffer<float> &got, Buffer<double> &want, double atol,
                 double rtol, const std::string &what) {
  ASSERT_EQ(got.number_of_elements(), want.number_of_elements());
  int failures = 0;
  double worst = 0;
  want.for_each_element([&](const int *pos) {
    double w = want(pos), g = got(pos);
    double err = std::abs(g - w);
    double allowed = atol + rtol * std::abs(w);
    if (!(err <= allowed)) {
      worst = std::max(worst, err / allowed);
      if (++failures <= 5)
        ADD_FAILURE() << what << ": at " << pos[0] << "," << pos[1] << " got "
                      << g << " want " << w;
    }
  });
  EXPECT_EQ(failures, 0) << what << " (worst error / allowed " << worst << ")";
}

Buffer<double> doubleBuffer(const Buffer<float> &like) {
  std::vector<int> sizes;
  for (int d = 0; d < like.dimensions(); ++d)
    sizes.push_back(like.dim(d).extent());
  return Buffer<double>(sizes);
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

double referenceActivation(const std::string &name, double x) {
  if (name == "gelu")
    return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
  if (name == "gelu_tanh")
    // 0.5 x (1 + tanh u) = x sigmoid(2u): no cancellation for x << 0.
    return x / (1 + std::exp(-2 * std::sqrt(2 / M_PI) *
                             (x + 0.044715 * x * x * x)));
  if (name == "quick_gelu")
    return x / (1 + std::exp(-1.702 * x));
  if (name == "silu")
    return x / (1 + std::exp(-x));
  if (name == "relu")
    return std::max(x, 0.0);
  if (name == "tanh")
    return std::tanh(x);
  if (name == "erf")
    return std::erf(x);
  if (name == "exp")
    return std::exp(x);
  return x;
}

struct MathCase {
  const char *op;
  double rtol;
  /// gelu_tanh's argument 2u is rounded (as in the runtime, uncompensated):
  /// its relative error grows with |2u| where the value is tiny anyway.
  double atol = 1e-38;
};

class HalideMathTest : public ::testing::TestWithParam<MathCase> {};

TEST_P(HalideMathTest, DenseSweepMatchesDouble) {
  MathCase c = GetParam();
  // Every 1/2048 in [-10, 10], plus a few tiny magnitudes.
  std::vector<float> xs;
  for (int i = -20480; i <= 20480; ++i)
    xs.push_back(static_cast<float>(i) / 2048.0f);
  for (float tiny : {1e-30f, 1e-10f, 3e-5f, -1e-30f, -1e-10f, -3e-5f})
    xs.push_back(tiny);
  const int64_t n = static_cast<int64_t>(xs.size());
  KernelSpec spec;
  spec.op = "elementwise";
  spec.args = {arg("x", {n}), arg("out", {n})};
  spec.attrs["program"] =
      nlohmann::json::array({nlohmann::json::array({c.op, 0})});
  for (const Halide::Target *target : {&hostTarget(), &avx2Target()}) {
    Buffer<float> x = makeBuffer({n}), out = makeBuffer({n});
    for (int64_t i = 0; i < n; ++i)
      x(i) = xs[i];
    run(spec, *target, {x}, out);
    Buffer<double> want = doubleBuffer(out);
    for (int64_t i = 0; i < n; ++i)
      want(i) = referenceActivation(c.op, x(i));
    expectClose(out, want, c.atol, c.rtol,
                std::string(c.op) + " " + target->to_string());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Functions, HalideMathTest,
    ::testing::Values(MathCase{"exp", 1e-6}, MathCase{"erf", 1e-6},
                      MathCase{"tanh", 1e-6}, MathCase{"gelu", 1e-6},
                      MathCase{"gelu_tanh", 4e-6, 1e-12},
                      MathCase{"quick_gelu", 1e-6}, MathCase{"silu", 1e-6},
                      MathCase{"relu", 0}),
    [](const auto &info) { return std::string(info.param.op); });

//===----------------------------------------------------------------------===//
// linear
//===----------------------------------------------------------------------===//

struct LinearCase {
  int64_t m, k, n;
  std::string layout;
  bool bias;
  std::string activation;
  int panelWidth; // panels only
  bool avx2 = false;
};

std::string linearName(const LinearCase &c) {
  return std::to_string(c.m) + "x" + std::to_string(c.k) + "x" +
         std::to_string(c.n) + "_" + c.layout +
         (c.layout == "panels" ? std::to_string(c.panelWidth) : "") +
         (c.bias ? "_bias_" : "_") + c.activation + (c.avx2 ? "_avx2" : "");
}

class HalideLinearTest : public ::testing::TestWithParam<LinearCase> {};

TEST_P(HalideLinearTest, MatchesReference) {
  const LinearCase &c = GetParam();
  const int64_t w = c.panelWidth, panels = (c.n + w - 1) / w;
  KernelSpec spec;
  spec.op = "linear";
  spec.attrs = {{"weight_layout", c.layout},
                {"has_bias", c.bias},
                {"activation", c.activation}};
  std::vector<int64_t> weightShape =
      c.layout == "panels"   ? std::vector<int64_t>{panels, c.k, w}
      : c.layout == "in_out" ? std::vector<int64_t>{c.k, c.n}
                             : std::vector<int64_t>{c.n, c.k};
  spec.args = {arg("x", {c.m, c.k}), arg("weight", weightShape)};
  if (c.bias)
    spec.args.push_back(arg("bias", {c.n}));
  spec.args.push_back(arg("out", {c.m, c.n}));

  // x is a strided view: rows padded by 3.
  Buffer<float> xBase = randomBuffer({c.m, c.k + 3}, 1, -2, 2);
  Buffer<float> x = xBase.cropped(0, 0, static_cast<int>(c.k));
  Buffer<float> b = randomBuffer({c.k, c.n}, 2); // B[k, n]
  Buffer<float> weight = makeBuffer(weightShape);
  for (int64_t kk = 0; kk < c.k; ++kk)
    for (int64_t nn = 0; nn < c.n; ++nn) {
      float v = at(b, {int(kk), int(nn)});
      if (c.layout == "panels")
        at(weight, {int(nn / w), int(kk), int(nn % w)}) = v;
      else if (c.layout == "in_out")
        at(weight, {int(kk), int(nn)}) = v;
      else
        at(weight, {int(nn), int(kk)}) = v;
    }
  if (c.layout == "panels") // zero padding past N
    for (int64_t nn = c.n; nn < panels * w; ++nn)
      for (int64_t kk = 0; kk < c.k; ++kk)
        at(weight, {int(nn / w), int(kk), int(nn % w)}) = 0.0f;
  Buffer<float> bias = randomBuffer({c.n}, 3);
  std::vector<Halide::Buffer<>> inputs = {x, weight};
  if (c.bias)
    inputs.push_back(bias);
  Buffer<float> out = makeBuffer({c.m, c.n});
  run(spec, c.avx2 ? avx2Target() : hostTarget(), inputs, out);

  Buffer<double> want = doubleBuffer(out), scale = doubleBuffer(out);
  for (int mm = 0; mm < c.m; ++mm)
    for (int nn = 0; nn < c.n; ++nn) {
      double sum = c.bias ? bias(nn) : 0.0, magnitude = std::abs(sum);
      for (int kk = 0; kk < c.k; ++kk) {
        double p = double(at(x, {mm, kk})) * at(b, {kk, nn});
        sum += p;
        magnitude += std::abs(p);
      }
      at(want, {mm, nn}) = referenceActivation(c.activation, sum);
      at(scale, {mm, nn}) = magnitude;
    }
  // fp32 accumulation: ~sqrt(K) roundings of the magnitude, plus the
  // activation's own few ulp.
  double tolerance = 2e-7 * std::sqrt(double(c.k)) * 4;
  int failures = 0;
  want.for_each_element([&](const int *pos) {
    double err = std::abs(out(pos) - want(pos));
    double allowed =
        tolerance * scale(pos) + 4e-6 * std::abs(want(pos)) + 1e-30;
    if (!(err <= allowed) && ++failures <= 5)
      ADD_FAILURE() << "at n=" << pos[0] << " m=" << pos[1] << " got "
                    << out(pos) << " want " << want(pos);
  });
  EXPECT_EQ(failures, 0);
}

std::vector<LinearCase> linearCases() {
  std::vector<LinearCase> cases;
  const char *activations[] = {"none", "gelu", "gelu_tanh", "quick_gelu",
                               "silu", "relu", "tanh"};
  for (const char *act : activations)
    cases.push_back({6, 21, 50, "panels", true, act, 32});
  for (const char *layout : {"panels", "in_out", "out_in"})
    for (bool bias : {false, true})
      for (auto [m, k, n] : {std::tuple<int64_t, int64_t, int64_t>{7, 13, 37},
                             {1, 64, 100},
                             {45, 70, 64}})
        cases.push_back({m, k, n, layout, bias, bias ? "gelu" : "none", 32});
  cases.push_back({20, 33, 40, "panels", true, "silu", 16});
  cases.push_back({128, 96, 160, "panels", true, "gelu", 32});
  // AVX2-only code: its natural panels (16) and the AVX-512 ones (32).
  cases.push_back({7, 13, 37, "panels", true, "gelu", 16, true});
  cases.push_back({30, 40, 70, "panels", false, "none", 32, true});
  cases.push_back({1, 40, 70, "in_out", true, "quick_gelu", 16, true});
  cases.push_back({9, 40, 21, "out_in", true, "tanh", 16, true});
  // Long K: blocked over K (a K block of 512, several row tiles), bias and
  // activation once after the last block; N not a multiple of the panels.
  cases.push_back({30, 1536, 70, "panels", true, "gelu", 32});
  cases.push_back({25, 2048, 48, "out_in", false, "none", 32});
  cases.push_back({13, 1536, 40, "panels", true, "silu", 16, true});
  // Decode with N * K past the panel-parallel threshold, and a few rows.
  cases.push_back({1, 768, 1400, "panels", true, "gelu_tanh", 32});
  cases.push_back({3, 1100, 1000, "in_out", true, "none", 32});
  // The streaming path (few rows, unpacked weights read once in place):
  // parallel column tasks (N K >= 1M), K not a multiple of the vectors (a
  // tail vector and scalars), N not a multiple of the blocks.
  cases.push_back({1, 768, 5000, "out_in", false, "none", 32});
  cases.push_back({2, 100, 300, "out_in", true, "gelu", 32});
  cases.push_back({1, 770, 1000, "in_out", true, "silu", 32});
  cases.push_back({8, 45, 7, "out_in", true, "relu", 32});
  cases.push_back({5, 9, 5, "in_out", false, "none", 32});
  cases.push_back({1, 768, 1500, "out_in", true, "gelu_tanh", 32, true});
  cases.push_back({4, 100, 1001, "in_out", true, "gelu", 32, true});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Cases, HalideLinearTest,
                         ::testing::ValuesIn(linearCases()),
                         [](const auto &info) {
                           return linearName(info.param);
                         });

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

struct MatmulCase {
  int64_t batch, lhsBatch, rhsBatch, m, k, n;
  bool transposeLhs, transposeRhs;
};

class HalideMatmulTest : public ::testing::TestWithParam<MatmulCase> {};

TEST_P(HalideMatmulTest, MatchesReference) {
  const MatmulCase &c = GetParam();
  KernelSpec spec;
  spec.op = "matmul";
  spec.attrs = {{"transpose_lhs", c.transposeLhs},
                {"transpose_rhs", c.transposeRhs}};
  std::vector<int64_t> lhsShape =
      c.transposeLhs ? std::vector<int64_t>{c.lhsBatch, c.k, c.m}
                     : std::vector<int64_t>{c.lhsBatch, c.m, c.k};
  std::vector<int64_t> rhsShape =
      c.transposeRhs ? std::vector<int64_t>{c.rhsBatch, c.n, c.k}
                     : std::vector<int64_t>{c.rhsBatch, c.k, c.n};
  spec.args = {arg("lhs", lhsShape), arg("rhs", rhsShape),
               arg("out", {c.batch, c.m, c.n})};
  Buffer<float> lhs = randomBuffer(lhsShape, 4),
                rhs = randomBuffer(rhsShape, 5);
  for (const Halide::Target *target : {&hostTarget(), &avx2Target()}) {
    Buffer<float> out = makeBuffer({c.batch, c.m, c.n});
    run(spec, *target, {lhs, rhs}, out);
    Buffer<double> want = doubleBuffer(out);
    for (int bb = 0; bb < c.batch; ++bb)
      for (int mm = 0; mm < c.m; ++mm)
        for (int nn = 0; nn < c.n; ++nn) {
          double sum = 0;
          int bl = c.lhsBatch == 1 ? 0 : bb, br = c.rhsBatch == 1 ? 0 : bb;
          for (int kk = 0; kk < c.k; ++kk)
            sum += double(c.transposeLhs ? at(lhs, {bl, kk, mm})
                                         : at(lhs, {bl, mm, kk})) *
                   (c.transposeRhs ? at(rhs, {br, nn, kk})
                                   : at(rhs, {br, kk, nn}));
          at(want, {bb, mm, nn}) = sum;
        }
    expectClose(out, want, 1e-5 * std::sqrt(double(c.k)), 1e-5,
                "matmul " + target->to_string());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HalideMatmulTest,
    ::testing::Values(MatmulCase{3, 3, 3, 5, 19, 37, false, false},
                      MatmulCase{3, 3, 3, 5, 19, 37, true, false},
                      MatmulCase{3, 3, 3, 5, 19, 37, false, true},
                      MatmulCase{3, 3, 3, 5, 19, 37, true, true},
                      MatmulCase{2, 1, 2, 17, 24, 64, false, false},
                      MatmulCase{2, 2, 1, 17, 24, 33, false, true},
                      MatmulCase{4, 1, 4, 64, 64, 64, true, false},
                      MatmulCase{1, 1, 1, 1, 40, 50, false, false}));

//===----------------------------------------------------------------------===//
// attention
//===----------------------------------------------------------------------===//

struct AttentionCase {
  int64_t batch, heads, sq, sk, d, dv;
  std::string mask;
  std::vector<int64_t> lengths; // padding
  bool strided;
  bool avx2 = false;
};

class HalideAttentionTest : public ::testing::TestWithParam<AttentionCase> {};

/// [B, H, S, D] as a transposed view of a [B, S, H, D + 2] buffer (strided)
/// or dense.
Buffer<float> attentionOperand(int64_t b, int64_t h, int64_t s, int64_t d,
                               bool strided, uint32_t seed) {
  if (!strided)
    return randomBuffer({b, h, s, d}, seed);
  Buffer<float> base = randomBuffer({b, s, h, d + 2}, seed);
  // Halide dims of base: (d, h, s, b) -> (d, s, h, b), then crop d.
  return base.transposed(1, 2).cropped(0, 0, static_cast<int>(d));
}

TEST_P(HalideAttentionTest, MatchesReference) {
  const AttentionCase &c = GetParam();
  const float scale = 1.0f / std::sqrt(float(c.d));
  KernelSpec spec;
  spec.op = "attention";
  spec.attrs = {{"mask", c.mask}, {"scale", scale}};
  spec.args = {arg("query", {c.batch, c.heads, c.sq, c.d}),
               arg("key", {c.batch, c.heads, c.sk, c.d}),
               arg("value", {c.batch, c.heads, c.sk, c.dv})};
  if (c.mask == "padding")
    spec.args.push_back(arg("lengths", {c.batch}, DType::I64));
  spec.args.push_back(arg("out", {c.batch, c.heads, c.sq, c.dv}));

  Buffer<float> q = attentionOperand(c.batch, c.heads, c.sq, c.d, c.strided, 6);
  Buffer<float> k = attentionOperand(c.batch, c.heads, c.sk, c.d, c.strided, 7);
  Buffer<float> v =
      attentionOperand(c.batch, c.heads, c.sk, c.dv, c.strided, 8);
  std::vector<Halide::Buffer<>> inputs = {q, k, v};
  Buffer<int64_t> lengths(static_cast<int>(c.batch));
  if (c.mask == "padding") {
    for (int bb = 0; bb < c.batch; ++bb)
      lengths(bb) = c.lengths[bb];
    inputs.push_back(lengths);
  }
  Buffer<float> out =
      attentionOperand(c.batch, c.heads, c.sq, c.dv, c.strided, 9);
  run(spec, c.avx2 ? avx2Target() : hostTarget(), inputs, out);

  Buffer<double> want = doubleBuffer(out);
  for (int bb = 0; bb < c.batch; ++bb)
    for (int hh = 0; hh < c.heads; ++hh)
      for (int i = 0; i < c.sq; ++i) {
        int64_t end = c.sk;
        bool uniform = false;
        if (c.mask == "causal")
          end = c.sk - c.sq + i + 1;
        if (c.mask == "padding") {
          uniform = c.lengths[bb] <= 0;
          end = uniform ? c.sk : std::min(c.lengths[bb], c.sk);
        }
        std::vector<double> s(end);
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j < end; ++j) {
          double dot = 0;
          for (int x = 0; x < c.d; ++x)
            dot += double(at(q, {bb, hh, i, x})) * at(k, {bb, hh, j, x});
          s[j] = uniform ? 0.0 : dot * scale;
          mx = std::max(mx, s[j]);
        }
        for (int j = 0; j < end; ++j)
          sum += s[j] = std::exp(s[j] - mx);
        for (int x = 0; x < c.dv; ++x) {
          double o = 0;
          for (int j = 0; j < end; ++j)
            o += s[j] * at(v, {bb, hh, j, x});
          want(x, i, hh, bb) = o / sum;
        }
      }
  expectClose(out, want, 2e-6, 1e-5, "attention");
}

std::string attentionName(const AttentionCase &c) {
  std::string name = c.mask + "_b" + std::to_string(c.batch) + "h" +
                     std::to_string(c.heads) + "_q" + std::to_string(c.sq) +
                     "k" + std::to_string(c.sk) + "_d" + std::to_string(c.d) +
                     "v" + std::to_string(c.dv);
  for (int64_t l : c.lengths)
    name += "_l" + std::to_string(l < 0 ? 1000 - l : l);
  return name + (c.strided ? "_strided" : "") + (c.avx2 ? "_avx2" : "");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HalideAttentionTest,
    ::testing::Values(
        AttentionCase{2, 3, 17, 17, 16, 16, "none", {}, false},
        AttentionCase{2, 3, 17, 17, 20, 24, "none", {}, true},
        AttentionCase{1, 2, 1, 50, 64, 64, "none", {}, true},
        AttentionCase{2, 2, 40, 40, 64, 64, "causal", {}, true},
        AttentionCase{1, 2, 1, 70, 64, 64, "causal", {}, false},
        AttentionCase{1, 2, 9, 70, 24, 40, "causal", {}, true},
        AttentionCase{4, 2, 33, 33, 64, 64, "padding", {0, 5, 33, 100}, true},
        AttentionCase{3, 2, 1, 64, 40, 40, "padding", {-3, 1, 64}, false},
        AttentionCase{2, 2, 70, 70, 64, 64, "causal", {}, true, true},
        AttentionCase{3, 1, 12, 40, 20, 20, "padding", {0, 7, 41}, true, true},
        // Tiny heads (D = 4, Dv = 3) and fewer keys than a vector: the key
        // packing's row loop has no constant extent.
        AttentionCase{2, 2, 5, 6, 4, 3, "padding", {3, 6}, true},
        AttentionCase{1, 2, 3, 5, 4, 4, "causal", {}, false},
        AttentionCase{1, 1, 2, 7, 8, 3, "none", {}, true, true},
        // Decode with padding over a large cache and few visible keys: the
        // scored and packed keys stop at the visible ones.
        AttentionCase{1, 3, 1, 300, 64, 64, "padding", {37}, true},
        AttentionCase{2, 2, 1, 257, 64, 64, "padding", {0, 129}, true},
        AttentionCase{1, 2, 2, 200, 32, 32, "padding", {17}, false},
        AttentionCase{2, 1, 1, 150, 30, 30, "padding", {20, 150}, true},
        AttentionCase{2, 2, 1, 300, 64, 64, "padding", {37, 290}, true, true}),
    [](const auto &info) { return attentionName(info.param); });

//===----------------------------------------------------------------------===//
// layer_norm, rms_norm, softmax
//===----------------------------------------------------------------------===//

TEST(HalideNormTest, LayerNormWithAndWithoutResidual) {
  for (bool residual : {false, true})
    for (auto [m, d] :
         {std::pair<int64_t, int64_t>{5, 37}, {64, 768}, {1, 8}, {300, 128}}) {
      KernelSpec spec;
      spec.op = "layer_norm";
      spec.attrs = {{"has_residual", residual}, {"epsilon", 1e-5}};
      spec.args = {arg("x", {m, d})};
      if (residual)
        spec.args.push_back(arg("residual", {m, d}));
      spec.args.push_back(arg("weight", {d}));
      spec.args.push_back(arg("bias", {d}));
      spec.args.push_back(arg("out", {m, d}));
      // A large mean in x: the two-pass variance must not cancel.
      Buffer<float> x = randomBuffer({m, d}, 10, 99, 101);
      Buffer<float> res = randomBuffer({m, d}, 11);
      Buffer<float> weight = randomBuffer({d}, 12, 0.5, 1.5);
      Buffer<float> bias = randomBuffer({d}, 13);
      std::vector<Halide::Buffer<>> inputs = {x};
      if (residual)
        inputs.push_back(res);
      inputs.push_back(weight);
      inputs.push_back(bias);
      Buffer<float> out = makeBuffer({m, d});
      run(spec, hostTarget(), inputs, out);
      Buffer<double> want = doubleBuffer(out);
      for (int r = 0; r < m; ++r) {
        std::vector<double> y(d);
        double mean = 0, var = 0;
        for (int j = 0; j < d; ++j) {
          y[j] = residual ? double(float(x(j, r) + res(j, r))) : x(j, r);
          mean += y[j];
        }
        mean /= d;
        for (int j = 0; j < d; ++j)
          var += (y[j] - mean) * (y[j] - mean);
        var /= d;
        for (int j = 0; j < d; ++j)
          want(j, r) =
              (y[j] - mean) / std::sqrt(var + 1e-5) * weight(j) + bias(j);
      }
      expectClose(out, want, 1e-5, 1e-5,
                  "layer_norm " + std::to_string(m) + "x" + std::to_string(d));
    }
}

TEST(HalideNormTest, RmsNorm) {
  for (auto [m, d] : {std::pair<int64_t, int64_t>{5, 37}, {64, 768}, {1, 3}}) {
    for (const Halide::Target *target : {&hostTarget(), &avx2Target()}) {
      KernelSpec spec;
      spec.op = "rms_norm";
      spec.attrs = {{"epsilon", 1e-6}};
      spec.args = {arg("x", {m, d}), arg("weight", {d}), arg("out", {m, d})};
      Buffer<float> x = randomBuffer({m, d}, 14, -3, 3);
      Buffer<float> weight = randomBuffer({d}, 15);
      Buffer<float> out = makeBuffer({m, d});
      run(spec, *target, {x, weight}, out);
      Buffer<double> want = doubleBuffer(out);
      for (int r = 0; r < m; ++r) {
        double ms = 0;
        for (int j = 0; j < d; ++j)
          ms += double(x(j, r)) * x(j, r);
        double inv = 1 / std::sqrt(ms / d + 1e-6);
        for (int j = 0; j < d; ++j)
          want(j, r) = x(j, r) * inv * weight(j);
      }
      expectClose(out, want, 1e-5, 1e-5, "rms_norm");
    }
  }
}

TEST(HalideSoftmaxTest, RowsIncludingLargeMagnitudes) {
  for (auto [m, n, magnitude] : {std::tuple<int64_t, int64_t, float>{5, 37, 1},
                                 {64, 768, 50},
                                 {3, 1, 1000},
                                 {1000, 64, 10},
                                 {2, 20, 3e4}}) {
    KernelSpec spec;
    spec.op = "softmax";
    spec.args = {arg("x", {m, n}), arg("out", {m, n})};
    Buffer<float> x = randomBuffer({m, n}, 16, -magnitude, magnitude);
    Buffer<float> out = makeBuffer({m, n});
    run(spec, hostTarget(), {x}, out);
    Buffer<double> want = doubleBuffer(out);
    for (int r = 0; r < m; ++r) {
      double mx = -INFINITY, sum = 0;
      for (int j = 0; j < n; ++j)
        mx = std::max(mx, double(x(j, r)));
      for (int j = 0; j < n; ++j)
        sum += std::exp(x(j, r) - mx);
      for (int j = 0; j < n; ++j)
        want(j, r) = std::exp(x(j, r) - mx) / sum;
    }
    expectClose(out, want, 1e-7, 1e-5, "softmax " + std::to_string(n));
  }
}

//===----------------------------------------------------------------------===//
// patch_embed
//===----------------------------------------------------------------------===//

TEST(HalidePatchEmbedTest, MatchesConvolution) {
  const int64_t b = 2, c = 3, hw = 32, e = 40;
  for (int64_t p : {16, 4})
    for (bool bias : {false, true}) {
      KernelSpec spec;
      spec.op = "patch_embed";
      spec.attrs = {{"patch", p}, {"has_bias", bias}};
      int64_t grid = hw / p;
      spec.args = {arg("image", {b, c, hw, hw}), arg("weight", {e, c, p, p})};
      if (bias)
        spec.args.push_back(arg("bias", {e}));
      spec.args.push_back(arg("out", {b, grid * grid, e}));
      Buffer<float> image = randomBuffer({b, c, hw, hw}, 17);
      Buffer<float> weight = randomBuffer({e, c, p, p}, 18);
      Buffer<float> biasBuffer = randomBuffer({e}, 19);
      std::vector<Halide::Buffer<>> inputs = {image, weight};
      if (bias)
        inputs.push_back(biasBuffer);
      Buffer<float> out = makeBuffer({b, grid * grid, e});
      run(spec, hostTarget(), inputs, out);
      Buffer<double> want = doubleBuffer(out);
      for (int bb = 0; bb < b; ++bb)
        for (int qy = 0; qy < grid; ++qy)
          for (int qx = 0; qx < grid; ++qx)
            for (int ee = 0; ee < e; ++ee) {
              double sum = bias ? biasBuffer(ee) : 0.0;
              for (int cc = 0; cc < c; ++cc)
                for (int y = 0; y < p; ++y)
                  for (int x = 0; x < p; ++x)
                    sum += double(at(image, {bb, cc, int(qy * p + y),
                                             int(qx * p + x)})) *
                           at(weight, {ee, cc, y, x});
              at(want, {bb, int(qy * grid + qx), ee}) = sum;
            }
      expectClose(out, want, 1e-5 * std::sqrt(double(c * p * p)), 1e-5,
                  "patch_embed P=" + std::to_string(p));
    }
}

//===----------------------------------------------------------------------===//
// elementwise
//===----------------------------------------------------------------------===//

TEST(HalideElementwiseTest, BroadcastProgramWithEveryOp) {
  // out[a, b, c] from x [a, b, c], y [1, b, 1], z [a, 1, c] (positive).
  const int64_t a = 3, bd = 5, cd = 37;
  KernelSpec spec;
  spec.op = "elementwise";
  spec.args = {arg("x", {a, bd, cd}), arg("y", {1, bd, 1}),
               arg("z", {a, 1, cd}), arg("out", {a, bd, cd})};
  // Operands: 0 x, 1 y, 2 z, then steps from 3.
  nlohmann::json program = nlohmann::json::array();
  auto step = [&](std::initializer_list<nlohmann::json> parts) {
    nlohmann::json s = nlohmann::json::array();
    for (const nlohmann::json &part : parts)
      s.push_back(part);
    program.push_back(s);
    return static_cast<int>(3 + program.size() - 1);
  };
  int s0 = step({"add", 0, 1});  // x + y
  int s1 = step({"mul", s0, 2}); // * z
  int s2 = step({"sub", s1, 1}); // - y
  int s3 = step({"div", s2, 2}); // / z
  int s4 = step({"const", 0.25});
  int s5 = step({"max", s3, s4});
  int s6 = step({"min", s5, 0});
  int s7 = step({"neg", s6});
  int s8 = step({"exp", s7});
  int s9 = step({"tanh", s8});
  int s10 = step({"erf", s9});
  int s11 = step({"sqrt", 2});
  int s12 = step({"rsqrt", 2});
  int s13 = step({"gelu", 0});
  int s14 = step({"gelu_tanh", 1});
  int s15 = step({"quick_gelu", 0});
  int s16 = step({"silu", 2});
  int s17 = step({"relu", 0});
  int s18 = step({"add", s10, s11});
  int s19 = step({"add", s18, s12});
  int s20 = step({"add", s19, s13});
  int s21 = step({"add", s20, s14});
  int s22 = step({"add", s21, s15});
  int s23 = step({"add", s22, s16});
  step({"add", s23, s17});
  spec.attrs["program"] = program;

  Buffer<float> x = randomBuffer({a, bd, cd}, 20, -3, 3);
  Buffer<float> y = randomBuffer({1, bd, 1}, 21, -3, 3);
  Buffer<float> z = randomBuffer({a, 1, cd}, 22, 0.5, 2);
  for (const Halide::Target *target : {&hostTarget(), &avx2Target()}) {
    Buffer<float> out = makeBuffer({a, bd, cd});
    run(spec, *target, {x, y, z}, out);
    Buffer<double> want = doubleBuffer(out);
    for (int i = 0; i < a; ++i)
      for (int j = 0; j < bd; ++j)
        for (int l = 0; l < cd; ++l) {
          double xv = x(l, j, i), yv = y(0, j, 0), zv = z(l, 0, i);
          // float rounding of the chain's start, as the kernel does
          double v = (double(float(float(float(xv + yv) * zv) - yv)) / zv);
          v = std::min(std::max(v, 0.25), xv);
          v = std::erf(std::tanh(std::exp(-v)));
          v += std::sqrt(zv) + 1 / std::sqrt(zv) +
               referenceActivation("gelu", xv) +
               referenceActivation("gelu_tanh", yv) +
               referenceActivation("quick_gelu", xv) +
               referenceActivation("silu", zv) + std::max(xv, 0.0);
          want(l, j, i) = v;
        }
    expectClose(out, want, 2e-6, 2e-6, "elementwise " + target->to_string());
  }
}

TEST(HalideElementwiseTest, ScalarAndLargeOneDimensional) {
  for (int64_t n : {int64_t(1), int64_t(300000)}) {
    KernelSpec spec;
    spec.op = "elementwise";
    spec.args = {arg("x", {n}), arg("y", {1}), arg("out", {n})};
    spec.attrs["program"] = {{"mul", 0, 1}};
    Buffer<float> x = randomBuffer({n}, 23), y = randomBuffer({1}, 24);
    Buffer<float> out = makeBuffer({n});
    run(spec, hostTarget(), {x, y}, out);
    Buffer<double> want = doubleBuffer(out);
    for (int i = 0; i < n; ++i)
      want(i) = double(x(i)) * y(0);
    expectClose(out, want, 0, 1e-7, "scale");
  }
}

TEST(HalideKernelSpecTest, BadSpecIsAClearError) {
  KernelSpec spec;
  spec.op = "linear";
  spec.attrs = {{"weight_layout", "diagonal"}};
  spec.args = {arg("x", {4, 8}), arg("weight", {8, 8}), arg("out", {4, 8})};
  Expected<BuiltKernel> built = buildKernel(spec, hostTarget());
  ASSERT_FALSE(bool(built));
  std::string message = built.message();
  EXPECT_NE(message.find("weight_layout"), std::string::npos) << message;

  KernelSpec mismatch;
  mismatch.op = "matmul";
  mismatch.args = {arg("lhs", {1, 4, 8}), arg("rhs", {1, 7, 8}),
                   arg("out", {1, 4, 8})};
  built = buildKernel(mismatch, hostTarget());
  ASSERT_FALSE(bool(built));
  EXPECT_NE(built.message().find("rhs"), std::string::npos);
}

} // namespace
