//===- Gemm.cpp - fp32 matrix-product micro-kernels -----------------------===//
//
// See Gemm.h. Layout of this file:
//   - packing of A (MR x kc row panels) and B (kc x NR column panels),
//   - the 6 x 16 AVX2/FMA micro-kernel (templated on the rows of edge tiles),
//   - the 12 x 32 AVX-512 micro-kernel (target attributes; chosen at run time
//     when the CPU has AVX-512, or by KILN_GEMM_ISA, see Gemm.h),
//   - the cache-blocked drivers, templated on the micro-kernel, and their
//     split over the thread pool,
//   - the streaming kernels of products with at most four rows,
//   - the entry points, sgemmPanels (B pre-packed in column panels) among
//     them, and the MLIR C-interface ones.
//
// Summation order. Every element of C gets, for each block of kKC values of k
// in increasing order, C += (fma chain over that block starting from zero)
// (packed path) or a fixed per-element order of the streaming kernels. The
// split over threads only decides who computes an element, never how, so
// results are bit-identical for every team size.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/Gemm.h"
#include "runtime/ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define KILN_GEMM_AVX2 1
#else
#define KILN_GEMM_AVX2 0
#endif

using kiln::ThreadPool;

namespace {

/// Fatal error: a caller passed operands that cannot be multiplied.
[[noreturn]] void fail(const char *function, const char *message) {
  std::fprintf(stderr, "kiln: %s: %s\n", function, message);
  std::fflush(stderr);
  std::abort();
}

/// One product on strided views: A'(m, k) = a[m * rsA + k * csA] and so on.
struct Problem {
  int64_t m, n, k;
  const float *a;
  int64_t rsA, csA;
  const float *b;
  int64_t rsB, csB;
  float *c;
  int64_t rsC, csC;
  // B' pre-packed in column panels (sgemmPanels), else null: B'(k, j) is
  // column panelCol0 + j of the panels, i.e. at panels[(col / W) *
  // panelStride + k * W + col % W] with W = panelWidth; b is unused.
  const float *panels = nullptr;
  int64_t panelWidth = 0, panelStride = 0, panelCol0 = 0;
};

/// The smallest amount of work (multiply-adds) worth a thread of its own.
constexpr int64_t kMinWorkPerThread = int64_t(1) << 19;

/// Team size for `work` multiply-adds, given the caller's cap.
int teamSizeFor(int64_t work, int maxThreads) {
  if (ThreadPool::inParallel())
    return 1;
  int64_t threads =
      maxThreads > 0 ? maxThreads : ThreadPool::global().numThreads();
  threads = std::min<int64_t>(threads,
                              std::max<int64_t>(1, work / kMinWorkPerThread));
  return static_cast<int>(std::max<int64_t>(1, threads));
}

/// [begin, end) of part `index` of `count` when splitting `total` units.
void splitRange(int64_t total, int index, int count, int64_t &begin,
                int64_t &end) {
  begin = total * index / count;
  end = total * (index + 1) / count;
}

#if !KILN_GEMM_AVX2

void gemmReference(const Problem &p) {
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = 0; j < p.n; ++j) {
      float sum = 0.0f;
      for (int64_t l = 0; l < p.k; ++l)
        sum += p.a[i * p.rsA + l * p.csA] * p.b[l * p.rsB + j * p.csB];
      p.c[i * p.rsC + j * p.csC] += sum;
    }
}

void gemm(const Problem &p, int maxThreads) {
  int threads = teamSizeFor(p.m * p.n * p.k, maxThreads);
  if (threads <= 1)
    return gemmReference(p);
  ThreadPool::global().run(threads, [&](int index, int size) {
    int64_t begin, end;
    splitRange(p.m, index, size, begin, end);
    Problem part = p;
    part.m = end - begin;
    part.a += begin * p.rsA;
    part.c += begin * p.rsC;
    gemmReference(part);
  });
}

#else // KILN_GEMM_AVX2

constexpr int64_t kMR = 6;   // rows of a micro-tile
constexpr int64_t kNR = 16;  // columns of a micro-tile (two ymm)
constexpr int64_t kKC = 256; // depth of a packed block
constexpr int64_t kMC = 144; // rows of a packed A block (L2)
constexpr int64_t kNC = 512; // columns of a packed B block (L2)
#ifndef KILN_GEMM_MR512
#define KILN_GEMM_MR512 12
#endif

/// A 64-byte aligned scratch buffer that only grows; one per thread.
class ScratchBuffer {
public:
  ~ScratchBuffer() { std::free(data); }
  float *get(int64_t count) {
    if (count > capacity) {
      std::free(data);
      size_t bytes =
          (static_cast<size_t>(count) * sizeof(float) + 63) / 64 * 64;
      data = static_cast<float *>(std::aligned_alloc(64, bytes));
      if (!data)
        fail("kiln_matmul_f32", "out of memory for packing buffers");
      capacity = count;
    }
    return data;
  }

private:
  float *data = nullptr;
  int64_t capacity = 0;
};

/// The packed path's micro-kernel: 0 AVX2, 1 AVX-512, -1 not chosen yet.
std::atomic<int> isaChoice{-1};

bool cpuHasAvx512() {
  static const bool has =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  return has;
}

/// The default: KILN_GEMM_ISA if set (avx512 only where the CPU has it), else
/// AVX-512 where the CPU has it.
int defaultIsa() {
  const char *env = std::getenv("KILN_GEMM_ISA");
  if (env && std::strcmp(env, "avx2") == 0)
    return 0;
  if (env && std::strcmp(env, "avx512") != 0 && env[0] != '\0')
    std::fprintf(stderr, "kiln: KILN_GEMM_ISA=%s is not avx2 or avx512\n", env);
  return cpuHasAvx512() ? 1 : 0;
}

bool useAvx512() {
  int isa = isaChoice.load(std::memory_order_relaxed);
  if (isa < 0) {
    isa = defaultIsa();
    isaChoice.store(isa, std::memory_order_relaxed);
  }
  return isa == 1;
}

thread_local ScratchBuffer packedA;
thread_local ScratchBuffer packedB;
thread_local ScratchBuffer scratch;

//===----------------------------------------------------------------------===//
// Packing
//===----------------------------------------------------------------------===//

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

