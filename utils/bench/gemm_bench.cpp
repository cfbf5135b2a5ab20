//===- gemm_bench.cpp - Kiln's fp32 GEMM against OpenBLAS -----------------===//
//
// Times kiln::kernels::sgemm (runtime/kernels/Gemm.cpp) against cblas_sgemm
// on the matrix products of a GPT-2 small layer and of decoding, with the same
// thread count, interleaved, after a warm-up; prints the median of the runs.
// Kiln is timed with each micro-kernel the CPU can run (avx2, and avx512
// where available: see KILN_GEMM_ISA in Gemm.h), both as sgemm on the plain B
// and as sgemmPanels on B pre-packed in column panels of that micro-kernel's
// width (16 or 32, as the compiler packs weights), on a second line per row:
// xS = sgemm time / panels time, xN = openblas time / panels time.
// A last row times a linear layer with gelu, out = gelu(x W + b), on
// 128 x 768 x 3072 (BERT's intermediate layer), one thread: the fused
// linearPanels against sgemmPanels with separate passes over the output for
// the bias and the activation (scalar std::erf, as a compiled pointwise loop
// would call it, and applyActivation, vectorized).
// Not part of the CMake build (the runtime must not depend on OpenBLAS).
// Build and run from the repository root (Debian: apt-get install
// libopenblas-dev):
//
//   g++ -O3 -std=c++17 -mavx2 -mfma -pthread -I. -o /tmp/gemm_bench \
//       utils/bench/gemm_bench.cpp runtime/kernels/Gemm.cpp \
//       runtime/threads/ThreadPool.cpp -lopenblas
//   /tmp/gemm_bench [peak GFLOP/s per core, default 127] [runs, default 25]
//                   [threads: 0 = 1 and 2 (default), else that count]
//                   [which: 0 = all shapes (default), 1 = only M = 128,
//                    2 = only the linear layer]
//
// OPENBLAS_NUM_THREADS does not need to be set: the thread count of both
// libraries is set for each row. Each timing repeats small products to last
// >= 2 ms; rows with 2 threads sleep 120 ms before each timed batch so that
// the other library's spinning workers do not steal the cores.
//
//===----------------------------------------------------------------------===//

#include "runtime/threads/ThreadPool.h"
#include "runtime/kernels/Gemm.h"

#include <cblas.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

extern "C" void openblas_set_num_threads(int);

namespace {

double seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// B' (b(l, j) = b[l * rsB + j * csB], K x N) packed in column panels of
/// width w, zero-padded: panel q at out[q * k * w], 64-byte aligned in `buf`.
const float *packPanels(const std::vector<float> &b, int64_t rsB, int64_t csB,
                        int64_t k, int64_t n, int64_t w,
                        std::vector<float> &buf) {
  int64_t count = (n + w - 1) / w;
  buf.assign(size_t(count * k * w + 16), 0.0f);
  float *out = buf.data();
  while (reinterpret_cast<uintptr_t>(out) % 64 != 0)
    ++out;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t l = 0; l < k; ++l)
      out[j / w * k * w + l * w + j % w] = b[size_t(l * rsB + j * csB)];
  return out;
}

struct Case {
  int64_t m, k, n;
  bool transB; // B stored [N, K] (nn.Linear) rather than [K, N] (Conv1D)
  int threads;
};

