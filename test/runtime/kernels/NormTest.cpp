//===- NormTest.cpp - The row-wise LayerNorm and RMSNorm kernels ----------===//

#include "runtime/kernels/Norm.h"
#include "runtime/threads/ThreadPool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace kiln;

namespace {

/// A [R, D] strided view into a buffer of its own. Elements outside the view
/// are NaN, so that a kernel reading them gives NaN results.
struct Matrix {
  std::vector<float> data;
  int64_t rows = 0, cols = 0, rs = 0, cs = 0, offset = 0;

  Matrix(int64_t rows, int64_t cols, int64_t rs, int64_t cs, int64_t offset)
      : rows(rows), cols(cols), rs(rs), cs(cs), offset(offset) {
    int64_t last = offset + (rows - 1) * rs + (cols - 1) * cs;
    data.assign(static_cast<size_t>(std::max(last + 1, offset + 1)),
                std::numeric_limits<float>::quiet_NaN());
  }
  /// A dense row-major [R, D] matrix.
  Matrix(int64_t rows, int64_t cols) : Matrix(rows, cols, cols, 1, 0) {}

  float &at(int64_t r, int64_t j) {
    return data[static_cast<size_t>(offset + r * rs + j * cs)];
  }
  template <typename F> void forEach(F f) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < cols; ++j)
        f(r, j, at(r, j));
  }
  void fillUniform(std::mt19937 &rng, float center, float bound) {
    std::uniform_real_distribution<float> dist(-bound, bound);
    forEach([&](int64_t, int64_t, float &v) { v = center + dist(rng); });
  }
  float *base() { return data.data() + offset; }
  KilnMemRef<2> memref() {
    return KilnMemRef<2>{
        data.data(), data.data(), offset, {rows, cols}, {rs, cs}};
  }
};

/// A [D] strided vector (gamma, beta).
struct Vector {
  std::vector<float> data;
  int64_t size, stride, offset;

  Vector(int64_t size, int64_t stride = 1, int64_t offset = 0)
      : data(static_cast<size_t>(offset + std::max<int64_t>(size, 1) * stride),
             std::numeric_limits<float>::quiet_NaN()),
        size(size), stride(stride), offset(offset) {}

  float &at(int64_t j) {
    return data[static_cast<size_t>(offset + j * stride)];
  }
  void fillUniform(std::mt19937 &rng, float lo, float hi) {
    std::uniform_real_distribution<float> dist(lo, hi);
    for (int64_t j = 0; j < size; ++j)
      at(j) = dist(rng);
  }
  float *base() { return data.data() + offset; }
  KilnMemRef<1> memref() {
    return KilnMemRef<1>{data.data(), data.data(), offset, {size}, {stride}};
  }
};

/// The semantics of Norm.h in double precision: the residual add is a float
/// add (as in the model), the rest in double.
std::vector<double> referenceLayerNorm(Matrix &x, Matrix *residual,
                                       Vector &gamma, Vector &beta,
                                       float epsilon) {
  int64_t rows = x.rows, d = x.cols;
  std::vector<double> out(static_cast<size_t>(rows * d)), v(size_t(d), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0.0, var = 0.0;
    for (int64_t j = 0; j < d; ++j) {
      float sum = residual ? x.at(r, j) + residual->at(r, j) : x.at(r, j);
      v[size_t(j)] = double(sum);
      mean += v[size_t(j)];
    }
    mean /= double(d);
    for (int64_t j = 0; j < d; ++j)
      var += (v[size_t(j)] - mean) * (v[size_t(j)] - mean);
    var /= double(d);
    double rstd = 1.0 / std::sqrt(var + double(epsilon));
    for (int64_t j = 0; j < d; ++j)
      out[size_t(r * d + j)] =
          (v[size_t(j)] - mean) * rstd * double(gamma.at(j)) +
          double(beta.at(j));
  }
  return out;
}

