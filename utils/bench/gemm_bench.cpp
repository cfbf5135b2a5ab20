//===- gemm_bench.cpp - Kiln's fp32 GEMM against OpenBLAS -----------------===//
//
// Times kiln::kernels::sgemm (runtime/kernels/Gemm.cpp) against cblas_sgemm
// on the matrix products of a GPT-2 small layer and of decoding, with the same
// thread count, interleaved, after a warm-up; prints the median of the runs.
// Kiln is timed with each micro-kernel the CPU can run (avx2, and avx512
// where available: see KILN_GEMM_ISA in Gemm.h).
// Not part of the CMake build (the runtime must not depend on OpenBLAS).
// Build and run from the repository root (Debian: apt-get install
// libopenblas-dev):
//
//   g++ -O3 -std=c++17 -mavx2 -mfma -pthread -I. -o /tmp/gemm_bench \
//       utils/bench/gemm_bench.cpp runtime/kernels/Gemm.cpp \
//       runtime/ThreadPool.cpp -lopenblas
//   /tmp/gemm_bench [peak GFLOP/s per core, default 127] [runs, default 25]
//                   [threads: 0 = 1 and 2 (default), else that count]
//                   [which: 0 = all shapes (default), 1 = only M = 128]
//
// OPENBLAS_NUM_THREADS does not need to be set: the thread count of both
// libraries is set for each row. Each timing repeats small products to last
// >= 2 ms; rows with 2 threads sleep 120 ms before each timed batch so that
// the other library's spinning workers do not steal the cores.
//
//===----------------------------------------------------------------------===//

#include "runtime/ThreadPool.h"
#include "runtime/kernels/Gemm.h"

#include <cblas.h>

#include <algorithm>
#include <array>
#include <chrono>
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
    for (kiln::kernels::GemmIsa isa : isas) {
      kiln::kernels::setIsaForTesting(isa);
      kiln();
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
  std::vector<std::vector<double>> tk(isas.size());
  std::vector<double> tb;
  for (int r = 0; r < runs; ++r) {
    double t0;
    for (size_t v = 0; v < isas.size(); ++v) {
      kiln::kernels::setIsaForTesting(isas[v]);
      settle();
      t0 = seconds();
      for (int i = 0; i < reps; ++i)
        kiln();
      tk[v].push_back((seconds() - t0) / reps);
    }
    settle();
    t0 = seconds();
    for (int i = 0; i < reps; ++i)
      blas();
    tb.push_back((seconds() - t0) / reps);
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
  bool onlyM128 = argc > 4 && std::atoi(argv[4]) == 1;
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
  return 0;
}