void runCase(const Case &cs, double peakPerCore, int runs) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> a(size_t(cs.m * cs.k)), b(size_t(cs.k * cs.n)),
      c(size_t(cs.m * cs.n), 0.0f);
  for (float &v : a)
    v = dist(rng);
  for (float &v : b)
    v = dist(rng);
  kiln::ThreadPool::global().setNumThreads(cs.threads);
  openblas_set_num_threads(cs.threads);
  int64_t ldb = cs.transB ? cs.k : cs.n;
  int64_t rsB = cs.transB ? 1 : cs.n, csB = cs.transB ? cs.k : 1;
  std::vector<kiln::kernels::GemmIsa> isas{kiln::kernels::GemmIsa::Avx2};
  if (kiln::kernels::avx512Available())
    isas.push_back(kiln::kernels::GemmIsa::Avx512);
  auto kiln = [&] {
    kiln::kernels::sgemm(cs.m, cs.n, cs.k, a.data(), cs.k, 1, b.data(), rsB,
                         csB, c.data(), cs.n, 1);
  };
  // Panels of each micro-kernel's width, read in place by it.
  std::vector<std::vector<float>> panelBufs(isas.size());
  std::vector<const float *> panels(isas.size());
  std::vector<int64_t> widths(isas.size());
  for (size_t v = 0; v < isas.size(); ++v) {
    widths[v] = isas[v] == kiln::kernels::GemmIsa::Avx2 ? 16 : 32;
    panels[v] = packPanels(b, rsB, csB, cs.k, cs.n, widths[v], panelBufs[v]);
  }
  auto kilnPanels = [&](size_t v) {
    kiln::kernels::sgemmPanels(cs.m, cs.n, cs.k, a.data(), cs.k, 1, panels[v],
                               widths[v], cs.k * widths[v], c.data(), cs.n, 1);
  };
  auto blas = [&] {
    // beta = 1: accumulate, like Kiln.
    cblas_sgemm(CblasRowMajor, CblasNoTrans,
                cs.transB ? CblasTrans : CblasNoTrans, int(cs.m), int(cs.n),
                int(cs.k), 1.0f, a.data(), int(cs.k), b.data(), int(ldb), 1.0f,
                c.data(), int(cs.n));
  };
  // Repeat small problems so that one timing is at least ~2 ms.
  double flops = 2.0 * cs.m * cs.n * cs.k;
  int reps = std::max(1, int(2e-3 / (flops / 50e9)));
  for (int w = 0; w < 3; ++w) {
    for (size_t v = 0; v < isas.size(); ++v) {
      kiln::kernels::setIsaForTesting(isas[v]);
      kiln();
      kilnPanels(v);
    }
    blas();
  }
  // With several threads, the idle workers of one library's pool spin for a
  // while (OpenBLAS's for ~2^28 cycles) and steal the cores from the other's:
  // let them fall asleep before each timed batch.
  auto settle = [&] {
    if (cs.threads > 1)
      std::this_thread::sleep_for(std::chrono::milliseconds(120));
  };
  std::vector<std::vector<double>> tk(isas.size()), tp(isas.size());
  std::vector<double> tb;
  // Timed variants: sgemm and panels per ISA, then OpenBLAS. Their order
  // rotates from run to run: the B copies of a large row fill the shared L3,
  // and a fixed order favours whichever variant follows one that read the
  // same copy (sgemm after OpenBLAS).
  size_t variants = 2 * isas.size() + 1;
  for (int r = 0; r < runs; ++r) {
    for (size_t t = 0; t < variants; ++t) {
      size_t x = (t + size_t(r)) % variants, v = x / 2;
      if (v < isas.size())
        kiln::kernels::setIsaForTesting(isas[v]);
      settle();
      double t0 = seconds();
      for (int i = 0; i < reps; ++i)
        if (v == isas.size())
          blas();
        else if (x % 2 == 0)
          kiln();
        else
          kilnPanels(v);
      double time = (seconds() - t0) / reps;
      (v == isas.size() ? tb : x % 2 == 0 ? tk[v] : tp[v]).push_back(time);
    }
  }
  double o = median(tb);
  double go = flops / o * 1e-9;
  double bytes = 4.0 * double(cs.k * cs.n + cs.m * cs.k + 2 * cs.m * cs.n);
  std::printf("%4lld x %4lld x %5lld  B %-6s %d thr |", (long long)cs.m,
              (long long)cs.k, (long long)cs.n, cs.transB ? "[N,K]" : "[K,N]",
              cs.threads);
  for (size_t v = 0; v < isas.size(); ++v) {
    double k = median(tk[v]);
    double gk = flops / k * 1e-9;
    std::printf(" %-6s %7.1f GFLOP/s (%5.1f%% peak) %6.1f GB/s x%.2f |",
                isas[v] == kiln::kernels::GemmIsa::Avx2 ? "avx2" : "avx512", gk,
                100.0 * gk / (peakPerCore * cs.threads), bytes / k * 1e-9,
                o / k);
  }
  std::printf(" openblas %7.1f GFLOP/s %6.1f GB/s (xN = kiln/openblas)\n", go,
              bytes / o * 1e-9);
  std::printf("%30s panels |", "");
  for (size_t v = 0; v < isas.size(); ++v) {
    double k = median(tp[v]);
    double gk = flops / k * 1e-9;
    std::printf(" %-6s %7.1f GFLOP/s (%5.1f%% peak) %6.1f GB/s xS%.2f xN%.2f |",
                isas[v] == kiln::kernels::GemmIsa::Avx2 ? "W=16" : "W=32", gk,
                100.0 * gk / (peakPerCore * cs.threads), bytes / k * 1e-9,
                median(tk[v]) / k, o / k);
  }
  std::printf("\n");
  kiln::kernels::setIsaForTesting(kiln::kernels::GemmIsa::Auto);
  std::fflush(stdout);
}