std::vector<double> referenceRmsNorm(Matrix &x, Vector &gamma, float epsilon) {
  int64_t rows = x.rows, d = x.cols;
  std::vector<double> out(static_cast<size_t>(rows * d));
  for (int64_t r = 0; r < rows; ++r) {
    double squares = 0.0;
    for (int64_t j = 0; j < d; ++j)
      squares += double(x.at(r, j)) * double(x.at(r, j));
    double rstd = 1.0 / std::sqrt(squares / double(d) + double(epsilon));
    for (int64_t j = 0; j < d; ++j)
      out[size_t(r * d + j)] = double(x.at(r, j)) * rstd * double(gamma.at(j));
  }
  return out;
}

/// Checks that nothing outside out's view differs from `sentinel`.
void expectUntouchedOutside(Matrix &out, float sentinel) {
  std::vector<bool> inside(out.data.size(), false);
  out.forEach([&](int64_t, int64_t, float &e) {
    inside[static_cast<size_t>(&e - out.data.data())] = true;
  });
  for (size_t i = 0; i < out.data.size(); ++i)
    if (!inside[i]) {
      ASSERT_EQ(out.data[i], sentinel) << "wrote outside out at " << i;
    }
}

/// Runs LayerNorm (residual may be null) into out, prefilled with a
/// sentinel, and checks that nothing outside out's view was written.
void runLayerNorm(Matrix &x, Matrix *residual, Vector &gamma, Vector &beta,
                  Matrix &out, float epsilon, int maxThreads = 0) {
  std::fill(out.data.begin(), out.data.end(), 12345.0f);
  kernels::layerNorm(x.rows, x.cols, x.base(), x.rs, x.cs,
                     residual ? residual->base() : nullptr,
                     residual ? residual->rs : 0, residual ? residual->cs : 0,
                     gamma.base(), gamma.stride, beta.base(), beta.stride,
                     out.base(), out.rs, out.cs, epsilon, maxThreads);
  expectUntouchedOutside(out, 12345.0f);
}

void runRmsNorm(Matrix &x, Vector &gamma, Matrix &out, float epsilon,
                int maxThreads = 0) {
  std::fill(out.data.begin(), out.data.end(), 12345.0f);
  kernels::rmsNorm(x.rows, x.cols, x.base(), x.rs, x.cs, gamma.base(),
                   gamma.stride, out.base(), out.rs, out.cs, epsilon,
                   maxThreads);
  expectUntouchedOutside(out, 12345.0f);
}

/// Within 1e-5 of the reference, relative to max(1, |want|).
void expectMatches(Matrix &out, const std::vector<double> &want) {
  out.forEach([&](int64_t r, int64_t j, float &got) {
    double w = want[static_cast<size_t>(r * out.cols + j)];
    ASSERT_NEAR(got, w, 1e-5 * std::max(1.0, std::fabs(w)))
        << "(row " << r << ", column " << j << ")";
  });
}

std::string describe(int64_t rows, int64_t d) {
  return "R " + std::to_string(rows) + " D " + std::to_string(d);
}

/// Every NormTest runs once per kernel (avx2 and avx512); the avx512
/// instance is skipped on CPUs without AVX-512.
class NormTest : public ::testing::TestWithParam<kernels::GemmIsa> {
protected:
  void SetUp() override {
    if (GetParam() == kernels::GemmIsa::Avx512 && !kernels::avx512Available())
      GTEST_SKIP() << "no AVX-512 on this CPU";
    kernels::setNormIsaForTesting(GetParam());
    // Builds without AVX2 have only the portable kernels.
    if (std::strcmp(kernels::normIsaName(), "scalar") != 0) {
      ASSERT_STREQ(kernels::normIsaName(),
                   GetParam() == kernels::GemmIsa::Avx2 ? "avx2" : "avx512");
    }
  }
  void TearDown() override {
    kernels::setNormIsaForTesting(kernels::GemmIsa::Auto);
  }
};

// The main sizes, and row lengths around the 64 lanes of the float sums and
// the 32 of the double sum.
const int64_t kLengths[] = {1,  9,  36, 768, 4096, 8,  31,
                            32, 33, 63, 64,  65,   100};
const int64_t kRowCounts[] = {1, 3, 128};

