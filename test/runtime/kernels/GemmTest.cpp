//===- GemmTest.cpp - The fp32 GEMM micro-kernels -------------------------===//

#include "runtime/kernels/Gemm.h"
#include "runtime/ThreadPool.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace kiln;

namespace {

/// A matrix stored in a bigger buffer: rows padded to `ld`, starting at
/// `offset`, so that views are genuinely strided.
struct Matrix {
  std::vector<float> data;
  int64_t rows = 0, cols = 0, ld = 0, offset = 0;

  Matrix(int64_t rows, int64_t cols, int64_t pad, int64_t offset,
         std::mt19937 &rng)
      : rows(rows), cols(cols), ld(cols + pad), offset(offset) {
    data.resize(static_cast<size_t>(offset + rows * ld + 8));
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (float &v : data)
      v = dist(rng);
  }
  float &at(int64_t i, int64_t j) {
    return data[static_cast<size_t>(offset + i * ld + j)];
  }
  KilnMemRef<2> memref() {
    return KilnMemRef<2>{
        data.data(), data.data(), offset, {rows, cols}, {ld, 1}};
  }
};

/// C + A' * B' in double precision.
std::vector<double> reference(Matrix &a, Matrix &b, Matrix &c, bool tA,
                              bool tB) {
  int64_t m = c.rows, n = c.cols, k = tA ? a.rows : a.cols;
  std::vector<double> out(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = c.at(i, j);
      for (int64_t l = 0; l < k; ++l)
        sum += double(tA ? a.at(l, i) : a.at(i, l)) *
               double(tB ? b.at(j, l) : b.at(l, j));
      out[static_cast<size_t>(i * n + j)] = sum;
    }
  return out;
}

void expectClose(Matrix &c, const std::vector<double> &expected, int64_t k) {
  double tolerance = 1e-5 * std::sqrt(double(k) + 1.0) * 4;
  for (int64_t i = 0; i < c.rows; ++i)
    for (int64_t j = 0; j < c.cols; ++j) {
      double want = expected[static_cast<size_t>(i * c.cols + j)];
      ASSERT_NEAR(c.at(i, j), want, tolerance * (1.0 + std::fabs(want)))
          << "element (" << i << ", " << j << ")";
    }
}

/// Runs one random product through the C interface and checks it.
void checkMatmul(int64_t m, int64_t n, int64_t k, bool tA, bool tB, int64_t pad,
                 std::mt19937 &rng) {
  SCOPED_TRACE("M " + std::to_string(m) + " N " + std::to_string(n) + " K " +
               std::to_string(k) + " tA " + std::to_string(tA) + " tB " +
               std::to_string(tB) + " pad " + std::to_string(pad));
  Matrix a = tA ? Matrix(k, m, pad, 3, rng) : Matrix(m, k, pad, 3, rng);
  Matrix b = tB ? Matrix(n, k, pad, 5, rng) : Matrix(k, n, pad, 5, rng);
  Matrix c(m, n, pad, 7, rng); // non-zero C: the product accumulates
  std::vector<double> expected = reference(a, b, c, tA, tB);
  std::vector<float> before = c.data;
  KilnMemRef<2> ma = a.memref(), mb = b.memref(), mc = c.memref();
  _mlir_ciface_kiln_matmul_f32(&ma, &mb, &mc, tA, tB);
  expectClose(c, expected, k);
  // Padding and the elements around C stay untouched.
  for (size_t i = 0; i < c.data.size(); ++i) {
    int64_t rel = static_cast<int64_t>(i) - c.offset;
    bool inside = rel >= 0 && rel < m * c.ld && rel % c.ld < n;
    if (!inside)
      ASSERT_EQ(c.data[i], before[i]) << "wrote outside C at " << i;
  }
}

/// Every GemmTest runs once per micro-kernel (KILN_GEMM_ISA=avx2 and avx512);
/// the avx512 instance is skipped on CPUs without AVX-512.
class GemmTest : public ::testing::TestWithParam<kernels::GemmIsa> {
protected:
  void SetUp() override {
    if (GetParam() == kernels::GemmIsa::Avx512 && !kernels::avx512Available())
      GTEST_SKIP() << "no AVX-512 on this CPU";
    kernels::setIsaForTesting(GetParam());
    ASSERT_STREQ(kernels::activeIsaName(),
                 GetParam() == kernels::GemmIsa::Avx2 ? "avx2" : "avx512");
  }
  void TearDown() override {
    kernels::setIsaForTesting(kernels::GemmIsa::Auto);
  }
};

TEST_P(GemmTest, EdgeSizesAllTransposes) {
  std::mt19937 rng(1);
  const int64_t sizes[] = {1, 2, 3, 4, 5, 6, 7, 13, 16, 17, 33};
  for (bool tA : {false, true})
    for (bool tB : {false, true})
      for (int64_t m : sizes)
        for (int64_t n : sizes)
          for (int64_t k : {1, 2, 7, 8, 9, 31}) {
            checkMatmul(m, n, k, tA, tB, 0, rng);
            if (HasFatalFailure())
              return;
          }
}

TEST_P(GemmTest, RandomSizesStridedViews) {
  std::mt19937 rng(2);
  std::uniform_int_distribution<int64_t> size(1, 300);
  std::uniform_int_distribution<int64_t> pad(0, 9);
  for (int trial = 0; trial < 60; ++trial) {
    checkMatmul(size(rng), size(rng), size(rng), trial & 1, trial & 2, pad(rng),
                rng);
    if (HasFatalFailure())
      return;
  }
}

TEST_P(GemmTest, BlockingBoundaries) {
  // Larger than the cache blocks in every dimension (several k blocks, M
  // above the packed-A block, N above the packed-B block).
  std::mt19937 rng(3);
  for (bool tB : {false, true}) {
    checkMatmul(150, 530, 600, false, tB, 3, rng);
    checkMatmul(7, 1100, 513, true, tB, 0, rng);
    checkMatmul(1, 700, 1030, false, tB, 1, rng);
    checkMatmul(290, 3, 257, tB, false, 2, rng);
  }
}

TEST_P(GemmTest, MatrixVector) {
  std::mt19937 rng(4);
  for (bool tA : {false, true})
    for (bool tB : {false, true})
      for (int64_t m : {1, 2, 3, 4})
        for (int64_t n : {1, 7, 8, 65, 200})
          for (int64_t k : {1, 5, 8, 77, 300})
            checkMatmul(m, n, k, tA, tB, 1, rng);
}

TEST_P(GemmTest, ColumnStridedOperands) {
  // Views with no unit stride at all (every other element of a buffer).
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t m : {1, 3, 20})
    for (int64_t n : {2, 19})
      for (int64_t k : {4, 40}) {
        std::vector<float> a(size_t(2 * m * k)), b(size_t(2 * k * n)),
            c(size_t(2 * m * n));
        for (auto *buf : {&a, &b, &c})
          for (float &v : *buf)
            v = dist(rng);
        std::vector<float> c0 = c;
        kernels::sgemm(m, n, k, a.data(), 2 * k, 2, b.data(), 2 * n, 2,
                       c.data(), 2 * n, 2);
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            double want = c0[size_t(2 * (i * n + j))];
            for (int64_t l = 0; l < k; ++l)
              want += double(a[size_t(2 * (i * k + l))]) *
                      b[size_t(2 * (l * n + j))];
            EXPECT_NEAR(c[size_t(2 * (i * n + j))], want, 1e-4);
            EXPECT_EQ(c[size_t(2 * (i * n + j) + 1)],
                      c0[size_t(2 * (i * n + j) + 1)]);
          }
      }
}

