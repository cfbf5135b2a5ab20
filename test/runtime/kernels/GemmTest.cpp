//===- GemmTest.cpp - The fp32 GEMM micro-kernels -------------------------===//

#include "runtime/kernels/Gemm.h"
#include "runtime/threads/ThreadPool.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
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

//===----------------------------------------------------------------------===//
// B pre-packed in column panels (sgemmPanels, kiln_matmul_panels_f32)
//===----------------------------------------------------------------------===//

/// B' packed in panels of width `width`: panel q at data[lead + q * stride],
/// B'(l, j) at panel(j / width)[l * width + j % width]. Columns past N hold
/// zeros (as the compiler packs them); the `lead` floats before the panels
/// and the `gap` floats between them hold NaN, which must never be read.
struct Panels {
  std::vector<float> data;
  int64_t lead = 0, width = 0, stride = 0, count = 0;

  Panels(const std::vector<float> &b, int64_t rsB, int64_t csB, int64_t k,
         int64_t n, int64_t width, int64_t lead = 0, int64_t gap = 0)
      : lead(lead), width(width), stride(k * width + gap),
        count((n + width - 1) / width) {
    data.assign(static_cast<size_t>(lead + count * stride), NAN);
    for (int64_t q = 0; q < count; ++q)
      for (int64_t l = 0; l < k; ++l)
        for (int64_t u = 0; u < width; ++u) {
          int64_t j = q * width + u;
          data[static_cast<size_t>(lead + q * stride + l * width + u)] =
              j < n ? b[static_cast<size_t>(l * rsB + j * csB)] : 0.0f;
        }
  }
  const float *get() const { return data.data() + lead; }
};

std::vector<float> randomVector(int64_t size, std::mt19937 &rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(size));
  for (float &x : v)
    x = dist(rng);
  return v;
}

/// The active packed path's micro-tile width: the panel width read in place.
int64_t activeNR() {
  return std::string(kernels::activeIsaName()) == "avx512" ? 32 : 16;
}

/// Every GemmPanelsTest runs once per micro-kernel, like GemmTest.
class GemmPanelsTest : public GemmTest {};

/// One random product with B' in panels of width `w` against the double
/// reference; B' packed from B [K, N] or, if tB, from B [N, K]. A and C are
/// padded views (pad), A transposed if tA.
void checkPanels(int64_t m, int64_t n, int64_t k, int64_t w, bool tA, bool tB,
                 int64_t pad, std::mt19937 &rng) {
  SCOPED_TRACE("M " + std::to_string(m) + " N " + std::to_string(n) + " K " +
               std::to_string(k) + " W " + std::to_string(w) + " tA " +
               std::to_string(tA) + " tB " + std::to_string(tB) + " pad " +
               std::to_string(pad));
  Matrix a = tA ? Matrix(k, m, pad, 3, rng) : Matrix(m, k, pad, 3, rng);
  Matrix b = tB ? Matrix(n, k, 0, 0, rng) : Matrix(k, n, 0, 0, rng);
  Matrix c(m, n, pad, 7, rng);
  std::vector<double> expected = reference(a, b, c, tA, tB);
  Panels panels(b.data, tB ? 1 : n, tB ? k : 1, k, n, w, /*lead=*/1,
                /*gap=*/3);
  std::vector<float> before = c.data;
  kernels::sgemmPanels(m, n, k, a.data.data() + a.offset, tA ? 1 : a.ld,
                       tA ? a.ld : 1, panels.get(), w, panels.stride,
                       c.data.data() + c.offset, c.ld, 1);
  expectClose(c, expected, k);
  for (size_t i = 0; i < c.data.size(); ++i) {
    int64_t rel = static_cast<int64_t>(i) - c.offset;
    bool inside = rel >= 0 && rel < m * c.ld && rel % c.ld < n;
    if (!inside)
      ASSERT_EQ(c.data[i], before[i]) << "wrote outside C at " << i;
  }
}

TEST_P(GemmPanelsTest, MatchesReference) {
  std::mt19937 rng(11);
  int trial = 0;
  for (int64_t w : {16, 32, 7})
    for (int64_t m : {1, 2, 3, 4, 5, 13, 128})
      for (int64_t k : {1, 7, 768})
        for (int64_t n : {3, 16, 33, 100}) {
          ++trial;
          checkPanels(m, n, k, w, trial & 1, trial & 2, trial % 3, rng);
          if (HasFatalFailure())
            return;
        }
}

TEST_P(GemmPanelsTest, AnyPanelWidth) {
  // Widths the kernels have no fast path for, incl. panels narrower than a
  // micro-tile and N <= 4.
  std::mt19937 rng(12);
  for (int64_t w : {1, 3, 8, 24, 48, 64})
    for (int64_t m : {1, 4, 7, 30})
      for (int64_t n : {1, 4, 5, 40, 77}) {
        checkPanels(m, n, 37, w, m & 1, n & 1, 1, rng);
        if (HasFatalFailure())
          return;
      }
}

TEST_P(GemmPanelsTest, BlockingBoundaries) {
  // Several k blocks, M above the packed-A block, N above the packed-B block.
  std::mt19937 rng(13);
  for (int64_t w : {16, 32, 7}) {
    checkPanels(150, 530, 600, w, false, false, 3, rng);
    checkPanels(300, 1100, 300, w, true, true, 0, rng);
    checkPanels(2, 1100, 513, w, true, false, 1, rng);
  }
}