TEST_P(NormTest, LayerNormMatchesReference) {
  std::mt19937 rng(1);
  for (int64_t d : kLengths)
    for (int64_t rows : kRowCounts) {
      SCOPED_TRACE(describe(rows, d));
      Matrix x(rows, d), res(rows, d), out(rows, d);
      Vector gamma(d), beta(d);
      x.fillUniform(rng, 0.0f, 2.0f);
      res.fillUniform(rng, 0.5f, 1.0f);
      gamma.fillUniform(rng, 0.5f, 1.5f);
      beta.fillUniform(rng, -0.5f, 0.5f);
      runLayerNorm(x, nullptr, gamma, beta, out, 1e-5f);
      expectMatches(out, referenceLayerNorm(x, nullptr, gamma, beta, 1e-5f));
      runLayerNorm(x, &res, gamma, beta, out, 1e-5f);
      expectMatches(out, referenceLayerNorm(x, &res, gamma, beta, 1e-5f));
      if (HasFatalFailure())
        return;
    }
}

TEST_P(NormTest, LayerNormLargeMean) {
  // Rows of 1000 + noise (or -3e4 + small noise): a one-pass variance, or a
  // float mean, would lose most digits of (v - mean).
  std::mt19937 rng(2);
  struct Case {
    float center, noise;
  };
  for (Case c : {Case{1000.0f, 1.0f}, Case{-3e4f, 0.05f}, Case{1e5f, 100.0f}})
    for (int64_t d : {9, 768, 4096}) {
      SCOPED_TRACE(describe(4, d) + " center " + std::to_string(c.center));
      Matrix x(4, d), res(4, d), out(4, d);
      Vector gamma(d), beta(d);
      x.fillUniform(rng, c.center, c.noise);
      res.fillUniform(rng, 0.0f, c.noise);
      gamma.fillUniform(rng, 0.5f, 1.5f);
      beta.fillUniform(rng, -0.5f, 0.5f);
      runLayerNorm(x, nullptr, gamma, beta, out, 1e-12f);
      expectMatches(out, referenceLayerNorm(x, nullptr, gamma, beta, 1e-12f));
      runLayerNorm(x, &res, gamma, beta, out, 1e-12f);
      expectMatches(out, referenceLayerNorm(x, &res, gamma, beta, 1e-12f));
      if (HasFatalFailure())
        return;
    }
}

TEST_P(NormTest, LayerNormEpsilons) {
  std::mt19937 rng(3);
  for (float epsilon : {0.0f, 1e-12f, 1e-6f, 1e-5f, 1e-3f, 1.0f, 100.0f})
    for (int64_t d : {9, 36, 768}) {
      SCOPED_TRACE(describe(3, d) + " eps " + std::to_string(epsilon));
      // Small values, so that eps matters against the variance.
      Matrix x(3, d), out(3, d);
      Vector gamma(d), beta(d);
      x.fillUniform(rng, 0.1f, 0.01f);
      gamma.fillUniform(rng, 0.5f, 1.5f);
      beta.fillUniform(rng, -0.5f, 0.5f);
      runLayerNorm(x, nullptr, gamma, beta, out, epsilon);
      expectMatches(out, referenceLayerNorm(x, nullptr, gamma, beta, epsilon));
      if (HasFatalFailure())
        return;
    }
}

TEST_P(NormTest, LayerNormConstantRowsGiveBeta) {
  // Zero variance: every deviation is exactly zero, out is exactly beta.
  // D = 1 is the degenerate case of it.
  std::mt19937 rng(4);
  for (int64_t d : {1, 9, 768}) {
    SCOPED_TRACE(describe(2, d));
    Matrix x(2, d), out(2, d);
    Vector gamma(d), beta(d);
    x.forEach([&](int64_t r, int64_t, float &e) { e = r ? 1234.5f : -0.3f; });
    gamma.fillUniform(rng, 0.5f, 1.5f);
    beta.fillUniform(rng, -0.5f, 0.5f);
    runLayerNorm(x, nullptr, gamma, beta, out, 1e-5f);
    out.forEach(
        [&](int64_t, int64_t j, float &e) { EXPECT_EQ(e, beta.at(j)); });
  }
}