TEST_P(GemmTest, BatchWithBatchStrides) {
  std::mt19937 rng(6);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t batch : {1, 3, 12})
    for (bool tA : {false, true})
      for (bool tB : {false, true}) {
        int64_t m = 9, n = 21, k = 17;
        // Each operand of a batch item is a slice of a wider row (like one
        // head of a fused QKV projection): batch stride != rows * ld.
        int64_t aRows = tA ? k : m, aCols = tA ? m : k;
        int64_t bRows = tB ? n : k, bCols = tB ? k : n;
        int64_t ldA = aCols + 5, ldB = bCols + 3, ldC = n + 2;
        int64_t bsA = aRows * ldA + 11, bsB = bRows * ldB + 4,
                bsC = m * ldC + 6;
        std::vector<float> a(size_t(batch * bsA + 2)),
            b(size_t(batch * bsB + 1)), c(size_t(batch * bsC + 3));
        for (auto *buf : {&a, &b, &c})
          for (float &v : *buf)
            v = dist(rng);
        std::vector<float> c0 = c;
        KilnMemRef<3> ma{
            a.data(), a.data(), 2, {batch, aRows, aCols}, {bsA, ldA, 1}};
        KilnMemRef<3> mb{
            b.data(), b.data(), 1, {batch, bRows, bCols}, {bsB, ldB, 1}};
        KilnMemRef<3> mc{c.data(), c.data(), 3, {batch, m, n}, {bsC, ldC, 1}};
        _mlir_ciface_kiln_batch_matmul_f32(&ma, &mb, &mc, tA, tB);
        for (int64_t t = 0; t < batch; ++t)
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
              size_t ci = size_t(3 + t * bsC + i * ldC + j);
              double want = c0[ci];
              for (int64_t l = 0; l < k; ++l) {
                float av = tA ? a[size_t(2 + t * bsA + l * ldA + i)]
                              : a[size_t(2 + t * bsA + i * ldA + l)];
                float bv = tB ? b[size_t(1 + t * bsB + j * ldB + l)]
                              : b[size_t(1 + t * bsB + l * ldB + j)];
                want += double(av) * bv;
              }
              ASSERT_NEAR(c[ci], want, 1e-4)
                  << "batch " << t << " (" << i << ", " << j << ")";
            }
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