TEST_P(GemmPanelsTest, BitIdenticalToSgemm) {
  // Same micro-kernel, same summation order: the same bits as sgemm on the
  // unpacked B [K, N] (and on B [N, K] where sgemm packs it, M > 4) for the
  // width read in place, for the other widths (re-packed) and for unaligned
  // panels.
  std::mt19937 rng(14);
  struct Shape {
    int64_t m, n, k;
  };
  int64_t nr = activeNR();
  for (Shape s : {Shape{128, 768, 768}, Shape{1, 3072, 768}, Shape{4, 100, 70},
                  Shape{2, 33, 9}, Shape{3, 530, 257}, Shape{5, 40, 600},
                  Shape{13, 17, 300}, Shape{150, 1100, 300},
                  Shape{300, 45, 520}, Shape{7, 3, 50}})
    for (int64_t w : {nr, 48 - nr, int64_t(7)})
      for (int64_t lead : {0, 1})
        for (bool tB : {false, true}) {
          if (tB && s.m <= 4)
            continue; // sgemm uses dot products on B [N, K]
          std::vector<float> a = randomVector(s.m * s.k, rng),
                             b = randomVector(s.k * s.n, rng),
                             c0 = randomVector(s.m * s.n, rng);
          int64_t rsB = tB ? 1 : s.n, csB = tB ? s.k : 1;
          // Panels at the start of their buffer or one float later: the
          // in-place reads must not assume alignment.
          Panels panels(b, rsB, csB, s.k, s.n, w, lead);
          std::vector<float> want = c0, got = c0;
          kernels::sgemm(s.m, s.n, s.k, a.data(), s.k, 1, b.data(), rsB, csB,
                         want.data(), s.n, 1);
          kernels::sgemmPanels(s.m, s.n, s.k, a.data(), s.k, 1, panels.get(), w,
                               panels.stride, got.data(), s.n, 1);
          ASSERT_EQ(
              std::memcmp(want.data(), got.data(), want.size() * sizeof(float)),
              0)
              << "M " << s.m << " N " << s.n << " K " << s.k << " W " << w
              << " lead " << lead << " tB " << tB;
        }
}

TEST_P(GemmPanelsTest, ColumnStridedAAndC) {
  // A and C with no unit stride (every other element of a buffer).
  std::mt19937 rng(15);
  for (int64_t w : {16, 32, 7})
    for (int64_t m : {1, 3, 20})
      for (int64_t n : {2, 19, 70})
        for (int64_t k : {4, 40}) {
          std::vector<float> a = randomVector(2 * m * k, rng),
                             b = randomVector(k * n, rng),
                             c = randomVector(2 * m * n, rng);
          std::vector<float> c0 = c, viaSgemm = c;
          Panels panels(b, n, 1, k, n, w);
          kernels::sgemmPanels(m, n, k, a.data(), 2 * k, 2, panels.get(), w,
                               panels.stride, c.data(), 2 * n, 2);
          kernels::sgemm(m, n, k, a.data(), 2 * k, 2, b.data(), n, 1,
                         viaSgemm.data(), 2 * n, 2);
          EXPECT_EQ(c, viaSgemm)
              << "M " << m << " N " << n << " K " << k << " W " << w;
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
              double want = c0[size_t(2 * (i * n + j))];
              for (int64_t l = 0; l < k; ++l)
                want +=
                    double(a[size_t(2 * (i * k + l))]) * b[size_t(l * n + j)];
              ASSERT_NEAR(c[size_t(2 * (i * n + j))], want, 1e-4);
              ASSERT_EQ(c[size_t(2 * (i * n + j) + 1)],
                        c0[size_t(2 * (i * n + j) + 1)]);
            }
        }
}

TEST_P(GemmPanelsTest, ThreadCountDoesNotChangeResults) {
  std::mt19937 rng(16);
  struct Shape {
    int64_t m, n, k;
  };
  for (Shape s :
       {Shape{128, 768, 768}, Shape{301, 200, 520}, Shape{1, 4096, 2048},
        Shape{3, 3000, 3000}, Shape{30, 1000, 700}})
    for (int64_t w : {activeNR(), int64_t(7)}) {
      std::vector<float> a = randomVector(s.m * s.k, rng),
                         b = randomVector(s.k * s.n, rng),
                         c0 = randomVector(s.m * s.n, rng);
      Panels panels(b, s.n, 1, s.k, s.n, w);
      std::vector<float> serial = c0;
      kernels::sgemmPanels(s.m, s.n, s.k, a.data(), s.k, 1, panels.get(), w,
                           panels.stride, serial.data(), s.n, 1, 1);
      for (int threads : {2, 3}) {
        std::vector<float> parallel = c0;
        withThreads(threads, [&] {
          kernels::sgemmPanels(s.m, s.n, s.k, a.data(), s.k, 1, panels.get(), w,
                               panels.stride, parallel.data(), s.n, 1);
        });
        ASSERT_EQ(std::memcmp(serial.data(), parallel.data(),
                              serial.size() * sizeof(float)),
                  0)
            << "M " << s.m << " N " << s.n << " K " << s.k << " W " << w << ", "
            << threads << " threads";
      }
    }
}

TEST_P(GemmPanelsTest, MlirDescriptor) {
  std::mt19937 rng(17);
  for (int64_t w : {16, 32, 7})
    for (bool tA : {false, true})
      for (int64_t m : {1, 9})
        for (int64_t gap : {0, 5}) {
          int64_t n = 45, k = 20;
          Matrix a = tA ? Matrix(k, m, 2, 3, rng) : Matrix(m, k, 2, 3, rng);
          Matrix b(k, n, 0, 0, rng);
          Matrix c(m, n, 1, 2, rng);
          Matrix viaMatmul = c;
          Panels panels(b.data, n, 1, k, n, w, /*lead=*/4, gap);
          KilnMemRef<2> ma = a.memref(), mb = b.memref(), mc = c.memref(),
                        mc2 = viaMatmul.memref();
          KilnMemRef<3> mp{panels.data.data(),
                           panels.data.data(),
                           panels.lead,
                           {panels.count, k, w},
                           {panels.stride, w, 1}};
          _mlir_ciface_kiln_matmul_panels_f32(&ma, &mp, &mc, tA);
          _mlir_ciface_kiln_matmul_f32(&ma, &mb, &mc2, tA, 0);
          EXPECT_EQ(c.data, viaMatmul.data)
              << "W " << w << " tA " << tA << " M " << m << " gap " << gap;
        }
}