TEST_P(NormTest, LayerNormStridedViews) {
  std::mt19937 rng(5);
  for (int64_t d : {9, 36, 768}) {
    int64_t rows = 5;
    SCOPED_TRACE(describe(rows, d));
    // x and out: column slices of wider buffers; residual: every other
    // element; gamma and beta strided.
    Matrix x(rows, d, 2 * d + 3, 1, 5), res(rows, d, 2 * d + 1, 2, 1),
        out(rows, d, d + 7, 1, 3);
    Vector gamma(d, 3, 1), beta(d, 2, 0);
    x.fillUniform(rng, 0.0f, 1.0f);
    res.fillUniform(rng, 0.0f, 1.0f);
    gamma.fillUniform(rng, 0.5f, 1.5f);
    beta.fillUniform(rng, -0.5f, 0.5f);
    runLayerNorm(x, &res, gamma, beta, out, 1e-5f);
    expectMatches(out, referenceLayerNorm(x, &res, gamma, beta, 1e-5f));
    runLayerNorm(x, nullptr, gamma, beta, out, 1e-5f);
    expectMatches(out, referenceLayerNorm(x, nullptr, gamma, beta, 1e-5f));
    // No unit stride anywhere: x transposed ([D, R] storage), out with every
    // third element.
    Matrix xt(rows, d, 1, rows, 0), outs(rows, d, 3 * d + 2, 3, 2);
    xt.fillUniform(rng, 0.0f, 1.0f);
    runLayerNorm(xt, &res, gamma, beta, outs, 1e-5f);
    expectMatches(outs, referenceLayerNorm(xt, &res, gamma, beta, 1e-5f));
    runLayerNorm(xt, nullptr, gamma, beta, outs, 1e-5f);
    expectMatches(outs, referenceLayerNorm(xt, nullptr, gamma, beta, 1e-5f));
    if (HasFatalFailure())
      return;
  }
}

TEST_P(NormTest, LayerNormInPlace) {
  std::mt19937 rng(6);
  for (int64_t d : {9, 768}) {
    int64_t rows = 4;
    SCOPED_TRACE(describe(rows, d));
    Vector gamma(d), beta(d);
    gamma.fillUniform(rng, 0.5f, 1.5f);
    beta.fillUniform(rng, -0.5f, 0.5f);
    // Dense and strided (a column slice, every other element) layouts.
    for (bool strided : {false, true}) {
      auto make = [&] {
        return strided ? Matrix(rows, d, 2 * d + 4, 2, 1) : Matrix(rows, d);
      };
      Matrix x = make(), res = make();
      x.fillUniform(rng, 0.0f, 1.0f);
      res.fillUniform(rng, 0.0f, 1.0f);
      std::vector<double> plain =
          referenceLayerNorm(x, nullptr, gamma, beta, 1e-5f);
      std::vector<double> added =
          referenceLayerNorm(x, &res, gamma, beta, 1e-5f);
      Matrix out = x; // out == x, no residual
      kernels::layerNorm(rows, d, out.base(), out.rs, out.cs, nullptr, 0, 0,
                         gamma.base(), 1, beta.base(), 1, out.base(), out.rs,
                         out.cs, 1e-5f);
      expectMatches(out, plain);
      out = x; // out == x, with a residual
      kernels::layerNorm(rows, d, out.base(), out.rs, out.cs, res.base(),
                         res.rs, res.cs, gamma.base(), 1, beta.base(), 1,
                         out.base(), out.rs, out.cs, 1e-5f);
      expectMatches(out, added);
      out = res; // out == residual
      kernels::layerNorm(rows, d, x.base(), x.rs, x.cs, out.base(), out.rs,
                         out.cs, gamma.base(), 1, beta.base(), 1, out.base(),
                         out.rs, out.cs, 1e-5f);
      expectMatches(out, added);
      if (HasFatalFailure())
        return;
    }
  }
}