/// Packs rows [0, mr) (mr <= MR) of A' for k in [0, kc) as out[k * MR + i].
/// `a` points at A'(0, 0) of the panel. Rows >= mr are left unset: the
/// micro-kernel of an edge tile never reads them.
template <int64_t MR>
void packAPanel(const float *a, int64_t rsA, int64_t csA, int64_t mr,
                int64_t kc, float *out) {
  if (MR != 6 && mr == MR && csA == 1) {
    // A [M, K], MR != 6: transpose groups of 8 rows x 8 k.
    int64_t k = 0;
    for (; k + 8 <= kc; k += 8) {
      for (int64_t g = 0; g < MR; g += 8) {
        int64_t rows = std::min<int64_t>(8, MR - g);
        __m256 r[8];
        for (int64_t i = 0; i < 8; ++i)
          r[i] = i < rows ? _mm256_loadu_ps(a + (g + i) * rsA + k)
                          : _mm256_setzero_ps();
        transpose8x8(r);
        for (int64_t j = 0; j < 8; ++j) {
          float *dst = out + (k + j) * MR + g;
          if (rows == 8) {
            _mm256_storeu_ps(dst, r[j]);
          } else {
            alignas(32) float tmp[8];
            _mm256_store_ps(tmp, r[j]);
            std::memcpy(dst, tmp, static_cast<size_t>(rows) * sizeof(float));
          }
        }
      }
    }
    for (; k < kc; ++k)
      for (int64_t i = 0; i < MR; ++i)
        out[k * MR + i] = a[i * rsA + k];
    return;
  }
  if (MR == 6 && mr == MR && csA == 1) {
    // A [M, K]: rows contiguous along k; transpose 6 x 8 blocks.
    int64_t k = 0;
    for (; k + 8 <= kc; k += 8) {
      __m256 r[8];
      for (int i = 0; i < 6; ++i)
        r[i] = _mm256_loadu_ps(a + i * rsA + k);
      r[6] = r[7] = _mm256_setzero_ps();
      transpose8x8(r);
      // r[j] holds A'(0..5, k + j) in lanes 0..5: write 6 floats each. The
      // 8-float stores overlap the next k's slot and are overwritten by it;
      // the last one is written with a 4 + 2 split to stay inside the panel.
      float *dst = out + k * MR;
      for (int j = 0; j < 7; ++j)
        _mm256_storeu_ps(dst + j * MR, r[j]);
      __m128 lo = _mm256_castps256_ps128(r[7]);
      _mm_storeu_ps(dst + 7 * MR, lo);
      _mm_storel_pi(reinterpret_cast<__m64 *>(dst + 7 * MR + 4),
                    _mm256_extractf128_ps(r[7], 1));
    }
    for (; k < kc; ++k)
      for (int i = 0; i < 6; ++i)
        out[k * MR + i] = a[i * rsA + k];
    return;
  }
  if (rsA == 1) {
    // A stored [K, M]: the panel's rows are contiguous for each k.
    for (int64_t k = 0; k < kc; ++k)
      for (int64_t i = 0; i < mr; ++i)
        out[k * MR + i] = a[k * csA + i];
    return;
  }
  for (int64_t k = 0; k < kc; ++k)
    for (int64_t i = 0; i < mr; ++i)
      out[k * MR + i] = a[i * rsA + k * csA];
}

/// Packs columns [0, nr) (nr <= NR) of B' for k in [0, kc) as out[k * NR + j],
/// zero-filling columns >= nr. `b` points at B'(0, 0) of the panel. NR is a
/// multiple of 8 (16 for AVX2, 32 for AVX-512).
template <int64_t NR>
void packBPanel(const float *b, int64_t rsB, int64_t csB, int64_t nr,
                int64_t kc, float *out) {
  if (nr == NR && csB == 1) {
    // B [K, N]: copy NR contiguous floats per k.
    for (int64_t k = 0; k < kc; ++k) {
      const float *src = b + k * rsB;
      for (int64_t v = 0; v < NR; v += 8)
        _mm256_store_ps(out + k * NR + v, _mm256_loadu_ps(src + v));
    }
    return;
  }
  if (nr == NR && rsB == 1) {
    // B stored [N, K]: NR rows contiguous along k; transpose 8 x 8 blocks.
    int64_t k = 0;
    for (; k + 8 <= kc; k += 8) {
      for (int64_t half = 0; half < NR / 8; ++half) {
        __m256 r[8];
        for (int j = 0; j < 8; ++j)
          r[j] = _mm256_loadu_ps(b + (half * 8 + j) * csB + k);
        transpose8x8(r);
        for (int j = 0; j < 8; ++j)
          _mm256_store_ps(out + (k + j) * NR + half * 8, r[j]);
      }
    }
    for (; k < kc; ++k)
      for (int64_t j = 0; j < NR; ++j)
        out[k * NR + j] = b[k + j * csB];
    return;
  }
  for (int64_t k = 0; k < kc; ++k) {
    for (int64_t j = 0; j < nr; ++j)
      out[k * NR + j] = b[k * rsB + j * csB];
    for (int64_t j = nr; j < NR; ++j)
      out[k * NR + j] = 0.0f;
  }
}

//===----------------------------------------------------------------------===//
// Micro-kernel
//===----------------------------------------------------------------------===//

/// C[0..MRows, 0..nValid) += Apanel * Bpanel over kc. Every element is one fma
/// chain from zero over k, then added to C, whatever MRows and nValid are.
/// The accumulators are named variables (not an array) so that the compiler
/// keeps all 12 in registers. Rows of the B panel are LDB floats apart: kNR
/// when packed here, 32 when reading half of a pre-packed 32-wide panel. B
/// loads are unaligned: pre-packed panels need not be 64-byte aligned (the
/// loads cost the same on aligned data).
template <int MRows, int64_t LDB>
void microKernel(int64_t kc, const float *__restrict a,
                 const float *__restrict b, float *c, int64_t rsC, int64_t csC,
                 int64_t nValid) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00,
         c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00,
         c51 = c00;
  if (csC == 1)
    for (int i = 0; i < MRows; ++i)
      _mm_prefetch(reinterpret_cast<const char *>(c + i * rsC), _MM_HINT_T0);
#define KILN_GEMM_ROW(i)                                                       \
  if constexpr (MRows > i) {                                                   \
    __m256 ai = _mm256_broadcast_ss(a + i);                                    \
    c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);                                \
    c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);                                \
  }
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    __m256 b0 = _mm256_loadu_ps(b);
    __m256 b1 = _mm256_loadu_ps(b + 8);
    KILN_GEMM_ROW(0)
    KILN_GEMM_ROW(1)
    KILN_GEMM_ROW(2)
    KILN_GEMM_ROW(3)
    KILN_GEMM_ROW(4)
    KILN_GEMM_ROW(5)
    a += kMR;
    b += LDB;
  }
#undef KILN_GEMM_ROW
  const __m256 acc[6][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                            {c30, c31}, {c40, c41}, {c50, c51}};
  if (csC == 1 && nValid == kNR) {
    for (int i = 0; i < MRows; ++i) {
      float *ci = c + i * rsC;
      _mm256_storeu_ps(ci, _mm256_add_ps(_mm256_loadu_ps(ci), acc[i][0]));
      _mm256_storeu_ps(ci + 8,
                       _mm256_add_ps(_mm256_loadu_ps(ci + 8), acc[i][1]));
    }
    return;
  }
  alignas(32) float tile[MRows][kNR];
  for (int i = 0; i < MRows; ++i) {
    _mm256_store_ps(tile[i], acc[i][0]);
    _mm256_store_ps(tile[i] + 8, acc[i][1]);
  }
  for (int i = 0; i < MRows; ++i)
    for (int64_t j = 0; j < nValid; ++j)
      c[i * rsC + j * csC] += tile[i][j];
}