TEST_P(GemmPanelsTest, MlirDescriptorOtherStrides) {
  // Panels stored [P, W, K] (k contiguous), described by strides
  // [K * W, 1, W]: not readable in place, still correct.
  std::mt19937 rng(18);
  int64_t m = 6, n = 40, k = 33, w = 16, count = 3;
  Matrix a(m, k, 0, 0, rng);
  Matrix c(m, n, 0, 0, rng);
  std::vector<float> b = randomVector(k * n, rng);
  std::vector<float> panels(size_t(count * k * w), 0.0f);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t l = 0; l < k; ++l)
      panels[size_t(j / w * k * w + j % w * k + l)] = b[size_t(l * n + j)];
  Matrix want = c;
  kernels::sgemm(m, n, k, a.data.data(), k, 1, b.data(), n, 1, want.data.data(),
                 n, 1);
  KilnMemRef<2> ma = a.memref(), mc = c.memref();
  KilnMemRef<3> mp{
      panels.data(), panels.data(), 0, {count, k, w}, {k * w, 1, k}};
  _mlir_ciface_kiln_matmul_panels_f32(&ma, &mp, &mc, 0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      ASSERT_NEAR(c.at(i, j), want.at(i, j), 1e-4) << i << ", " << j;
}

TEST_P(GemmPanelsTest, EmptyProductsLeaveCUnchanged) {
  std::vector<float> a(4, 1.0f), b(64, 1.0f), c(4, 2.0f);
  KilnMemRef<2> ma{a.data(), a.data(), 0, {2, 0}, {2, 1}};
  KilnMemRef<3> mb{b.data(), b.data(), 0, {1, 0, 16}, {0, 16, 1}};
  KilnMemRef<2> mc{c.data(), c.data(), 0, {2, 2}, {2, 1}};
  _mlir_ciface_kiln_matmul_panels_f32(&ma, &mb, &mc, 0);
  EXPECT_EQ(c, std::vector<float>(4, 2.0f));
}

INSTANTIATE_TEST_SUITE_P(
    GemmPanels, GemmPanelsTest,
    ::testing::Values(kernels::GemmIsa::Avx2, kernels::GemmIsa::Avx512),
    [](const ::testing::TestParamInfo<kernels::GemmIsa> &info) {
      return std::string(info.param == kernels::GemmIsa::Avx2 ? "avx2"
                                                              : "avx512");
    });

TEST(GemmPanelsDeathTest, MismatchedShapesAbort) {
  std::vector<float> buf(256, 0.0f);
  KilnMemRef<2> ma{buf.data(), buf.data(), 0, {2, 3}, {3, 1}};
  KilnMemRef<2> mc{buf.data(), buf.data(), 0, {2, 40}, {40, 1}};
  // N = 40 needs 3 panels of width 16, not 2.
  KilnMemRef<3> twoPanels{buf.data(), buf.data(), 0, {2, 3, 16}, {48, 16, 1}};
  EXPECT_DEATH(_mlir_ciface_kiln_matmul_panels_f32(&ma, &twoPanels, &mc, 0),
               "kiln_matmul_panels_f32: shapes do not agree");
  // K of the panels (4) is not K of A (3).
  KilnMemRef<3> wrongK{buf.data(), buf.data(), 0, {3, 4, 16}, {64, 16, 1}};
  EXPECT_DEATH(_mlir_ciface_kiln_matmul_panels_f32(&ma, &wrongK, &mc, 0),
               "kiln_matmul_panels_f32: shapes do not agree");
  // Width 0.
  KilnMemRef<3> noWidth{buf.data(), buf.data(), 0, {0, 3, 0}, {0, 0, 1}};
  EXPECT_DEATH(_mlir_ciface_kiln_matmul_panels_f32(&ma, &noWidth, &mc, 0),
               "kiln_matmul_panels_f32: shapes do not agree");
}

TEST(GemmPackPanelsTest, MatchesTheReferenceLayout) {
  std::mt19937 rng(11);
  for (bool inOut : {false, true})
    for (auto [k, n, w] : {std::tuple<int64_t, int64_t, int64_t>{8, 20, 16},
                           {768, 2304, 32},
                           {5, 3, 32},
                           {9, 33, 7},
                           {1, 1, 1}}) {
      SCOPED_TRACE("K " + std::to_string(k) + " N " + std::to_string(n) +
                   " W " + std::to_string(w) + " inOut " +
                   std::to_string(inOut));
      // The weight as stored: [in, out] = [K, N] or [out, in] = [N, K],
      // inside a wider buffer (row stride + 3).
      int64_t rows = inOut ? k : n, cols = inOut ? n : k, ld = cols + 3;
      std::vector<float> weight = randomVector(rows * ld, rng);
      int64_t rsB = inOut ? ld : 1, csB = inOut ? 1 : ld;
      Panels expected(weight, rsB, csB, k, n, w);
      int64_t count = (n + w - 1) / w;
      std::vector<float> panels(static_cast<size_t>(count * k * w), NAN);
      KilnMemRef<2> wd{weight.data(), weight.data(), 0, {rows, cols}, {ld, 1}};
      KilnMemRef<3> pd{
          panels.data(), panels.data(), 0, {count, k, w}, {k * w, w, 1}};
      _mlir_ciface_kiln_pack_panels_f32(&wd, &pd, inOut);
      ASSERT_EQ(panels, expected.data);
    }
}