TEST_P(NormTest, RmsNormMatchesReference) {
  std::mt19937 rng(7);
  for (int64_t d : kLengths)
    for (int64_t rows : kRowCounts) {
      SCOPED_TRACE(describe(rows, d));
      Matrix x(rows, d), out(rows, d);
      Vector gamma(d);
      x.fillUniform(rng, 0.2f, 2.0f);
      gamma.fillUniform(rng, 0.5f, 1.5f);
      for (float epsilon : {1e-6f, 1e-5f, 0.5f}) {
        runRmsNorm(x, gamma, out, epsilon);
        expectMatches(out, referenceRmsNorm(x, gamma, epsilon));
      }
      if (HasFatalFailure())
        return;
    }
  // Large values (squares near 1e10) and a zero row (out = 0 with eps > 0).
  Matrix x(2, 768), out(2, 768);
  Vector gamma(768);
  x.fillUniform(rng, 0.0f, 1e5f);
  for (int64_t j = 0; j < 768; ++j)
    x.at(1, j) = 0.0f;
  gamma.fillUniform(rng, 0.5f, 1.5f);
  runRmsNorm(x, gamma, out, 1e-6f);
  expectMatches(out, referenceRmsNorm(x, gamma, 1e-6f));
}

TEST_P(NormTest, RmsNormStridedAndInPlace) {
  std::mt19937 rng(8);
  for (int64_t d : {9, 36, 768}) {
    int64_t rows = 5;
    SCOPED_TRACE(describe(rows, d));
    Matrix x(rows, d, 2 * d + 3, 1, 5), out(rows, d, d + 7, 1, 3);
    Vector gamma(d, 3, 1);
    x.fillUniform(rng, 0.0f, 1.0f);
    gamma.fillUniform(rng, 0.5f, 1.5f);
    std::vector<double> want = referenceRmsNorm(x, gamma, 1e-6f);
    runRmsNorm(x, gamma, out, 1e-6f);
    expectMatches(out, want);
    Matrix xt(rows, d, 1, rows, 0), outs(rows, d, 3 * d + 2, 3, 2);
    xt.fillUniform(rng, 0.0f, 1.0f);
    runRmsNorm(xt, gamma, outs, 1e-6f);
    expectMatches(outs, referenceRmsNorm(xt, gamma, 1e-6f));
    // In place, dense and strided.
    Matrix inPlace = x;
    kernels::rmsNorm(rows, d, inPlace.base(), inPlace.rs, inPlace.cs,
                     gamma.base(), gamma.stride, inPlace.base(), inPlace.rs,
                     inPlace.cs, 1e-6f);
    expectMatches(inPlace, want);
    Matrix inPlaceT = xt;
    kernels::rmsNorm(rows, d, inPlaceT.base(), inPlaceT.rs, inPlaceT.cs,
                     gamma.base(), gamma.stride, inPlaceT.base(), inPlaceT.rs,
                     inPlaceT.cs, 1e-6f);
    expectMatches(inPlaceT, referenceRmsNorm(xt, gamma, 1e-6f));
    if (HasFatalFailure())
      return;
  }
}

/// Runs `f` with the global pool at `threads` threads.
template <typename F> void withThreads(int threads, F f) {
  ThreadPool &pool = ThreadPool::global();
  int saved = pool.numThreads();
  pool.setNumThreads(threads);
  f();
  pool.setNumThreads(saved);
}

TEST_P(NormTest, ThreadCountDoesNotChangeResults) {
  // Large enough to be split: 128 x 768 and 300 x 4096 elements.
  std::mt19937 rng(9);
  for (auto [rows, d] : {std::pair<int64_t, int64_t>{128, 768}, {300, 4096}}) {
    SCOPED_TRACE(describe(rows, d));
    Matrix x(rows, d), res(rows, d), serial(rows, d);
    Vector gamma(d), beta(d);
    x.fillUniform(rng, 0.0f, 1.0f);
    res.fillUniform(rng, 0.0f, 1.0f);
    gamma.fillUniform(rng, 0.5f, 1.5f);
    beta.fillUniform(rng, -0.5f, 0.5f);
    for (bool rms : {false, true}) {
      auto compute = [&](Matrix &out, int maxThreads) {
        if (rms)
          runRmsNorm(x, gamma, out, 1e-6f, maxThreads);
        else
          runLayerNorm(x, &res, gamma, beta, out, 1e-5f, maxThreads);
      };
      compute(serial, 1);
      for (int threads : {2, 3}) {
        Matrix parallel = serial;
        withThreads(threads, [&] { compute(parallel, 0); });
        EXPECT_EQ(serial.data, parallel.data)
            << threads << " threads, rms " << rms;
      }
    }
  }
}