template <int64_t LDB>
void runMicroKernel(int64_t mr, int64_t kc, const float *a, const float *b,
                    float *c, int64_t rsC, int64_t csC, int64_t nr) {
  switch (mr) {
  case 6:
    return microKernel<6, LDB>(kc, a, b, c, rsC, csC, nr);
  case 5:
    return microKernel<5, LDB>(kc, a, b, c, rsC, csC, nr);
  case 4:
    return microKernel<4, LDB>(kc, a, b, c, rsC, csC, nr);
  case 3:
    return microKernel<3, LDB>(kc, a, b, c, rsC, csC, nr);
  case 2:
    return microKernel<2, LDB>(kc, a, b, c, rsC, csC, nr);
  default:
    return microKernel<1, LDB>(kc, a, b, c, rsC, csC, nr);
  }
}

/// The AVX2 register block: 6 x 16 (12 ymm accumulators).
struct Avx2Kernel {
  static constexpr int64_t MR = kMR;
  static constexpr int64_t NR = kNR;
  static constexpr int64_t MC = kMC;
  /// Pre-packed panel widths read in place (B rows `width` apart): 16, and
  /// 32 (panels packed for AVX-512) as two 16-column halves.
  static bool readsInPlace(int64_t width) { return width == 16 || width == 32; }
  /// The micro-kernel on B rows `ldb` floats apart (NR or a width above).
  static void run(int64_t mr, int64_t kc, const float *a, const float *b,
                  int64_t ldb, float *c, int64_t rsC, int64_t csC, int64_t nr) {
    if (ldb == 32)
      return runMicroKernel<32>(mr, kc, a, b, c, rsC, csC, nr);
    runMicroKernel<kNR>(mr, kc, a, b, c, rsC, csC, nr);
  }
};

//===----------------------------------------------------------------------===//
// AVX-512 micro-kernel (run-time selected)
//===----------------------------------------------------------------------===//

#define KILN_GEMM_AVX512_TARGET                                                \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))

// 12 x 32 (24 zmm accumulators) measured faster than 8 x 32 and 14 x 32 on
// Zen 5 for M = 128 (gemm_bench).
constexpr int64_t kMR512 = KILN_GEMM_MR512; // rows of a micro-tile
constexpr int64_t kNR512 = 32;              // columns of a micro-tile (two zmm)

/// As microKernel, on a kMR512 x 32 block (2 * kMR512 zmm accumulators). The
/// per-element arithmetic is the same: one fma chain from zero over k, then
/// one add into C.
template <int MRows>
KILN_GEMM_AVX512_TARGET void
microKernel512(int64_t kc, const float *__restrict a, const float *__restrict b,
               float *c, int64_t rsC, int64_t csC, int64_t nValid) {
  __m512 acc0[MRows], acc1[MRows];
#pragma GCC unroll 16
  for (int i = 0; i < MRows; ++i) {
    acc0[i] = _mm512_setzero_ps();
    acc1[i] = _mm512_setzero_ps();
  }
  if (csC == 1)
    for (int i = 0; i < MRows; ++i)
      _mm_prefetch(reinterpret_cast<const char *>(c + i * rsC), _MM_HINT_T0);
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b0 = _mm512_loadu_ps(b); // unaligned: see microKernel
    __m512 b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 16
    for (int i = 0; i < MRows; ++i) {
      __m512 ai = _mm512_set1_ps(a[i]);
      acc0[i] = _mm512_fmadd_ps(ai, b0, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(ai, b1, acc1[i]);
    }
    a += kMR512;
    b += kNR512;
  }
  if (csC == 1) {
    __mmask16 m0 = nValid >= 16 ? 0xFFFF : (1u << nValid) - 1;
    __mmask16 m1 = nValid >= 32  ? 0xFFFF
                   : nValid > 16 ? (1u << (nValid - 16)) - 1
                                 : 0;
#pragma GCC unroll 16
    for (int i = 0; i < MRows; ++i) {
      float *ci = c + i * rsC;
      _mm512_mask_storeu_ps(
          ci, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, ci), acc0[i]));
      _mm512_mask_storeu_ps(
          ci + 16, m1,
          _mm512_add_ps(_mm512_maskz_loadu_ps(m1, ci + 16), acc1[i]));
    }
    return;
  }
  alignas(64) float tile[MRows][kNR512];
  for (int i = 0; i < MRows; ++i) {
    _mm512_store_ps(tile[i], acc0[i]);
    _mm512_store_ps(tile[i] + 16, acc1[i]);
  }
  for (int i = 0; i < MRows; ++i)
    for (int64_t j = 0; j < nValid; ++j)
      c[i * rsC + j * csC] += tile[i][j];
}

template <int MRows>
KILN_GEMM_AVX512_TARGET void
runMicroKernel512(int64_t mr, int64_t kc, const float *a, const float *b,
                  float *c, int64_t rsC, int64_t csC, int64_t nr) {
  if constexpr (MRows > 1) {
    if (mr < MRows)
      return runMicroKernel512<MRows - 1>(mr, kc, a, b, c, rsC, csC, nr);
  }
  microKernel512<MRows>(kc, a, b, c, rsC, csC, nr);
}

/// The AVX-512 register block: kMR512 x 32.
struct Avx512Kernel {
  static constexpr int64_t MR = kMR512;
  static constexpr int64_t NR = kNR512;
  static constexpr int64_t MC = kMC / kMR512 * kMR512;
  static bool readsInPlace(int64_t width) { return width == kNR512; }
  /// `ldb` is always NR here.
  static void run(int64_t mr, int64_t kc, const float *a, const float *b,
                  int64_t /*ldb*/, float *c, int64_t rsC, int64_t csC,
                  int64_t nr) {
    runMicroKernel512<kMR512>(mr, kc, a, b, c, rsC, csC, nr);
  }
};

//===----------------------------------------------------------------------===//
// Packed drivers
//===----------------------------------------------------------------------===//

/// Packs A'[0, mc) x [0, kc) (a at A'(0, p)) into consecutive MR-row panels.
template <typename K>
void packABlock(const Problem &p, const float *a, int64_t mc, int64_t kc,
                float *out) {
  for (int64_t i = 0; i < mc; i += K::MR)
    packAPanel<K::MR>(a + i * p.rsA, p.rsA, p.csA,
                      std::min<int64_t>(K::MR, mc - i), kc, out + i * kc);
}