TEST(GemmPackPanelsDeathTest, MismatchedShapesAbort) {
  std::vector<float> buf(256, 0.0f);
  KilnMemRef<2> weight{buf.data(), buf.data(), 0, {20, 8}, {8, 1}};
  // 20 outputs need 2 panels of 16.
  KilnMemRef<3> onePanel{buf.data(), buf.data(), 0, {1, 8, 16}, {128, 16, 1}};
  EXPECT_DEATH(_mlir_ciface_kiln_pack_panels_f32(&weight, &onePanel, 0),
               "kiln_pack_panels_f32: shapes do not agree");
  // Read [in, out], the same weight has 8 outputs of 20 inputs.
  KilnMemRef<3> twoPanels{buf.data(), buf.data(), 0, {2, 8, 16}, {128, 16, 1}};
  EXPECT_DEATH(_mlir_ciface_kiln_pack_panels_f32(&weight, &twoPanels, 1),
               "kiln_pack_panels_f32: shapes do not agree");
}

TEST(GemmDeathTest, MismatchedShapesAbort) {
  std::vector<float> buf(64, 0.0f);
  KilnMemRef<2> ma{buf.data(), buf.data(), 0, {2, 3}, {3, 1}};
  KilnMemRef<2> mb{buf.data(), buf.data(), 0, {4, 5}, {5, 1}};
  KilnMemRef<2> mc{buf.data(), buf.data(), 0, {2, 5}, {5, 1}};
  EXPECT_DEATH(_mlir_ciface_kiln_matmul_f32(&ma, &mb, &mc, 0, 0),
               "kiln_matmul_f32: shapes do not agree");
}

} // namespace

//===----------------------------------------------------------------------===//
// Fused linear layers (linearPanels, kiln_linear_panels_f32) and their math
//===----------------------------------------------------------------------===//

namespace {

using kernels::Activation;

const Activation kActivations[] = {Activation::None,     Activation::Gelu,
                                   Activation::GeluTanh, Activation::QuickGelu,
                                   Activation::Silu,     Activation::Relu,
                                   Activation::Tanh};

/// The activations in double precision. gelu_tanh as x sigmoid(2u), the same
/// function as 0.5 x (1 + tanh u) without its cancellation for x < 0.
double activationReference(Activation act, double x) {
  switch (act) {
  case Activation::Gelu:
    return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
  case Activation::GeluTanh:
    return x / (1.0 + std::exp(-2.0 * std::sqrt(2.0 / M_PI) *
                               (x + 0.044715 * x * x * x)));
  case Activation::QuickGelu:
    return x / (1.0 + std::exp(-1.702 * x));
  case Activation::Silu:
    return x / (1.0 + std::exp(-x));
  case Activation::Relu:
    return x > 0.0 ? x : 0.0;
  case Activation::Tanh:
    return std::tanh(x);
  default:
    return x;
  }
}

/// The float ulp at `ref` (of its binade; 2^-149 below FLT_MIN).
double ulpAt(double ref) {
  double a = std::fabs(ref);
  if (a < 1.1754943508222875e-38)
    return std::ldexp(1.0, -149);
  int e;
  std::frexp(a, &e);
  return std::ldexp(1.0, e - 24);
}

/// The ISAs this CPU runs.
std::vector<kernels::GemmIsa> availableIsas() {
  std::vector<kernels::GemmIsa> isas{kernels::GemmIsa::Avx2};
  if (kernels::avx512Available())
    isas.push_back(kernels::GemmIsa::Avx512);
  return isas;
}

/// Every 2^-12 in [-10, 10], and magnitudes down to 1e-30 (relative
/// accuracy near zero), both signs.
std::vector<float> mathSweep() {
  std::vector<float> x;
  for (int i = -10 * 4096; i <= 10 * 4096; ++i)
    x.push_back(static_cast<float>(i) / 4096.0f);
  for (float v = 1e-30f; v < 1.0f; v *= 1.01f) {
    x.push_back(v);
    x.push_back(-v);
  }
  return x;
}

} // namespace

TEST(GemmLinearMathTest, ExpErfTanhAccuracy) {
  // Measured over every float in [-10, 10]: erf 1.32 ulp, tanh 1.33 ulp, exp
  // 0.98 ulp (and exp over [-87, 88] below).
  std::vector<float> x = mathSweep();
  std::vector<float> wide; // exp over its whole normal range
  for (float v = -87.0f; v <= 88.0f; v += 1.0f / 512)
    wide.push_back(v);
  struct Case {
    kernels::VectorFunction f;
    const char *name;
    double (*ref)(double);
    const std::vector<float> *x;
  };
  const Case cases[] = {{kernels::VectorFunction::Erf, "erf",
                         [](double v) { return std::erf(v); }, &x},
                        {kernels::VectorFunction::Tanh, "tanh",
                         [](double v) { return std::tanh(v); }, &x},
                        {kernels::VectorFunction::Exp, "exp",
                         [](double v) { return std::exp(v); }, &x},
                        {kernels::VectorFunction::Exp, "exp",
                         [](double v) { return std::exp(v); }, &wide}};
  for (kernels::GemmIsa isa : availableIsas()) {
    kernels::setIsaForTesting(isa);
    for (const Case &c : cases) {
      std::vector<float> y(c.x->size());
      kernels::vectorMathForTesting(c.f, c.x->data(), y.data(),
                                    static_cast<int64_t>(y.size()));
      double worst = 0.0, at = 0.0;
      for (size_t i = 0; i < y.size(); ++i) {
        double ref = c.ref((*c.x)[i]);
        double ulps = std::fabs(y[i] - ref) / ulpAt(ref);
        if (ulps > worst) {
          worst = ulps;
          at = (*c.x)[i];
        }
      }
      EXPECT_LE(worst, 2.0)
          << c.name << " at " << at << " (" << kernels::activeIsaName() << ")";
    }
  }
  kernels::setIsaForTesting(kernels::GemmIsa::Auto);
}