TEST_P(GemmTest, ThreadCountDoesNotChangeResults) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  struct Shape {
    int64_t m, n, k;
  };
  for (Shape s : {Shape{128, 300, 200}, Shape{301, 40, 520},
                  Shape{1, 3000, 700}, Shape{3, 1000, 300}, Shape{200, 2, 300}})
    for (bool tB : {false, true}) {
      std::vector<float> a(size_t(s.m * s.k)), b(size_t(s.k * s.n)),
          c0(size_t(s.m * s.n));
      for (auto *buf : {&a, &b, &c0})
        for (float &v : *buf)
          v = dist(rng);
      int64_t rsB = tB ? 1 : s.n, csB = tB ? s.k : 1;
      std::vector<float> serial = c0;
      kernels::sgemm(s.m, s.n, s.k, a.data(), s.k, 1, b.data(), rsB, csB,
                     serial.data(), s.n, 1, 1);
      for (int threads : {2, 3, 4, 7}) {
        std::vector<float> parallel = c0;
        withThreads(threads, [&] {
          kernels::sgemm(s.m, s.n, s.k, a.data(), s.k, 1, b.data(), rsB, csB,
                         parallel.data(), s.n, 1);
        });
        ASSERT_EQ(std::memcmp(serial.data(), parallel.data(),
                              serial.size() * sizeof(float)),
                  0)
            << "M " << s.m << " N " << s.n << " K " << s.k << " tB " << tB
            << ", " << threads << " threads";
      }
    }
}

TEST_P(GemmTest, BatchThreadCountDoesNotChangeResults) {
  std::mt19937 rng(8);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t batch : {2, 12}) {
    int64_t m = 64, n = 80, k = 96;
    std::vector<float> a(size_t(batch * m * k)), b(size_t(batch * k * n)),
        c0(size_t(batch * m * n));
    for (auto *buf : {&a, &b, &c0})
      for (float &v : *buf)
        v = dist(rng);
    std::vector<float> serial = c0;
    kernels::sgemmBatched(batch, m, n, k, a.data(), m * k, k, 1, b.data(),
                          k * n, n, 1, serial.data(), m * n, n, 1, 1);
    // Each item alone gives the same bits as inside the batch.
    std::vector<float> single = c0;
    for (int64_t t = 0; t < batch; ++t)
      kernels::sgemm(m, n, k, a.data() + t * m * k, k, 1, b.data() + t * k * n,
                     n, 1, single.data() + t * m * n, n, 1, 1);
    EXPECT_EQ(serial, single);
    for (int threads : {2, 5}) {
      std::vector<float> parallel = c0;
      withThreads(threads, [&] {
        kernels::sgemmBatched(batch, m, n, k, a.data(), m * k, k, 1, b.data(),
                              k * n, n, 1, parallel.data(), m * n, n, 1);
      });
      EXPECT_EQ(serial, parallel) << threads << " threads";
    }
  }
}