/// Packs B' columns [j, j + nr) (nr <= NR) for k in [pc, pc + kc) from
/// pre-packed panels of a width the micro-kernel cannot read in place, as
/// packBPanel does from a strided view (out[k * NR + col], zero-filled).
template <int64_t NR>
void packBFromPanels(const Problem &p, int64_t pc, int64_t kc, int64_t j,
                     int64_t nr, float *out) {
  int64_t w = p.panelWidth;
  int64_t col = p.panelCol0 + j;
  if (col % w + nr <= w) // inside one panel: a view with rows w apart
    return packBPanel<NR>(p.panels + col / w * p.panelStride + pc * w + col % w,
                          w, 1, nr, kc, out);
  // Spans several (narrow) panels: copy each panel's run of columns.
  for (int64_t t = 0; t < nr;) {
    int64_t at = col + t, len = std::min(nr - t, w - at % w);
    const float *src = p.panels + at / w * p.panelStride + pc * w + at % w;
    for (int64_t l = 0; l < kc; ++l)
      for (int64_t u = 0; u < len; ++u)
        out[l * NR + t + u] = src[l * w + u];
    t += len;
  }
  for (int64_t l = 0; l < kc; ++l)
    for (int64_t u = nr; u < NR; ++u)
      out[l * NR + u] = 0.0f;
}

/// Where the micro-kernel reads B' columns [j, j + nr) for k in
/// [pc, pc + kc): in the pre-packed panels themselves when their width allows
/// it (`inPlace`; rows panelWidth apart, j a multiple of NR), else packed
/// into `buf` (rows NR apart). Either way the micro-kernel sees the same
/// values, so results do not depend on where B comes from.
template <typename K>
const float *bPanel(const Problem &p, bool inPlace, int64_t pc, int64_t kc,
                    int64_t j, int64_t nr, float *buf) {
  if (inPlace) {
    int64_t col = p.panelCol0 + j, w = p.panelWidth;
    return p.panels + col / w * p.panelStride + pc * w + col % w;
  }
  if (p.panels)
    packBFromPanels<K::NR>(p, pc, kc, j, nr, buf);
  else
    packBPanel<K::NR>(p.b + pc * p.rsB + j * p.csB, p.rsB, p.csB, nr, kc, buf);
  return buf;
}

/// Serial packed GEMM.
template <typename K> void gemmPacked(const Problem &p) {
  bool inPlace = p.panels && K::readsInPlace(p.panelWidth);
  int64_t ldb = inPlace ? p.panelWidth : K::NR;
  if (p.m <= K::MC) {
    // Few rows: pack all of A once per k block, then pack each B panel into
    // L1 right before the row panels use it, so B is read once.
    int64_t mPadded = (p.m + K::MR - 1) / K::MR * K::MR;
    float *bufA = packedA.get(mPadded * kKC);
    float *bufB = inPlace ? nullptr : packedB.get(K::NR * kKC);
    for (int64_t pc = 0; pc < p.k; pc += kKC) {
      int64_t kc = std::min(kKC, p.k - pc);
      packABlock<K>(p, p.a + pc * p.csA, p.m, kc, bufA);
      for (int64_t jr = 0; jr < p.n; jr += K::NR) {
        int64_t nr = std::min<int64_t>(K::NR, p.n - jr);
        const float *b = bPanel<K>(p, inPlace, pc, kc, jr, nr, bufB);
        for (int64_t ir = 0; ir < p.m; ir += K::MR)
          K::run(std::min<int64_t>(K::MR, p.m - ir), kc, bufA + ir * kc, b, ldb,
                 p.c + ir * p.rsC + jr * p.csC, p.rsC, p.csC, nr);
      }
    }
    return;
  }
  // The GotoBLAS loop nest: B block (kc x nc) and A block (mc x kc) in L2.
  float *bufA = packedA.get(K::MC * kKC);
  float *bufB = inPlace ? nullptr : packedB.get(kNC * kKC);
  const float *bBlock[kNC / K::NR]; // each NR-column panel of the B block
  for (int64_t jc = 0; jc < p.n; jc += kNC) {
    int64_t nc = std::min(kNC, p.n - jc);
    for (int64_t pc = 0; pc < p.k; pc += kKC) {
      int64_t kc = std::min(kKC, p.k - pc);
      for (int64_t jr = 0; jr < nc; jr += K::NR)
        bBlock[jr / K::NR] = bPanel<K>(p, inPlace, pc, kc, jc + jr,
                                       std::min<int64_t>(K::NR, nc - jr),
                                       inPlace ? nullptr : bufB + jr * kc);
      for (int64_t ic = 0; ic < p.m; ic += K::MC) {
        int64_t mc = std::min<int64_t>(K::MC, p.m - ic);
        packABlock<K>(p, p.a + ic * p.rsA + pc * p.csA, mc, kc, bufA);
        for (int64_t jr = 0; jr < nc; jr += K::NR) {
          int64_t nr = std::min<int64_t>(K::NR, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += K::MR)
            K::run(std::min<int64_t>(K::MR, mc - ir), kc, bufA + ir * kc,
                   bBlock[jr / K::NR], ldb,
                   p.c + (ic + ir) * p.rsC + (jc + jr) * p.csC, p.rsC, p.csC,
                   nr);
        }
      }
    }
  }
}

/// Packed GEMM split over the pool: by NR-column panels of N when there are
/// enough of them, else by MR-row panels of M.
template <typename K>
void gemmPackedParallel(const Problem &p, int maxThreads) {
  int threads = teamSizeFor(p.m * p.n * p.k, maxThreads);
  if (threads <= 1)
    return gemmPacked<K>(p);
  int64_t nPanels = (p.n + K::NR - 1) / K::NR;
  int64_t mPanels = (p.m + K::MR - 1) / K::MR;
  bool splitN = nPanels >= 2 * threads || nPanels >= mPanels;
  ThreadPool::global().run(threads, [&](int index, int size) {
    Problem part = p;
    int64_t begin, end;
    if (splitN) {
      splitRange(nPanels, index, size, begin, end);
      begin *= K::NR;
      end = std::min(p.n, end * K::NR);
      part.n = end - begin;
      if (p.panels)
        part.panelCol0 += begin;
      else
        part.b += begin * p.csB;
      part.c += begin * p.csC;
    } else {
      splitRange(mPanels, index, size, begin, end);
      begin *= K::MR;
      end = std::min(p.m, end * K::MR);
      part.m = end - begin;
      part.a += begin * p.rsA;
      part.c += begin * p.rsC;
    }
    if (part.m > 0 && part.n > 0)
      gemmPacked<K>(part);
  });
}

//===----------------------------------------------------------------------===//
// Streaming kernels: at most four rows
//===----------------------------------------------------------------------===//