TEST(GemmLinearMathTest, SpecialValues) {
  const float inf = INFINITY;
  std::vector<float> x = {0.0f, -0.0f, inf, -inf, NAN, 1e-40f, -1e-40f, 100.0f};
  std::vector<float> y(x.size());
  for (kernels::GemmIsa isa : availableIsas()) {
    kernels::setIsaForTesting(isa);
    kernels::vectorMathForTesting(kernels::VectorFunction::Erf, x.data(),
                                  y.data(), 8);
    EXPECT_EQ(y[0], 0.0f);
    EXPECT_TRUE(std::signbit(y[1]));
    EXPECT_EQ(y[2], 1.0f);
    EXPECT_EQ(y[3], -1.0f);
    EXPECT_TRUE(std::isnan(y[4]));
    EXPECT_NEAR(y[5], 1.1283791670955126 * x[5], 1.5e-45); // a subnormal ulp
    EXPECT_EQ(y[7], 1.0f);
    kernels::vectorMathForTesting(kernels::VectorFunction::Tanh, x.data(),
                                  y.data(), 8);
    EXPECT_EQ(y[0], 0.0f);
    EXPECT_TRUE(std::signbit(y[1]));
    EXPECT_EQ(y[2], 1.0f);
    EXPECT_EQ(y[3], -1.0f);
    EXPECT_TRUE(std::isnan(y[4]));
    EXPECT_EQ(y[6], -1e-40f);
    kernels::vectorMathForTesting(kernels::VectorFunction::Exp, x.data(),
                                  y.data(), 8);
    EXPECT_EQ(y[0], 1.0f);
    EXPECT_EQ(y[3], 0.0f); // exp(-inf); exp(+inf) is exp(88) (x <= 88 only)
    EXPECT_TRUE(std::isnan(y[4]));
    std::vector<float> acts = x;
    for (Activation act : kActivations) {
      acts = x;
      kernels::applyActivation(act, acts.data(), 8);
      EXPECT_TRUE(std::isnan(acts[4])) << static_cast<int>(act);
      EXPECT_EQ(acts[0], 0.0f) << static_cast<int>(act);
      EXPECT_NEAR(acts[7], activationReference(act, 100.0), 1e-5)
          << static_cast<int>(act);
    }
  }
  kernels::setIsaForTesting(kernels::GemmIsa::Auto);
}

TEST(GemmLinearMathTest, ActivationsMatchDoubleReference) {
  // 1e-6 relative, or 1e-7 absolute near zero. Measured over every float in
  // [-10, 10]: at most 0.41 of that bound (gelu 6 ulp, silu 2 ulp,
  // quick_gelu 2.3 ulp, tanh 1.3 ulp; gelu_tanh up to 2e-6 relative where
  // its value is below 3e-7, 5e-13 absolute).
  std::vector<float> x = mathSweep();
  for (kernels::GemmIsa isa : availableIsas()) {
    kernels::setIsaForTesting(isa);
    for (Activation act : kActivations) {
      std::vector<float> y = x;
      kernels::applyActivation(act, y.data(), static_cast<int64_t>(y.size()));
      for (size_t i = 0; i < y.size(); ++i) {
        double ref = activationReference(act, x[i]);
        ASSERT_LE(std::fabs(y[i] - ref), std::max(1e-6 * std::fabs(ref), 1e-7))
            << "activation " << static_cast<int>(act) << " at " << x[i] << " ("
            << kernels::activeIsaName() << ")";
      }
    }
  }
  kernels::setIsaForTesting(kernels::GemmIsa::Auto);
}

TEST(GemmLinearMathTest, SameBitsOnBothIsas) {
  if (!kernels::avx512Available())
    GTEST_SKIP() << "no AVX-512 on this CPU";
  std::vector<float> x = mathSweep();
  std::vector<float> y[2];
  kernels::GemmIsa isas[2] = {kernels::GemmIsa::Avx2, kernels::GemmIsa::Avx512};
  for (auto f : {kernels::VectorFunction::Exp, kernels::VectorFunction::Erf,
                 kernels::VectorFunction::Tanh}) {
    for (int v = 0; v < 2; ++v) {
      kernels::setIsaForTesting(isas[v]);
      y[v].assign(x.size(), 0.0f);
      kernels::vectorMathForTesting(f, x.data(), y[v].data(),
                                    static_cast<int64_t>(x.size()));
    }
    EXPECT_EQ(std::memcmp(y[0].data(), y[1].data(), x.size() * sizeof(float)),
              0)
        << static_cast<int>(f);
  }
  for (Activation act : kActivations) {
    for (int v = 0; v < 2; ++v) {
      kernels::setIsaForTesting(isas[v]);
      y[v] = x;
      kernels::applyActivation(act, y[v].data(),
                               static_cast<int64_t>(x.size()));
    }
    EXPECT_EQ(std::memcmp(y[0].data(), y[1].data(), x.size() * sizeof(float)),
              0)
        << static_cast<int>(act);
  }
  kernels::setIsaForTesting(kernels::GemmIsa::Auto);
}