TEST_P(NormTest, CalledInsideAParallelRegion) {
  // Nested calls run serially on the calling thread and give the same bits.
  std::mt19937 rng(10);
  int64_t rows = 128, d = 768;
  Matrix x(rows, d), res(rows, d), expected(rows, d);
  Vector gamma(d), beta(d);
  x.fillUniform(rng, 0.0f, 1.0f);
  res.fillUniform(rng, 0.0f, 1.0f);
  gamma.fillUniform(rng, 0.5f, 1.5f);
  beta.fillUniform(rng, -0.5f, 0.5f);
  runLayerNorm(x, &res, gamma, beta, expected, 1e-5f);
  std::vector<Matrix> results(4, expected);
  ThreadPool pool(4);
  pool.run(4, [&](int index, int) {
    Matrix &out = results[static_cast<size_t>(index)];
    std::fill(out.data.begin(), out.data.end(), 0.0f);
    kernels::layerNorm(rows, d, x.base(), d, 1, res.base(), d, 1, gamma.base(),
                       1, beta.base(), 1, out.base(), d, 1, 1e-5f);
  });
  for (const Matrix &out : results)
    EXPECT_EQ(out.data, expected.data);
}

TEST_P(NormTest, CInterface) {
  std::mt19937 rng(11);
  int64_t rows = 6, d = 40;
  // x: a column slice at offset 3; residual dense; out every other element;
  // gamma strided.
  Matrix x(rows, d, 2 * d, 1, 3), res(rows, d), out(rows, d, 2 * d + 1, 2, 1);
  Vector gamma(d, 2, 1), beta(d);
  x.fillUniform(rng, 0.0f, 1.0f);
  res.fillUniform(rng, 0.0f, 1.0f);
  gamma.fillUniform(rng, 0.5f, 1.5f);
  beta.fillUniform(rng, -0.5f, 0.5f);
  KilnMemRef<2> mx = x.memref(), mr = res.memref(), mo = out.memref();
  KilnMemRef<1> mg = gamma.memref(), mb = beta.memref();
  _mlir_ciface_kiln_layer_norm_f32(&mx, &mr, &mg, &mb, &mo, 1e-5f, 1);
  expectMatches(out, referenceLayerNorm(x, &res, gamma, beta, 1e-5f));
  // Without a residual: the residual descriptor is ignored (it may alias x
  // or be null).
  _mlir_ciface_kiln_layer_norm_f32(&mx, &mx, &mg, &mb, &mo, 1e-5f, 0);
  expectMatches(out, referenceLayerNorm(x, nullptr, gamma, beta, 1e-5f));
  std::fill(out.data.begin(), out.data.end(), 0.0f);
  _mlir_ciface_kiln_layer_norm_f32(&mx, nullptr, &mg, &mb, &mo, 1e-5f, 0);
  expectMatches(out, referenceLayerNorm(x, nullptr, gamma, beta, 1e-5f));
  // In place on the residual.
  Matrix inPlace = res;
  KilnMemRef<2> mi = inPlace.memref();
  _mlir_ciface_kiln_layer_norm_f32(&mx, &mi, &mg, &mb, &mi, 1e-5f, 1);
  expectMatches(inPlace, referenceLayerNorm(x, &res, gamma, beta, 1e-5f));

  _mlir_ciface_kiln_rms_norm_f32(&mx, &mg, &mo, 1e-6f);
  expectMatches(out, referenceRmsNorm(x, gamma, 1e-6f));

  // Empty tensors are fine.
  KilnMemRef<2> empty{nullptr, nullptr, 0, {0, d}, {d, 1}};
  _mlir_ciface_kiln_layer_norm_f32(&empty, &empty, &mg, &mb, &empty, 1e-5f, 1);
  _mlir_ciface_kiln_rms_norm_f32(&empty, &mg, &empty, 1e-6f);
}

INSTANTIATE_TEST_SUITE_P(
    Norm, NormTest,
    ::testing::Values(kernels::GemmIsa::Avx2, kernels::GemmIsa::Avx512),
    [](const ::testing::TestParamInfo<kernels::GemmIsa> &info) {
      return std::string(info.param == kernels::GemmIsa::Avx2 ? "avx2"
                                                              : "avx512");
    });