/// The linear-layer row: gelu(A B + bias), A [M, K], B' in panels of each
/// micro-kernel's width, one thread.
void runLinearCase(int64_t m, int64_t k, int64_t n, double peakPerCore,
                   int runs) {
  using kiln::kernels::Activation;
  std::mt19937 rng(43);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> a(static_cast<size_t>(m * k)),
      b(static_cast<size_t>(k * n)), bias(static_cast<size_t>(n)),
      c(static_cast<size_t>(m * n));
  for (auto *buf : {&a, &b, &bias})
    for (float &v : *buf)
      v = dist(rng);
  for (float &v : b)
    v *= 0.05f; // outputs of order 1: both gelu branches
  kiln::ThreadPool::global().setNumThreads(1);
  std::vector<kiln::kernels::GemmIsa> isas{kiln::kernels::GemmIsa::Avx2};
  if (kiln::kernels::avx512Available())
    isas.push_back(kiln::kernels::GemmIsa::Avx512);
  double flops = 2.0 * m * n * k;
  std::printf("linear %lld x %lld x %lld + bias, gelu, 1 thr, median of %d "
              "runs:\n",
              (long long)m, (long long)k, (long long)n, runs);
  for (kiln::kernels::GemmIsa isa : isas) {
    kiln::kernels::setIsaForTesting(isa);
    int64_t w = isa == kiln::kernels::GemmIsa::Avx2 ? 16 : 32;
    std::vector<float> buf;
    const float *panels = packPanels(b, n, 1, k, n, w, buf);
    auto fused = [&] {
      kiln::kernels::linearPanels(m, n, k, a.data(), k, 1, panels, w, k * w,
                                  bias.data(), Activation::Gelu, c.data(), n,
                                  1);
    };
    auto productWithBias = [&] {
      for (int64_t i = 0; i < m; ++i)
        std::copy(bias.begin(), bias.end(), c.begin() + i * n);
      kiln::kernels::sgemmPanels(m, n, k, a.data(), k, 1, panels, w, k * w,
                                 c.data(), n, 1);
    };
    auto scalarGelu = [&] {
      productWithBias();
      for (float &v : c)
        v = 0.5f * v * (1.0f + std::erf(v * 0.707106781f));
    };
    auto vectorGelu = [&] {
      productWithBias();
      kiln::kernels::applyActivation(Activation::Gelu, c.data(), m * n);
    };
    auto plain = [&] {
      kiln::kernels::sgemmPanels(m, n, k, a.data(), k, 1, panels, w, k * w,
                                 c.data(), n, 1);
    };
    std::vector<double> t[4];
    for (int r = -2; r < runs; ++r) // two warm-up runs
      for (int v = 0; v < 4; ++v) {
        double t0 = seconds();
        if (v == 0)
          fused();
        else if (v == 1)
          scalarGelu();
        else if (v == 2)
          vectorGelu();
        else
          plain();
        if (r >= 0)
          t[v].push_back(seconds() - t0);
      }
    double tf = median(t[0]);
    std::printf("  %-6s W=%-2lld fused %6.2f ms (%5.1f GFLOP/s, %4.1f%% peak) "
                "| bias + sgemmPanels + scalar erf pass %6.2f ms x%.2f | "
                "... + applyActivation pass %6.2f ms x%.2f | sgemmPanels "
                "alone %6.2f ms\n",
                isa == kiln::kernels::GemmIsa::Avx2 ? "avx2" : "avx512",
                (long long)w, tf * 1e3, flops / tf * 1e-9,
                100.0 * flops / tf * 1e-9 / peakPerCore, median(t[1]) * 1e3,
                median(t[1]) / tf, median(t[2]) * 1e3, median(t[2]) / tf,
                median(t[3]) * 1e3);
  }
  kiln::kernels::setIsaForTesting(kiln::kernels::GemmIsa::Auto);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv) {
  double peak = argc > 1 ? std::atof(argv[1]) : 127.0;
  int runs = argc > 2 ? std::atoi(argv[2]) : 25;
  std::printf("M x K x N, median of %d runs; peak %.1f GFLOP/s per core\n",
              runs, peak);
  int onlyThreads = argc > 3 ? std::atoi(argv[3]) : 0;
  int which = argc > 4 ? std::atoi(argv[4]) : 0;
  bool onlyM128 = which == 1;
  if (which == 2) {
    runLinearCase(128, 768, 3072, peak, runs);
    return 0;
  }
  for (int threads : {1, 2}) {
    if (onlyThreads > 0 && threads != 1)
      threads = onlyThreads;
    for (bool transB : {false, true}) {
      for (auto [m, k, n] : {std::array<int64_t, 3>{128, 768, 768},
                             {128, 768, 3072},
                             {128, 3072, 768}})
        runCase(Case{m, k, n, transB, threads}, peak, runs);
      if (!onlyM128)
        for (int64_t n : {768, 3072, 50257})
          runCase(Case{1, 768, n, transB, threads}, peak, runs);
    }
    if (onlyThreads > 0)
      break;
  }
  runLinearCase(128, 768, 3072, peak, runs);
  return 0;
}