namespace {

/// Every GemmLinearTest runs once per micro-kernel, like GemmTest.
class GemmLinearTest : public GemmTest {};

/// One linear layer through linearPanels: A [M, K] (or [K, M] if tA) and
/// out padded views (pad), out filled with NaN garbage (never read) inside
/// and a sentinel around it.
struct LinearCase {
  int64_t m, n, k, w;
  bool tA = false;
  int64_t pad = 0;
  int64_t csOut = 1;
};

struct LinearRun {
  std::vector<float> out; // the whole buffer
  int64_t ld = 0, offset = 5;
  float at(int64_t i, int64_t j, int64_t csOut) const {
    return out[static_cast<size_t>(offset + i * ld + j * csOut)];
  }
};

constexpr float kSentinel = 12345.0f;

LinearRun runLinear(const LinearCase &lc, const std::vector<float> &a,
                    int64_t ldA, const Panels &panels, const float *bias,
                    Activation act, int maxThreads = 0) {
  LinearRun r;
  r.ld = lc.n * lc.csOut + lc.pad;
  r.out.assign(static_cast<size_t>(r.offset + lc.m * r.ld + 8), kSentinel);
  for (int64_t i = 0; i < lc.m; ++i)
    for (int64_t j = 0; j < lc.n; ++j)
      r.out[static_cast<size_t>(r.offset + i * r.ld + j * lc.csOut)] = NAN;
  kernels::linearPanels(lc.m, lc.n, lc.k, a.data() + 3, lc.tA ? 1 : ldA,
                        lc.tA ? ldA : 1, panels.get(), lc.w, panels.stride,
                        bias, act, r.out.data() + r.offset, r.ld, lc.csOut,
                        maxThreads);
  return r;
}

/// The same layer as sgemmPanels on `out` = broadcast bias, then
/// applyActivation: what linearPanels must match bit for bit.
LinearRun runUnfused(const LinearCase &lc, const std::vector<float> &a,
                     int64_t ldA, const Panels &panels, const float *bias,
                     Activation act) {
  LinearRun r;
  r.ld = lc.n * lc.csOut + lc.pad;
  r.out.assign(static_cast<size_t>(r.offset + lc.m * r.ld + 8), kSentinel);
  float *out = r.out.data() + r.offset;
  for (int64_t i = 0; i < lc.m; ++i)
    for (int64_t j = 0; j < lc.n; ++j)
      out[i * r.ld + j * lc.csOut] = bias ? bias[j] : 0.0f;
  kernels::sgemmPanels(lc.m, lc.n, lc.k, a.data() + 3, lc.tA ? 1 : ldA,
                       lc.tA ? ldA : 1, panels.get(), lc.w, panels.stride, out,
                       r.ld, lc.csOut);
  for (int64_t i = 0; i < lc.m; ++i)
    for (int64_t j = 0; j < lc.n; ++j)
      kernels::applyActivation(act, out + i * r.ld + j * lc.csOut, 1);
  return r;
}

/// Random operands of a LinearCase: A (offset 3, rows ldA apart), B' [K, N]
/// in panels, a bias of N floats.
struct LinearOperands {
  std::vector<float> a, b, bias;
  int64_t ldA;
  Panels panels;
  LinearOperands(const LinearCase &lc, std::mt19937 &rng)
      : a(randomVector(
            3 + (lc.tA ? lc.k : lc.m) * ((lc.tA ? lc.m : lc.k) + lc.pad), rng)),
        b(randomVector(lc.k * lc.n, rng)), bias(randomVector(lc.n, rng)),
        ldA((lc.tA ? lc.m : lc.k) + lc.pad),
        panels(b, lc.n, 1, lc.k, lc.n, lc.w, /*lead=*/1, /*gap=*/2) {}
  double aAt(const LinearCase &lc, int64_t i, int64_t l) const {
    return a[static_cast<size_t>(3 + (lc.tA ? l * ldA + i : i * ldA + l))];
  }
};

/// Checks every element against the double reference and that nothing
/// around out was written.
void expectLinearClose(const LinearCase &lc, const LinearOperands &ops,
                       const LinearRun &r, bool withBias, Activation act) {
  for (int64_t i = 0; i < lc.m; ++i) {
    for (int64_t j = 0; j < lc.n; ++j) {
      double sum = withBias ? ops.bias[static_cast<size_t>(j)] : 0.0;
      double magnitude = std::fabs(sum); // of the terms summed
      for (int64_t l = 0; l < lc.k; ++l) {
        double term =
            ops.aAt(lc, i, l) * ops.b[static_cast<size_t>(l * lc.n + j)];
        sum += term;
        magnitude += std::fabs(term);
      }
      double want = activationReference(act, sum);
      // 1e-5 relative on the product (of the terms' magnitudes), through
      // the activation (slopes below 1.2), plus the activation's own error.
      double tol =
          1.2 * 1e-5 * magnitude + std::max(1e-6 * std::fabs(want), 1e-7);
      ASSERT_NEAR(r.at(i, j, lc.csOut), want, tol)
          << "element (" << i << ", " << j << ")";
    }
  }
  for (size_t t = 0; t < r.out.size(); ++t) {
    int64_t rel = static_cast<int64_t>(t) - r.offset;
    bool inside = rel >= 0 && rel < lc.m * r.ld &&
                  rel % r.ld < lc.n * lc.csOut && (rel % r.ld) % lc.csOut == 0;
    if (!inside)
      ASSERT_EQ(r.out[t], kSentinel) << "wrote outside out at " << t;
  }
}

std::string describe(const LinearCase &lc, bool withBias, Activation act) {
  return "M " + std::to_string(lc.m) + " N " + std::to_string(lc.n) + " K " +
         std::to_string(lc.k) + " W " + std::to_string(lc.w) + " tA " +
         std::to_string(lc.tA) + " pad " + std::to_string(lc.pad) + " csOut " +
         std::to_string(lc.csOut) + " bias " + std::to_string(withBias) +
         " activation " + std::to_string(static_cast<int>(act));
}

} // namespace

TEST_P(GemmLinearTest, MatchesReference) {
  std::mt19937 rng(21);
  int trial = 0;
  for (int64_t w : {16, 32, 7})
    for (int64_t m : {1, 2, 4, 5, 128})
      for (int64_t k : {1, 768})
        for (int64_t n : {45, 100}) {
          ++trial;
          LinearCase lc{m, n, k, w, (trial & 1) != 0, trial % 3};
          LinearOperands ops(lc, rng);
          for (bool withBias : {false, true})
            for (Activation act : kActivations) {
              SCOPED_TRACE(describe(lc, withBias, act));
              LinearRun r =
                  runLinear(lc, ops.a, ops.ldA, ops.panels,
                            withBias ? ops.bias.data() : nullptr, act);
              expectLinearClose(lc, ops, r, withBias, act);
              if (HasFatalFailure())
                return;
            }
        }
}