/// B' rows contiguous along n (B [K, N]). aT holds A' as aT[k * MRows + i].
/// C rows are contiguous (c row i at c + i * rsC). Columns [n0, n1).
/// Per element: for each block of kKB values of k, C += fma chain from zero.
template <int MRows>
void streamContiguousN(int64_t n0, int64_t n1, int64_t kTotal, const float *aT,
                       const float *b, int64_t rsB, float *c, int64_t rsC) {
  constexpr int64_t kKB = 8;
  constexpr int kVectors = MRows == 1 ? 8 : MRows == 2 ? 4 : 2;
  for (int64_t kb = 0; kb < kTotal; kb += kKB) {
    int64_t kn = std::min(kKB, kTotal - kb);
    const float *bk = b + kb * rsB;
    const float *ak = aT + kb * MRows;
    int64_t n = n0;
    for (; n + kVectors * 8 <= n1; n += kVectors * 8) {
      __m256 acc[MRows][kVectors];
      for (int i = 0; i < MRows; ++i)
        for (int v = 0; v < kVectors; ++v)
          acc[i][v] = _mm256_setzero_ps();
      for (int64_t k = 0; k < kn; ++k) {
        __m256 bv[kVectors];
        for (int v = 0; v < kVectors; ++v)
          bv[v] = _mm256_loadu_ps(bk + k * rsB + n + v * 8);
        for (int i = 0; i < MRows; ++i) {
          __m256 ai = _mm256_broadcast_ss(ak + k * MRows + i);
          for (int v = 0; v < kVectors; ++v)
            acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
        }
      }
      for (int i = 0; i < MRows; ++i)
        for (int v = 0; v < kVectors; ++v) {
          float *ci = c + i * rsC + n + v * 8;
          _mm256_storeu_ps(ci, _mm256_add_ps(_mm256_loadu_ps(ci), acc[i][v]));
        }
    }
    // Remaining columns, 8 (or fewer, masked) at a time: same arithmetic.
    for (; n < n1; n += 8) {
      int64_t width = std::min<int64_t>(8, n1 - n);
      __m256i mask =
          _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(width)),
                             _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
      __m256 acc[MRows];
      for (int i = 0; i < MRows; ++i)
        acc[i] = _mm256_setzero_ps();
      for (int64_t k = 0; k < kn; ++k) {
        __m256 bv = _mm256_maskload_ps(bk + k * rsB + n, mask);
        for (int i = 0; i < MRows; ++i)
          acc[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(ak + k * MRows + i), bv,
                                   acc[i]);
      }
      for (int i = 0; i < MRows; ++i) {
        float *ci = c + i * rsC + n;
        _mm256_maskstore_ps(
            ci, mask, _mm256_add_ps(_mm256_maskload_ps(ci, mask), acc[i]));
      }
    }
  }
}

/// Sum of the 8 lanes in a fixed order.
inline float horizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/// Dot products for B' columns contiguous along k (B stored [N, K]): columns
/// [n, n + Group) against MRows rows of A' held contiguously in aRows
/// (row i at aRows + i * kTotal). Per element: an 8-lane fma chain over the
/// multiple-of-8 part of k, a fixed horizontal sum, a scalar fma tail, then
/// one add into C.
template <int MRows, int Group>
void dotGroup(int64_t kTotal, const float *aRows, const float *b, int64_t csB,
              float *c, int64_t rsC, int64_t csC) {
  __m256 acc[MRows][Group];
  for (int i = 0; i < MRows; ++i)
    for (int g = 0; g < Group; ++g)
      acc[i][g] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 8 <= kTotal; k += 8) {
    __m256 av[MRows];
    for (int i = 0; i < MRows; ++i)
      av[i] = _mm256_loadu_ps(aRows + i * kTotal + k);
    for (int g = 0; g < Group; ++g) {
      __m256 bv = _mm256_loadu_ps(b + g * csB + k);
      for (int i = 0; i < MRows; ++i)
        acc[i][g] = _mm256_fmadd_ps(av[i], bv, acc[i][g]);
    }
  }
  for (int i = 0; i < MRows; ++i)
    for (int g = 0; g < Group; ++g) {
      float sum = horizontalSum(acc[i][g]);
      for (int64_t t = k; t < kTotal; ++t)
        sum = std::fma(aRows[i * kTotal + t], b[g * csB + t], sum);
      c[i * rsC + g * csC] += sum;
    }
}

template <int MRows>
void streamContiguousK(int64_t n0, int64_t n1, int64_t kTotal,
                       const float *aRows, const float *b, int64_t csB,
                       float *c, int64_t rsC, int64_t csC) {
  constexpr int kGroup = MRows == 1 ? 8 : MRows == 2 ? 4 : 2;
  int64_t n = n0;
  for (; n + kGroup <= n1; n += kGroup)
    dotGroup<MRows, kGroup>(kTotal, aRows, b + n * csB, csB, c + n * csC, rsC,
                            csC);
  for (; n < n1; ++n)
    dotGroup<MRows, 1>(kTotal, aRows, b + n * csB, csB, c + n * csC, rsC, csC);
}

/// Products with m <= 4 where B' has a unit stride: B is read exactly once,
/// without packing. Split over threads by columns.
template <int MRows> void gemmStreaming(const Problem &p, int maxThreads) {
  bool contiguousN = p.csB == 1;
  // A' copied contiguously: transposed ([k][i]) for broadcasts, or as rows
  // for dot products.
  float *aCopy = scratch.get(MRows * p.k);
  for (int64_t i = 0; i < MRows; ++i)
    for (int64_t l = 0; l < p.k; ++l) {
      float v = p.a[i * p.rsA + l * p.csA];
      if (contiguousN)
        aCopy[l * MRows + i] = v;
      else
        aCopy[i * p.k + l] = v;
    }
  // Column-strided C: accumulate into a contiguous copy.
  bool copyC = contiguousN && p.csC != 1;
  float *c = p.c;
  int64_t rsC = p.rsC, csC = p.csC;
  std::vector<float> cCopy;
  if (copyC) {
    cCopy.resize(static_cast<size_t>(MRows * p.n));
    for (int64_t i = 0; i < MRows; ++i)
      for (int64_t j = 0; j < p.n; ++j)
        cCopy[i * p.n + j] = p.c[i * p.rsC + j * p.csC];
    c = cCopy.data();
    rsC = p.n;
    csC = 1;
  }
  auto run = [&](int64_t n0, int64_t n1) {
    if (contiguousN)
      streamContiguousN<MRows>(n0, n1, p.k, aCopy, p.b, p.rsB, c, rsC);
    else
      streamContiguousK<MRows>(n0, n1, p.k, aCopy, p.b, p.csB, c, rsC, csC);
  };
  // Bandwidth bound: a second thread only pays off for large B.
  int threads = teamSizeFor(p.n * p.k / 8, maxThreads);
  if (threads <= 1) {
    run(0, p.n);
  } else {
    constexpr int64_t kAlign = 64;
    int64_t blocks = (p.n + kAlign - 1) / kAlign;
    ThreadPool::global().run(threads, [&](int index, int size) {
      int64_t begin, end;
      splitRange(blocks, index, size, begin, end);
      end = std::min(p.n, end * kAlign);
      if (begin * kAlign < end)
        run(begin * kAlign, end);
    });
  }
  if (copyC)
    for (int64_t i = 0; i < MRows; ++i)
      for (int64_t j = 0; j < p.n; ++j)
        p.c[i * p.rsC + j * p.csC] = cCopy[i * p.n + j];
}