TEST(NormIsaTest, Avx2AndAvx512GiveTheSameBits) {
  // Both kernels sum over the same lanes in the same tree.
  if (!kernels::avx512Available())
    GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(12);
  for (int64_t d : {1, 9, 36, 63, 65, 100, 768, 4096}) {
    SCOPED_TRACE(describe(7, d));
    Matrix x(7, d), res(7, d);
    Vector gamma(d), beta(d);
    x.fillUniform(rng, 3.0f, 2.0f);
    res.fillUniform(rng, 0.0f, 1.0f);
    gamma.fillUniform(rng, 0.5f, 1.5f);
    beta.fillUniform(rng, -0.5f, 0.5f);
    Matrix out2(7, d), out512(7, d);
    for (int kind = 0; kind < 3; ++kind) {
      for (kernels::GemmIsa isa :
           {kernels::GemmIsa::Avx2, kernels::GemmIsa::Avx512}) {
        Matrix &out = isa == kernels::GemmIsa::Avx2 ? out2 : out512;
        kernels::setNormIsaForTesting(isa);
        if (kind == 2)
          runRmsNorm(x, gamma, out, 1e-6f);
        else
          runLayerNorm(x, kind ? &res : nullptr, gamma, beta, out, 1e-5f);
      }
      kernels::setNormIsaForTesting(kernels::GemmIsa::Auto);
      EXPECT_EQ(out2.data, out512.data) << "kind " << kind;
    }
  }
}

TEST(NormDeathTest, MismatchedShapesAbort) {
  std::vector<float> buf(4096, 0.0f);
  auto matrix = [&](int64_t rows, int64_t cols) {
    return KilnMemRef<2>{buf.data(), buf.data(), 0, {rows, cols}, {cols, 1}};
  };
  auto vector = [&](int64_t size) {
    return KilnMemRef<1>{buf.data(), buf.data(), 0, {size}, {1}};
  };
  KilnMemRef<2> x = matrix(4, 8), res = matrix(4, 8), out = matrix(4, 8);
  KilnMemRef<1> gamma = vector(8), beta = vector(8);
  KilnMemRef<2> shortOut = matrix(3, 8), wideRes = matrix(4, 9);
  KilnMemRef<1> badGamma = vector(7), badBeta = vector(9);
  EXPECT_DEATH(_mlir_ciface_kiln_layer_norm_f32(&x, &res, &gamma, &beta,
                                                &shortOut, 1e-5f, 1),
               "kiln_layer_norm_f32: shapes do not agree: row counts of x and "
               "out differ: x \\[4, 8\\], residual \\[4, 8\\], gamma \\[8\\], "
               "beta \\[8\\], out \\[3, 8\\]");
  EXPECT_DEATH(_mlir_ciface_kiln_layer_norm_f32(&x, &wideRes, &gamma, &beta,
                                                &out, 1e-5f, 1),
               "row lengths of x and residual differ");
  EXPECT_DEATH(_mlir_ciface_kiln_layer_norm_f32(&x, &res, &badGamma, &beta,
                                                &out, 1e-5f, 1),
               "gamma's size is not the row length");
  EXPECT_DEATH(_mlir_ciface_kiln_layer_norm_f32(&x, &res, &gamma, &badBeta,
                                                &out, 1e-5f, 0),
               "beta's size is not the row length");
  EXPECT_DEATH(
      _mlir_ciface_kiln_layer_norm_f32(&x, &res, &gamma, &beta, &out, 1e-5f, 2),
      "kiln_layer_norm_f32: hasResidual is 2, not 0 or 1");
  EXPECT_DEATH(_mlir_ciface_kiln_rms_norm_f32(&x, &badGamma, &out, 1e-6f),
               "kiln_rms_norm_f32: shapes do not agree: gamma's size is not "
               "the row length: x \\[4, 8\\], gamma \\[7\\], out \\[4, 8\\]");
  EXPECT_DEATH(_mlir_ciface_kiln_rms_norm_f32(&x, &gamma, &wideRes, 1e-6f),
               "row lengths of x and out differ");
  // Without a residual, a mismatched residual descriptor is ignored.
  _mlir_ciface_kiln_layer_norm_f32(&x, &wideRes, &gamma, &beta, &out, 1e-5f, 0);
}

} // namespace