TEST_P(GemmLinearTest, BitIdenticalToMatmulPanelsOnBias) {
  // linearPanels == sgemmPanels on out = broadcast(bias), then the
  // activation: the streaming path (M <= 4), the packed one (both loop nests,
  // several k blocks), the widths read in place, re-packed or streamed by
  // other kernels, N <= 4, column-strided out.
  std::mt19937 rng(22);
  int64_t nr = activeNR();
  const LinearCase cases[] = {{1, 3072, 768, nr},
                              {2, 100, 70, 16},
                              {3, 530, 257, 32},
                              {4, 77, 600, 7},
                              {4, 100, 33, 8},
                              {1, 40, 20, 3},
                              {5, 40, 600, nr},
                              {128, 768, 300, nr},
                              {150, 1100, 300, 48 - nr},
                              {13, 17, 300, 7},
                              {300, 45, 520, 32},
                              {7, 3, 50, nr},
                              {9, 4, 40, 3},
                              {6, 90, 700, 16},
                              {1, 70, 40, 16, true, 2, 2},
                              {20, 70, 40, 32, true, 1, 2},
                              {3, 70, 40, 7, false, 0, 3}};
  for (const LinearCase &lc : cases) {
    LinearOperands ops(lc, rng);
    for (bool withBias : {false, true})
      for (Activation act : kActivations) {
        const float *bias = withBias ? ops.bias.data() : nullptr;
        LinearRun got = runLinear(lc, ops.a, ops.ldA, ops.panels, bias, act);
        LinearRun want = runUnfused(lc, ops.a, ops.ldA, ops.panels, bias, act);
        ASSERT_EQ(std::memcmp(got.out.data(), want.out.data(),
                              got.out.size() * sizeof(float)),
                  0)
            << describe(lc, withBias, act);
      }
  }
}

TEST_P(GemmLinearTest, ThreadCountDoesNotChangeResults) {
  std::mt19937 rng(23);
  // Split by columns, and by rows (301 x 40).
  const LinearCase cases[] = {
      {128, 768, 768, activeNR()}, {301, 200, 520, 7}, {301, 40, 520, 16},
      {1, 4096, 1024, activeNR()}, {3, 3000, 700, 16}, {30, 1000, 700, 32}};
  for (const LinearCase &lc : cases) {
    LinearOperands ops(lc, rng);
    for (Activation act : {Activation::None, Activation::Gelu}) {
      LinearRun serial =
          runLinear(lc, ops.a, ops.ldA, ops.panels, ops.bias.data(), act, 1);
      for (int threads : {2, 3}) {
        LinearRun parallel;
        withThreads(threads, [&] {
          parallel =
              runLinear(lc, ops.a, ops.ldA, ops.panels, ops.bias.data(), act);
        });
        ASSERT_EQ(std::memcmp(serial.out.data(), parallel.out.data(),
                              serial.out.size() * sizeof(float)),
                  0)
            << describe(lc, true, act) << ", " << threads << " threads";
      }
    }
  }
}

TEST_P(GemmLinearTest, EmptyAndZeroDepth) {
  // K = 0: out = act(bias). M or N = 0: nothing written.
  std::vector<float> bias = {-1.0f, 0.5f, 2.0f, -3.0f, 4.0f, 0.25f};
  std::vector<float> out(12, NAN);
  kernels::linearPanels(2, 6, 0, nullptr, 0, 1, nullptr, 16, 0, bias.data(),
                        Activation::Relu, out.data(), 6, 1);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 6; ++j)
      EXPECT_EQ(out[size_t(i * 6 + j)], std::max(bias[size_t(j)], 0.0f));
  kernels::linearPanels(2, 6, 0, nullptr, 0, 1, nullptr, 16, 0, nullptr,
                        Activation::Gelu, out.data(), 6, 1);
  EXPECT_EQ(out, std::vector<float>(12, 0.0f));
  std::vector<float> untouched(4, 7.0f);
  kernels::linearPanels(0, 2, 3, nullptr, 3, 1, nullptr, 16, 48, bias.data(),
                        Activation::Gelu, untouched.data(), 2, 1);
  EXPECT_EQ(untouched, std::vector<float>(4, 7.0f));
}

TEST_P(GemmLinearTest, MlirDescriptor) {
  // Through the C interface: transposed A, a strided bias, no bias (a dummy
  // descriptor of size 1), panels read in place and panels with other
  // strides ([P, W, K] storage), against linearPanels / the reference.
  std::mt19937 rng(24);
  for (int64_t w : {16, 32, 7})
    for (bool tA : {false, true})
      for (int64_t m : {1, 9})
        for (int64_t hasBias : {0, 1}) {
          int64_t n = 45, k = 20;
          Matrix a = tA ? Matrix(k, m, 2, 3, rng) : Matrix(m, k, 2, 3, rng);
          Matrix b(k, n, 0, 0, rng);
          Matrix out(m, n, 1, 2, rng);
          std::vector<float> biasBuf = randomVector(2 * n + 1, rng);
          std::vector<float> bias(static_cast<size_t>(n));
          for (int64_t j = 0; j < n; ++j)
            bias[size_t(j)] = biasBuf[size_t(1 + 2 * j)];
          Panels panels(b.data, n, 1, k, n, w, /*lead=*/4, /*gap=*/3);
          KilnMemRef<2> ma = a.memref(), mo = out.memref();
          KilnMemRef<3> mp{panels.data.data(),
                           panels.data.data(),
                           panels.lead,
                           {panels.count, k, w},
                           {panels.stride, w, 1}};
          float dummy = NAN;
          KilnMemRef<1> mb =
              hasBias
                  ? KilnMemRef<1>{biasBuf.data(), biasBuf.data(), 1, {n}, {2}}
                  : KilnMemRef<1>{&dummy, &dummy, 0, {1}, {1}};
          _mlir_ciface_kiln_linear_panels_f32(
              &ma, &mp, &mb, &mo, tA, hasBias,
              static_cast<int64_t>(Activation::Silu));
          Matrix want = out;
          kernels::linearPanels(
              m, n, k, a.data.data() + a.offset, tA ? 1 : a.ld, tA ? a.ld : 1,
              panels.get(), w, panels.stride, hasBias ? bias.data() : nullptr,
              Activation::Silu, want.data.data() + want.offset, want.ld, 1);
          EXPECT_EQ(out.data, want.data)
              << "W " << w << " tA " << tA << " M " << m << " bias " << hasBias;
          // Panels stored [P, W, K] (k contiguous): strides [K * W, 1, K].
          std::vector<float> kMajor(size_t(panels.count * k * w), 0.0f);
          for (int64_t j = 0; j < n; ++j)
            for (int64_t l = 0; l < k; ++l)
              kMajor[size_t(j / w * k * w + j % w * k + l)] = b.at(l, j);
          KilnMemRef<3> mk{kMajor.data(),
                           kMajor.data(),
                           0,
                           {panels.count, k, w},
                           {k * w, 1, k}};
          Matrix other = out;
          for (float &v : other.data)
            v = NAN;
          KilnMemRef<2> mo2 = other.memref();
          _mlir_ciface_kiln_linear_panels_f32(
              &ma, &mk, &mb, &mo2, tA, hasBias,
              static_cast<int64_t>(Activation::Silu));
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j)
              ASSERT_NEAR(other.at(i, j), want.at(i, j), 1e-5)
                  << i << ", " << j;
        }
}