TEST_P(GemmTest, CalledInsideAParallelRegion) {
  // Nested calls run serially on the calling thread and give the same bits.
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  int64_t m = 100, n = 200, k = 150;
  std::vector<float> a(size_t(m * k)), b(size_t(k * n)), c0(size_t(m * n));
  for (auto *buf : {&a, &b, &c0})
    for (float &v : *buf)
      v = dist(rng);
  std::vector<float> expected = c0;
  kernels::sgemm(m, n, k, a.data(), k, 1, b.data(), n, 1, expected.data(), n,
                 1);
  std::vector<std::vector<float>> results(4, c0);
  ThreadPool pool(4);
  pool.run(4, [&](int index, int) {
    std::vector<float> &c = results[size_t(index)];
    kernels::sgemm(m, n, k, a.data(), k, 1, b.data(), n, 1, c.data(), n, 1);
  });
  for (const std::vector<float> &c : results)
    EXPECT_EQ(c, expected);
}

TEST_P(GemmTest, EmptyProductsLeaveCUnchanged) {
  std::vector<float> a(4, 1.0f), b(4, 1.0f), c(4, 2.0f);
  KilnMemRef<2> ma{a.data(), a.data(), 0, {2, 0}, {2, 1}};
  KilnMemRef<2> mb{b.data(), b.data(), 0, {0, 2}, {2, 1}};
  KilnMemRef<2> mc{c.data(), c.data(), 0, {2, 2}, {2, 1}};
  _mlir_ciface_kiln_matmul_f32(&ma, &mb, &mc, 0, 0);
  EXPECT_EQ(c, std::vector<float>(4, 2.0f));
}

TEST(GemmIsaTest, Avx2AndAvx512GiveTheSameBits) {
  // Both micro-kernels sum every element in the same order.
  if (!kernels::avx512Available())
    GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(10);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  struct Shape {
    int64_t m, n, k;
  };
  for (Shape s : {Shape{128, 768, 300}, Shape{37, 45, 600}, Shape{300, 530, 70},
                  Shape{13, 33, 9}})
    for (bool tA : {false, true})
      for (bool tB : {false, true}) {
        std::vector<float> a(size_t(s.m * s.k)), b(size_t(s.k * s.n)),
            c0(size_t(s.m * s.n));
        for (auto *buf : {&a, &b, &c0})
          for (float &v : *buf)
            v = dist(rng);
        int64_t rsA = tA ? 1 : s.k, csA = tA ? s.m : 1;
        int64_t rsB = tB ? 1 : s.n, csB = tB ? s.k : 1;
        std::vector<float> results[2] = {c0, c0};
        kernels::GemmIsa isas[2] = {kernels::GemmIsa::Avx2,
                                    kernels::GemmIsa::Avx512};
        for (int v = 0; v < 2; ++v) {
          kernels::setIsaForTesting(isas[v]);
          kernels::sgemm(s.m, s.n, s.k, a.data(), rsA, csA, b.data(), rsB, csB,
                         results[v].data(), s.n, 1);
        }
        kernels::setIsaForTesting(kernels::GemmIsa::Auto);
        EXPECT_EQ(results[0], results[1])
            << "M " << s.m << " N " << s.n << " K " << s.k << " tA " << tA
            << " tB " << tB;
      }
}

INSTANTIATE_TEST_SUITE_P(
    Gemm, GemmTest,
    ::testing::Values(kernels::GemmIsa::Avx2, kernels::GemmIsa::Avx512),
    [](const ::testing::TestParamInfo<kernels::GemmIsa> &info) {
      return std::string(info.param == kernels::GemmIsa::Avx2 ? "avx2"
                                                              : "avx512");
    });

TEST(GemmDeathTest, MismatchedShapesAbort) {
  std::vector<float> buf(64, 0.0f);
  KilnMemRef<2> ma{buf.data(), buf.data(), 0, {2, 3}, {3, 1}};
  KilnMemRef<2> mb{buf.data(), buf.data(), 0, {4, 5}, {5, 1}};
  KilnMemRef<2> mc{buf.data(), buf.data(), 0, {2, 5}, {5, 1}};
  EXPECT_DEATH(_mlir_ciface_kiln_matmul_f32(&ma, &mb, &mc, 0, 0),
               "kiln_matmul_f32: shapes do not agree");
}

} // namespace