/// U consecutive blocks of 8 values of k (fewer k, kn, when U = 1) of
/// columns [0, 8 * V) of G consecutive pre-packed panels (panel g at
/// b + g * ps, rows w apart; b, aT and c offset to the block's first row and
/// column). The arithmetic of streamContiguousN: per block, an fma chain from
/// zero, added to C. The G panels share the broadcasts of A; the U blocks'
/// chains are independent, which hides the fma latency, and are added in k
/// order.
template <int MRows, int G, int V, int U>
inline void streamPanelBlocks(int64_t kn, const float *aT, const float *b,
                              int64_t ps, int64_t w, float *c, int64_t rsC) {
  constexpr int64_t kKB = 8;
  __m256 acc[U][MRows][G * V];
  for (int u = 0; u < U; ++u)
    for (int i = 0; i < MRows; ++i)
      for (int v = 0; v < G * V; ++v)
        acc[u][i][v] = _mm256_setzero_ps();
  if (U > 1)
    kn = kKB; // full blocks only: a constant trip count, fully unrolled
#pragma GCC unroll 8
  for (int64_t k = 0; k < kn; ++k)
    for (int u = 0; u < U; ++u) {
      int64_t row = u * kKB + k;
      __m256 bv[G * V];
      for (int g = 0; g < G; ++g)
        for (int v = 0; v < V; ++v)
          bv[g * V + v] = _mm256_loadu_ps(b + g * ps + row * w + v * 8);
      for (int i = 0; i < MRows; ++i) {
        __m256 ai = _mm256_broadcast_ss(aT + row * MRows + i);
        for (int v = 0; v < G * V; ++v)
          acc[u][i][v] = _mm256_fmadd_ps(ai, bv[v], acc[u][i][v]);
      }
    }
  for (int i = 0; i < MRows; ++i)
    for (int g = 0; g < G; ++g)
      for (int v = 0; v < V; ++v) {
        float *ci = c + i * rsC + g * w + v * 8;
        __m256 sum = _mm256_loadu_ps(ci);
        for (int u = 0; u < U; ++u)
          sum = _mm256_add_ps(sum, acc[u][i][g * V + v]);
        _mm256_storeu_ps(ci, sum);
      }
}

/// C[0..MRows, 0..G * w) += A' * G full panels of width w (a multiple of
/// 8V), panel g at b + g * ps. Each panel is read once, in order.
template <int MRows, int G, int V, int U>
void streamPanelGroup(int64_t kTotal, const float *aT, const float *b,
                      int64_t ps, int64_t w, float *c, int64_t rsC) {
  constexpr int64_t kKB = 8;
  int64_t kb = 0;
  for (; kb + U * kKB <= kTotal; kb += U * kKB)
    for (int64_t n = 0; n < w; n += 8 * V)
      streamPanelBlocks<MRows, G, V, U>(kKB, aT + kb * MRows, b + kb * w + n,
                                        ps, w, c + n, rsC);
  for (; kb < kTotal; kb += kKB)
    for (int64_t n = 0; n < w; n += 8 * V)
      streamPanelBlocks<MRows, G, V, 1>(std::min(kKB, kTotal - kb),
                                        aT + kb * MRows, b + kb * w + n, ps, w,
                                        c + n, rsC);
}

/// Full panels [q0, q1) (width a multiple of 8V), G at a time. The register
/// block of streamContiguousN: 8, 4 or 2 vectors across the panels per k for
/// 1, 2 or 3-4 rows (more accumulators, U > 1 for 3 rows, measured slower).
template <int MRows, int V>
void streamFullPanels(int64_t q0, int64_t q1, int64_t kTotal, const float *aT,
                      const float *panels, int64_t ps, int64_t w, float *c,
                      int64_t rsC) {
  constexpr int kVectors = MRows == 1 ? 8 : MRows == 2 ? 4 : 2;
  constexpr int G = kVectors / V > 0 ? kVectors / V : 1;
  constexpr int U = 1;
  int64_t q = q0;
  for (; q + G <= q1; q += G)
    streamPanelGroup<MRows, G, V, U>(kTotal, aT, panels + q * ps, ps, w,
                                     c + q * w, rsC);
  for (; q < q1; ++q) // left-over panels: the same accumulators, deeper in k
    streamPanelGroup<MRows, 1, V, U * G>(kTotal, aT, panels + q * ps, ps, w,
                                         c + q * w, rsC);
}

/// Products with m <= 4 on pre-packed panels: each panel is a contiguous
/// K x W row-major block, so B is read once, sequentially. Per element the
/// arithmetic is streamContiguousN's, so results equal gemmStreaming's on an
/// unpacked B [K, N]. Split over threads by panels.
template <int MRows>
void gemmStreamingPanels(const Problem &p, int maxThreads) {
  float *aT = scratch.get(MRows * p.k);
  for (int64_t i = 0; i < MRows; ++i)
    for (int64_t l = 0; l < p.k; ++l)
      aT[l * MRows + i] = p.a[i * p.rsA + l * p.csA];
  // Column-strided C: accumulate into a contiguous copy.
  bool copyC = p.csC != 1;
  float *c = p.c;
  int64_t rsC = p.rsC;
  std::vector<float> cCopy;
  if (copyC) {
    cCopy.resize(static_cast<size_t>(MRows * p.n));
    for (int64_t i = 0; i < MRows; ++i)
      for (int64_t j = 0; j < p.n; ++j)
        cCopy[i * p.n + j] = p.c[i * p.rsC + j * p.csC];
    c = cCopy.data();
    rsC = p.n;
  }
  int64_t w = p.panelWidth, ps = p.panelStride;
  int64_t panels = (p.n + w - 1) / w;
  int64_t fullPanels = p.n / w; // the last one may be partial
  auto run = [&](int64_t begin, int64_t end) {
    int64_t endFull = std::min(end, fullPanels);
    if (begin < endFull) {
      // 32 columns of a panel per k: measured faster for one row only.
      if (MRows == 1 && w % 32 == 0)
        streamFullPanels<MRows, MRows == 1 ? 4 : 2>(begin, endFull, p.k, aT,
                                                    p.panels, ps, w, c, rsC);
      else if (w % 16 == 0)
        streamFullPanels<MRows, 2>(begin, endFull, p.k, aT, p.panels, ps, w, c,
                                   rsC);
      else if (w % 8 == 0)
        streamFullPanels<MRows, 1>(begin, endFull, p.k, aT, p.panels, ps, w, c,
                                   rsC);
      else
        for (int64_t q = begin; q < endFull; ++q)
          streamContiguousN<MRows>(0, w, p.k, aT, p.panels + q * ps, w,
                                   c + q * w, rsC);
    }
    if (endFull < end) // the partial panel: its valid columns
      streamContiguousN<MRows>(0, p.n - endFull * w, p.k, aT,
                               p.panels + endFull * ps, w, c + endFull * w,
                               rsC);
  };
  // Panels of this problem: p.panelCol0 is 0 (only the packed path splits).
  int threads = teamSizeFor(p.n * p.k / 8, maxThreads);
  if (threads <= 1 || panels < 2) {
    run(0, panels);
  } else {
    threads = static_cast<int>(std::min<int64_t>(threads, panels));
    ThreadPool::global().run(threads, [&](int index, int size) {
      int64_t begin, end;
      splitRange(panels, index, size, begin, end);
      run(begin, end);
    });
  }
  if (copyC)
    for (int64_t i = 0; i < MRows; ++i)
      for (int64_t j = 0; j < p.n; ++j)
        p.c[i * p.rsC + j * p.csC] = cCopy[i * p.n + j];
}