INSTANTIATE_TEST_SUITE_P(
    GemmLinear, GemmLinearTest,
    ::testing::Values(kernels::GemmIsa::Avx2, kernels::GemmIsa::Avx512),
    [](const ::testing::TestParamInfo<kernels::GemmIsa> &info) {
      return std::string(info.param == kernels::GemmIsa::Avx2 ? "avx2"
                                                              : "avx512");
    });

TEST(GemmLinearIsaTest, Avx2AndAvx512GiveTheSameBits) {
  if (!kernels::avx512Available())
    GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(25);
  const LinearCase cases[] = {{128, 768, 300, 32},
                              {37, 45, 600, 16},
                              {300, 530, 70, 7},
                              {2, 100, 40, 32}};
  for (const LinearCase &lc : cases) {
    LinearOperands ops(lc, rng);
    for (Activation act : kActivations) {
      kernels::setIsaForTesting(kernels::GemmIsa::Avx2);
      LinearRun avx2 =
          runLinear(lc, ops.a, ops.ldA, ops.panels, ops.bias.data(), act);
      kernels::setIsaForTesting(kernels::GemmIsa::Avx512);
      LinearRun avx512 =
          runLinear(lc, ops.a, ops.ldA, ops.panels, ops.bias.data(), act);
      EXPECT_EQ(std::memcmp(avx2.out.data(), avx512.out.data(),
                            avx2.out.size() * sizeof(float)),
                0)
          << describe(lc, true, act);
    }
  }
  kernels::setIsaForTesting(kernels::GemmIsa::Auto);
}

TEST(GemmLinearDeathTest, MismatchedShapesAbort) {
  std::vector<float> buf(256, 0.0f);
  KilnMemRef<2> ma{buf.data(), buf.data(), 0, {2, 3}, {3, 1}};
  KilnMemRef<2> mo{buf.data(), buf.data(), 0, {2, 40}, {40, 1}};
  KilnMemRef<3> panels{buf.data(), buf.data(), 0, {3, 3, 16}, {48, 16, 1}};
  KilnMemRef<1> bias{buf.data(), buf.data(), 0, {40}, {1}};
  // N = 40 needs 3 panels of width 16, not 2.
  KilnMemRef<3> twoPanels{buf.data(), buf.data(), 0, {2, 3, 16}, {48, 16, 1}};
  EXPECT_DEATH(
      _mlir_ciface_kiln_linear_panels_f32(&ma, &twoPanels, &bias, &mo, 0, 1, 0),
      "kiln_linear_panels_f32: shapes do not agree");
  // K of the panels (4) is not K of A (3).
  KilnMemRef<3> wrongK{buf.data(), buf.data(), 0, {3, 4, 16}, {64, 16, 1}};
  EXPECT_DEATH(
      _mlir_ciface_kiln_linear_panels_f32(&ma, &wrongK, &bias, &mo, 0, 1, 0),
      "kiln_linear_panels_f32: shapes do not agree");
  // M of out (3) is not M of A (2).
  KilnMemRef<2> wrongM{buf.data(), buf.data(), 0, {3, 40}, {40, 1}};
  EXPECT_DEATH(_mlir_ciface_kiln_linear_panels_f32(&ma, &panels, &bias, &wrongM,
                                                   0, 1, 0),
               "kiln_linear_panels_f32: shapes do not agree");
  // A bias of 39 floats for N = 40 (ignored without a bias).
  KilnMemRef<1> shortBias{buf.data(), buf.data(), 0, {39}, {1}};
  EXPECT_DEATH(_mlir_ciface_kiln_linear_panels_f32(&ma, &panels, &shortBias,
                                                   &mo, 0, 1, 0),
               "kiln_linear_panels_f32: shapes do not agree: bias \\[39\\]");
  _mlir_ciface_kiln_linear_panels_f32(&ma, &panels, &shortBias, &mo, 0, 0, 0);
  // Unknown activation codes.
  EXPECT_DEATH(
      _mlir_ciface_kiln_linear_panels_f32(&ma, &panels, &bias, &mo, 0, 1, 7),
      "kiln_linear_panels_f32: unknown activation code 7");
  EXPECT_DEATH(
      _mlir_ciface_kiln_linear_panels_f32(&ma, &panels, &bias, &mo, 0, 1, -1),
      "kiln_linear_panels_f32: unknown activation code -1");
}
