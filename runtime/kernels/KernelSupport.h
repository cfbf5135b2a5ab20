//===- KernelSupport.h - What the runtime's kernels share -------*- C++ -*-===//
//
// Pieces every kernel family (Gemm, Attention, Norm) needs the same way: the
// choice between the AVX2 and AVX-512 paths, the size of a thread team,
// per-thread scratch buffers and an 8 x 8 in-register transpose (the vector
// math is in VectorMath.h). Internal to runtime/kernels/.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_KERNELS_KERNELSUPPORT_H
#define KILN_RUNTIME_KERNELS_KERNELSUPPORT_H

#include "runtime/kernels/Gemm.h"
#include "runtime/kernels/Scratch.h"
#include "runtime/threads/ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace kiln {
namespace kernels {
namespace detail {

/// Fatal error of a kernel: operands it cannot use (a bug of the caller), or
/// no memory for scratch it was not given up front. Generated code has no
/// way to report it, so the process ends: "error: <function>: <message>" on
/// stderr and exit status 1, like every runtime error, rather than an abort
/// and a core dump.
[[noreturn]] inline void failKernel(const char *function, const char *message) {
  std::fprintf(stderr, "error: %s: %s\n", function, message);
  // What the program printed so far still reaches its reader.
  std::fflush(nullptr);
  std::_Exit(1);
}

/// The instruction set a kernel family runs: AVX-512 where the CPU has it,
/// unless KILN_GEMM_ISA=avx2 (read at the first call) or a test sets it.
/// Each family keeps its own, so a test can force one without the others.
class IsaChoice {
public:
  bool useAvx512() {
    int isa = choice.load(std::memory_order_relaxed);
    if (isa < 0) {
      isa = defaultChoice();
      choice.store(isa, std::memory_order_relaxed);
    }
    return isa == 1;
  }
  /// Auto goes back to the default; Avx512 on a CPU without it is Avx2.
  void set(GemmIsa isa) {
    int value = isa == GemmIsa::Avx2     ? 0
                : isa == GemmIsa::Avx512 ? (avx512Available() ? 1 : 0)
                                         : defaultChoice();
    choice.store(value, std::memory_order_relaxed);
  }

private:
  static int defaultChoice() {
    const char *env = std::getenv("KILN_GEMM_ISA");
    if (env && std::strcmp(env, "avx2") == 0)
      return 0;
    if (env && std::strcmp(env, "avx512") != 0 && env[0] != '\0')
      std::fprintf(stderr, "kiln: KILN_GEMM_ISA=%s is not avx2 or avx512\n",
                   env);
    return avx512Available() ? 1 : 0;
  }
  /// 0 AVX2 (or scalar), 1 AVX-512, -1 not chosen yet.
  std::atomic<int> choice{-1};
};

/// Allocations ScratchBuffer made, for tests of the reservation.
inline std::atomic<int64_t> scratchAllocations{0};
/// Threads for `work` units of work in `items` independent pieces: at least
/// `minWorkPerThread` units each (waking a worker for less does not pay), at
/// most one per item and at most `maxThreads` (<= 0: the global pool's
/// size); 1 inside a parallel region, where kernels run serially.
inline int teamSize(int64_t work, int64_t minWorkPerThread, int64_t items,
                    int maxThreads) {
  if (ThreadPool::inParallel())
    return 1;
  int64_t threads =
      maxThreads > 0 ? maxThreads : ThreadPool::global().numThreads();
  threads = std::min(threads, std::max<int64_t>(1, work / minWorkPerThread));
  threads = std::min(threads, items);
  return static_cast<int>(std::max<int64_t>(1, threads));
}

/// A 64-byte aligned float buffer that only grows; meant as a thread_local.
/// reserveScratch (Scratch.h) sizes it up front so that kernel calls do
/// not allocate.
class ScratchBuffer {
public:
  /// `owner` names the kernel in the out-of-memory message.
  explicit ScratchBuffer(const char *owner) : owner(owner) {}
  ~ScratchBuffer() { std::free(data); }
  ScratchBuffer(const ScratchBuffer &) = delete;
  ScratchBuffer &operator=(const ScratchBuffer &) = delete;

  /// Grows the buffer to `count` floats if it is smaller. False when memory
  /// ran out (the buffer is then empty).
  bool reserve(int64_t count) {
    if (count <= capacity)
      return true;
    std::free(data);
    data = nullptr;
    capacity = 0;
    constexpr uint64_t kMaxCount = (uint64_t(1) << 60) / sizeof(float);
    if (static_cast<uint64_t>(count) > kMaxCount)
      return false;
    size_t bytes = (static_cast<size_t>(count) * sizeof(float) + 63) / 64 * 64;
    data = static_cast<float *>(std::aligned_alloc(64, bytes));
    if (!data)
      return false;
    capacity = count;
    scratchAllocations.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  /// At least `count` floats; ends the process (failKernel) when they
  /// cannot be had.
  float *get(int64_t count) {
    if (!reserve(count)) {
      char message[96];
      std::snprintf(message, sizeof message,
                    "out of memory for %llu bytes of scratch",
                    static_cast<unsigned long long>(count) * sizeof(float));
      failKernel(owner, message);
    }
    return data;
  }

private:
  const char *owner;
  float *data = nullptr;
  int64_t capacity = 0;
};

/// Each kernel family's part of reserveScratch, for the calling thread.
bool reserveGemmScratch(const ScratchSizes &sizes);
bool reserveNormScratch(const ScratchSizes &sizes);
bool reserveAttentionScratch(const ScratchSizes &sizes);

#if defined(__AVX2__)
/// Transposes 8 rows of 8 floats in place: r[i][j] becomes r[j][i].
inline void transpose8x8(__m256 r[8]) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]);
  __m256 t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]);
  __m256 t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]);
  __m256 t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]);
  __m256 t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}
#endif

} // namespace detail
} // namespace kernels
} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_KERNELSUPPORT_H