void gemm(const Problem &p, int maxThreads) {
  if (p.panels && p.m <= 4) {
    switch (p.m) {
    case 1:
      return gemmStreamingPanels<1>(p, maxThreads);
    case 2:
      return gemmStreamingPanels<2>(p, maxThreads);
    case 3:
      return gemmStreamingPanels<3>(p, maxThreads);
    default:
      return gemmStreamingPanels<4>(p, maxThreads);
    }
  }
  bool bUnitStride = p.csB == 1 || p.rsB == 1;
  if (p.m <= 4 && bUnitStride) {
    switch (p.m) {
    case 1:
      return gemmStreaming<1>(p, maxThreads);
    case 2:
      return gemmStreaming<2>(p, maxThreads);
    case 3:
      return gemmStreaming<3>(p, maxThreads);
    default:
      return gemmStreaming<4>(p, maxThreads);
    }
  }
  if (p.n <= 4 && !p.panels && (p.rsA == 1 || p.csA == 1)) {
    // Few columns: C^T += B'^T A'^T has few rows.
    Problem t{p.n, p.m,   p.k,   p.b, p.csB, p.rsB,
              p.a, p.csA, p.rsA, p.c, p.csC, p.rsC};
    return gemm(t, maxThreads);
  }
  if (useAvx512())
    gemmPackedParallel<Avx512Kernel>(p, maxThreads);
  else
    gemmPackedParallel<Avx2Kernel>(p, maxThreads);
}

#endif // KILN_GEMM_AVX2

/// sgemmPanels on any panel strides, one sgemm per panel on a strided view
/// (B' of panel q is base + q * s0, rows s1 apart, columns s2 apart). Correct
/// for any layout, but each call packs its B again.
void sgemmPanelSlices(int64_t m, int64_t n, int64_t k, const float *a,
                      int64_t rsA, int64_t csA, const float *base, int64_t w,
                      int64_t s0, int64_t s1, int64_t s2, float *c, int64_t rsC,
                      int64_t csC, int maxThreads) {
  for (int64_t q = 0; q * w < n; ++q)
    kiln::kernels::sgemm(m, std::min(w, n - q * w), k, a, rsA, csA,
                         base + q * s0, s1, s2, c + q * w * csC, rsC, csC,
                         maxThreads);
}

} // namespace

namespace kiln {
namespace kernels {

#if KILN_GEMM_AVX2
void setIsaForTesting(GemmIsa isa) {
  int choice = isa == GemmIsa::Avx2     ? 0
               : isa == GemmIsa::Avx512 ? (cpuHasAvx512() ? 1 : 0)
                                        : defaultIsa();
  isaChoice.store(choice, std::memory_order_relaxed);
}

bool avx512Available() { return cpuHasAvx512(); }

const char *activeIsaName() { return useAvx512() ? "avx512" : "avx2"; }
#else
void setIsaForTesting(GemmIsa) {}

bool avx512Available() { return false; }

const char *activeIsaName() { return "scalar"; }
#endif

void sgemm(int64_t m, int64_t n, int64_t k, const float *a, int64_t rsA,
           int64_t csA, const float *b, int64_t rsB, int64_t csB, float *c,
           int64_t rsC, int64_t csC, int maxThreads) {
  if (m <= 0 || n <= 0 || k <= 0)
    return;
  gemm(Problem{m, n, k, a, rsA, csA, b, rsB, csB, c, rsC, csC}, maxThreads);
}

void sgemmPanels(int64_t m, int64_t n, int64_t k, const float *a, int64_t rsA,
                 int64_t csA, const float *panels, int64_t panelWidth,
                 int64_t panelStride, float *c, int64_t rsC, int64_t csC,
                 int maxThreads) {
  if (m <= 0 || n <= 0 || k <= 0)
    return;
  if (panelWidth <= 0)
    fail("kiln_matmul_panels_f32", "panel width must be positive");
#if !KILN_GEMM_AVX2
  sgemmPanelSlices(m, n, k, a, rsA, csA, panels, panelWidth, panelStride,
                   panelWidth, 1, c, rsC, csC, maxThreads);
#else
  if (n <= 4) {
    // sgemm runs these as C^T += B'^T A'^T, a product with few rows (see
    // gemm): hand it B' as a plain view (copied if it spans several narrow
    // panels), so that the results are the same bits as sgemm's.
    if (n <= panelWidth)
      return sgemm(m, n, k, a, rsA, csA, panels, panelWidth, 1, c, rsC, csC,
                   maxThreads);
    std::vector<float> b(static_cast<size_t>(k * n));
    for (int64_t l = 0; l < k; ++l)
      for (int64_t j = 0; j < n; ++j)
        b[l * n + j] = panels[j / panelWidth * panelStride + l * panelWidth +
                              j % panelWidth];
    return sgemm(m, n, k, a, rsA, csA, b.data(), n, 1, c, rsC, csC, maxThreads);
  }
  Problem p{m, n, k, a, rsA, csA, nullptr, 0, 0, c, rsC, csC};
  p.panels = panels;
  p.panelWidth = panelWidth;
  p.panelStride = panelStride;
  gemm(p, maxThreads);
#endif
}

void sgemmBatched(int64_t batch, int64_t m, int64_t n, int64_t k,
                  const float *a, int64_t bsA, int64_t rsA, int64_t csA,
                  const float *b, int64_t bsB, int64_t rsB, int64_t csB,
                  float *c, int64_t bsC, int64_t rsC, int64_t csC,
                  int maxThreads) {
  if (batch <= 0 || m <= 0 || n <= 0 || k <= 0)
    return;
  int threads = teamSizeFor(batch * m * n * k, maxThreads);
  auto item = [&](int64_t i, int itemThreads) {
    sgemm(m, n, k, a + i * bsA, rsA, csA, b + i * bsB, rsB, csB, c + i * bsC,
          rsC, csC, itemThreads);
  };
  // Several items: one thread per item range, unless there are fewer items
  // than threads and each is big enough to be split itself.
  bool acrossBatch = batch > 1 && threads > 1 &&
                     (batch >= threads || m * n * k < 2 * kMinWorkPerThread);
  if (!acrossBatch) {
    for (int64_t i = 0; i < batch; ++i)
      item(i, maxThreads);
    return;
  }
  ThreadPool::global().run(static_cast<int>(std::min<int64_t>(threads, batch)),
                           [&](int index, int size) {
                             int64_t begin, end;
                             splitRange(batch, index, size, begin, end);
                             for (int64_t i = begin; i < end; ++i)
                               item(i, 1);
                           });
}

} // namespace kernels
} // namespace kiln

namespace {

/// M, N, K of a product of descriptors of rank R (the last two axes), or an
/// abort naming the mismatch.
template <int R>
void checkedShape(const char *function, const KilnMemRef<R> *a,
                  const KilnMemRef<R> *b, const KilnMemRef<R> *c,
                  int64_t transposeA, int64_t transposeB, int64_t &m,
                  int64_t &n, int64_t &k) {
  if (!a || !b || !c)
    fail(function, "null memref descriptor");
  constexpr int r = R - 2, s = R - 1;
  m = transposeA ? a->sizes[s] : a->sizes[r];
  k = transposeA ? a->sizes[r] : a->sizes[s];
  int64_t kB = transposeB ? b->sizes[s] : b->sizes[r];
  n = transposeB ? b->sizes[r] : b->sizes[s];
  char message[512];
  if (m < 0 || n < 0 || k < 0 || kB != k || c->sizes[r] != m ||
      c->sizes[s] != n) {
    std::snprintf(
        message, sizeof(message),
        "shapes do not agree: A [%lld, %lld]%s, B [%lld, %lld]%s, "
        "C [%lld, %lld] (M %lld, K %lld, N %lld, K of B %lld)",
        static_cast<long long>(a->sizes[r]),
        static_cast<long long>(a->sizes[s]), transposeA ? " transposed" : "",
        static_cast<long long>(b->sizes[r]),
        static_cast<long long>(b->sizes[s]), transposeB ? " transposed" : "",
        static_cast<long long>(c->sizes[r]),
        static_cast<long long>(c->sizes[s]), static_cast<long long>(m),
        static_cast<long long>(k), static_cast<long long>(n),
        static_cast<long long>(kB));
    fail(function, message);
  }
  if (m > 0 && n > 0 && k > 0 && (!a->aligned || !b->aligned || !c->aligned))
    fail(function, "null data pointer");
}

} // namespace

extern "C" void _mlir_ciface_kiln_matmul_f32(KilnMemRef<2> *a, KilnMemRef<2> *b,
                                             KilnMemRef<2> *c,
                                             int64_t transposeA,
                                             int64_t transposeB) {
  int64_t m, n, k;
  checkedShape("kiln_matmul_f32", a, b, c, transposeA, transposeB, m, n, k);
  if (m == 0 || n == 0 || k == 0)
    return;
  // A'(i, l) = A(l, i) when transposed, and likewise for B.
  int64_t rsA = transposeA ? a->strides[1] : a->strides[0];
  int64_t csA = transposeA ? a->strides[0] : a->strides[1];
  int64_t rsB = transposeB ? b->strides[1] : b->strides[0];
  int64_t csB = transposeB ? b->strides[0] : b->strides[1];
  kiln::kernels::sgemm(m, n, k, a->aligned + a->offset, rsA, csA,
                       b->aligned + b->offset, rsB, csB, c->aligned + c->offset,
                       c->strides[0], c->strides[1]);
}

extern "C" void _mlir_ciface_kiln_batch_matmul_f32(KilnMemRef<3> *a,
                                                   KilnMemRef<3> *b,
                                                   KilnMemRef<3> *c,
                                                   int64_t transposeA,
                                                   int64_t transposeB) {
  const char *function = "kiln_batch_matmul_f32";
  int64_t m, n, k;
  checkedShape(function, a, b, c, transposeA, transposeB, m, n, k);
  int64_t batch = c->sizes[0];
  if (batch < 0 || a->sizes[0] != batch || b->sizes[0] != batch) {
    char message[256];
    std::snprintf(message, sizeof(message),
                  "batch sizes do not agree: A %lld, B %lld, C %lld",
                  static_cast<long long>(a->sizes[0]),
                  static_cast<long long>(b->sizes[0]),
                  static_cast<long long>(batch));
    fail(function, message);
  }
  if (batch == 0 || m == 0 || n == 0 || k == 0)
    return;
  int64_t rsA = transposeA ? a->strides[2] : a->strides[1];
  int64_t csA = transposeA ? a->strides[1] : a->strides[2];
  int64_t rsB = transposeB ? b->strides[2] : b->strides[1];
  int64_t csB = transposeB ? b->strides[1] : b->strides[2];
  kiln::kernels::sgemmBatched(batch, m, n, k, a->aligned + a->offset,
                              a->strides[0], rsA, csA, b->aligned + b->offset,
                              b->strides[0], rsB, csB, c->aligned + c->offset,
                              c->strides[0], c->strides[1], c->strides[2]);
}

extern "C" void _mlir_ciface_kiln_matmul_panels_f32(KilnMemRef<2> *a,
                                                    KilnMemRef<3> *bPanels,
                                                    KilnMemRef<2> *c,
                                                    int64_t transposeA) {
  const char *function = "kiln_matmul_panels_f32";
  if (!a || !bPanels || !c)
    fail(function, "null memref descriptor");
  int64_t m = transposeA ? a->sizes[1] : a->sizes[0];
  int64_t k = transposeA ? a->sizes[0] : a->sizes[1];
  int64_t n = c->sizes[1];
  int64_t panels = bPanels->sizes[0], kB = bPanels->sizes[1],
          w = bPanels->sizes[2];
  if (m < 0 || n < 0 || k < 0 || w < 1 || kB != k || c->sizes[0] != m ||
      panels != (n + w - 1) / w) {
    char message[512];
    std::snprintf(
        message, sizeof(message),
        "shapes do not agree: A [%lld, %lld]%s, B panels [%lld, %lld, %lld], "
        "C [%lld, %lld] (M %lld, K %lld, N %lld: needs ceil(N / W) panels of "
        "K x W, W >= 1)",
        static_cast<long long>(a->sizes[0]),
        static_cast<long long>(a->sizes[1]), transposeA ? " transposed" : "",
        static_cast<long long>(panels), static_cast<long long>(kB),
        static_cast<long long>(w), static_cast<long long>(c->sizes[0]),
        static_cast<long long>(n), static_cast<long long>(m),
        static_cast<long long>(k), static_cast<long long>(n));
    fail(function, message);
  }
  if (m == 0 || n == 0 || k == 0)
    return;
  if (!a->aligned || !bPanels->aligned || !c->aligned)
    fail(function, "null data pointer");
  int64_t rsA = transposeA ? a->strides[1] : a->strides[0];
  int64_t csA = transposeA ? a->strides[0] : a->strides[1];
  const float *base = bPanels->aligned + bPanels->offset;
  float *cData = c->aligned + c->offset;
  const int64_t *s = bPanels->strides;
  // The layout the kernels read in place: contiguous K x W panels (the stride
  // of a size-1 axis does not matter).
  bool contiguousRows = (w == 1 || s[2] == 1) && (k == 1 || s[1] == w);
  bool separatePanels = panels == 1 || s[0] >= k * w;
  if (contiguousRows && separatePanels)
    kiln::kernels::sgemmPanels(m, n, k, a->aligned + a->offset, rsA, csA, base,
                               w, panels == 1 ? k * w : s[0], cData,
                               c->strides[0], c->strides[1]);
  else
    sgemmPanelSlices(m, n, k, a->aligned + a->offset, rsA, csA, base, w, s[0],
                     s[1], s[2], cData, c->strides[0], c->strides[1], 0);
}
