//===- Norm.cpp - Row-wise fp32 normalization kernels ---------------------===//
//
// See Norm.h. Layout of this file:
//   - the row kernels, one set per instruction set (AVX2, AVX-512 through
//     target attributes, portable scalar): the double sum of a row (fused
//     with the residual add), the float sum of its squares (or of its
//     deviations from the mean) and the elementwise output passes,
//   - the driver: gathers of strided rows into a per-thread row buffer, the
//     per-row statistics, the split over the thread pool,
//   - the entry points, the MLIR C-interface ones among them.
//
// A row is read in place when its elements are contiguous and there is no
// residual. Otherwise x (+ residual) goes to the row buffer first (written
// by the LN mean pass itself when x and the residual are contiguous), which
// stays in L1 for the remaining passes. A strided out row is computed into
// the buffer and scattered.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/Norm.h"
#include "runtime/kernels/KernelSupport.h"
#include "runtime/kernels/VectorMath.h"
#include "runtime/threads/ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using kiln::ThreadPool;

namespace {

// failKernel, IsaChoice, ScratchBuffer and the vector math.
using namespace kiln::kernels::detail;

/// The smallest number of elements worth a thread of its own (a few
/// microseconds of work: less does not pay for waking a worker).
constexpr int64_t kMinElementsPerThread = int64_t(1) << 15;

// Lanes of the sums (see Norm.h): element i of a row goes to lane i % W, the
// lanes are added in a halving tree at the end. Every kernel set below
// implements exactly this order.
constexpr int kFloatLanes = 64;
constexpr int kDoubleLanes = 32;

#if KILN_KERNELS_AVX2

//===----------------------------------------------------------------------===//
// AVX2 row kernels
//===----------------------------------------------------------------------===//

struct Avx2Kernels {
  static constexpr const char *name = "avx2";

  /// Sum of v = x (+ r if Add, also stored to v) over [0, n) in double;
  /// acc[k] holds lanes [4k, 4k + 4) of 32.
  template <bool Add>
  static double sum(const float *x, const float *r, float *v, int64_t n) {
    auto load = [&](int64_t i) {
      __m256 s = _mm256_loadu_ps(x + i);
      if (Add) {
        s = _mm256_add_ps(s, _mm256_loadu_ps(r + i));
        _mm256_storeu_ps(v + i, s);
      }
      return s;
    };
    auto loadPart = [&](int64_t i, __m256i mask) {
      __m256 s = _mm256_maskload_ps(x + i, mask);
      if (Add) {
        s = _mm256_add_ps(s, _mm256_maskload_ps(r + i, mask));
        _mm256_maskstore_ps(v + i, mask, s);
      }
      return s;
    };
    __m256d acc[8];
    for (__m256d &a : acc)
      a = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
      for (int k = 0; k < 4; ++k) {
        __m256 s = load(i + 8 * k);
        acc[2 * k] = _mm256_add_pd(acc[2 * k],
                                   _mm256_cvtps_pd(_mm256_castps256_ps128(s)));
        acc[2 * k + 1] = _mm256_add_pd(
            acc[2 * k + 1], _mm256_cvtps_pd(_mm256_extractf128_ps(s, 1)));
      }
    // The last partial 32: pieces of 8, zeros past n.
    for (int k = 0; i + 8 * k < n; ++k) {
      __m256 s = loadPart(i + 8 * k, firstLanes8(n - i - 8 * k));
      acc[2 * k] =
          _mm256_add_pd(acc[2 * k], _mm256_cvtps_pd(_mm256_castps256_ps128(s)));
      acc[2 * k + 1] = _mm256_add_pd(
          acc[2 * k + 1], _mm256_cvtps_pd(_mm256_extractf128_ps(s, 1)));
    }
    // Lanes j += j + 16, then j += j + 8, then the rest.
    __m256d a0 = _mm256_add_pd(acc[0], acc[4]);
    __m256d a1 = _mm256_add_pd(acc[1], acc[5]);
    __m256d a2 = _mm256_add_pd(acc[2], acc[6]);
    __m256d a3 = _mm256_add_pd(acc[3], acc[7]);
    return reduceAdd4(
        _mm256_add_pd(_mm256_add_pd(a0, a2), _mm256_add_pd(a1, a3)));
  }

  /// Sum of t^2 over v[0, n) in float, t = (v - hi) - lo if Centered, else
  /// v; acc[k] holds lanes [8k, 8k + 8) of 64.
  template <bool Centered>
  static float sumSquares(const float *v, int64_t n, float hi, float lo) {
    const __m256 h = _mm256_set1_ps(hi), l = _mm256_set1_ps(lo);
    auto term = [&](__m256 x) {
      return Centered ? _mm256_sub_ps(_mm256_sub_ps(x, h), l) : x;
    };
    __m256 acc[8];
    for (__m256 &a : acc)
      a = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 64 <= n; i += 64)
      for (int k = 0; k < 8; ++k) {
        __m256 t = term(_mm256_loadu_ps(v + i + 8 * k));
        acc[k] = _mm256_fmadd_ps(t, t, acc[k]);
      }
    for (int k = 0; i + 8 * k < n; ++k) {
      __m256i mask = firstLanes8(n - i - 8 * k);
      __m256 t = _mm256_and_ps(term(_mm256_maskload_ps(v + i + 8 * k, mask)),
                               _mm256_castsi256_ps(mask));
      acc[k] = _mm256_fmadd_ps(t, t, acc[k]);
    }
    // Lanes j += j + 32, j += j + 16, j += j + 8, then the rest.
    __m256 a0 = _mm256_add_ps(acc[0], acc[4]);
    __m256 a1 = _mm256_add_ps(acc[1], acc[5]);
    __m256 a2 = _mm256_add_ps(acc[2], acc[6]);
    __m256 a3 = _mm256_add_ps(acc[3], acc[7]);
    return reduceAdd8(
        _mm256_add_ps(_mm256_add_ps(a0, a2), _mm256_add_ps(a1, a3)));
  }

  /// out = ((v - hi) - lo) * rstd * gamma + beta (the last two as one fma).
  static void layerNormRow(const float *v, int64_t n, float hi, float lo,
                           float rstd, const float *gamma, const float *beta,
                           float *out) {
    const __m256 h = _mm256_set1_ps(hi), l = _mm256_set1_ps(lo),
                 s = _mm256_set1_ps(rstd);
    auto row = [&](__m256 x, __m256 g, __m256 b) {
      __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(x, h), l), s);
      return _mm256_fmadd_ps(t, g, b);
    };
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(out + i,
                       row(_mm256_loadu_ps(v + i), _mm256_loadu_ps(gamma + i),
                           _mm256_loadu_ps(beta + i)));
    if (i < n) {
      __m256i mask = firstLanes8(n - i);
      _mm256_maskstore_ps(out + i, mask,
                          row(_mm256_maskload_ps(v + i, mask),
                              _mm256_maskload_ps(gamma + i, mask),
                              _mm256_maskload_ps(beta + i, mask)));
    }
  }

  /// out = v * rstd * gamma.
  static void rmsNormRow(const float *v, int64_t n, float rstd,
                         const float *gamma, float *out) {
    const __m256 s = _mm256_set1_ps(rstd);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(out + i,
                       _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(v + i), s),
                                     _mm256_loadu_ps(gamma + i)));
    if (i < n) {
      __m256i mask = firstLanes8(n - i);
      _mm256_maskstore_ps(
          out + i, mask,
          _mm256_mul_ps(_mm256_mul_ps(_mm256_maskload_ps(v + i, mask), s),
                        _mm256_maskload_ps(gamma + i, mask)));
    }
  }
};

//===----------------------------------------------------------------------===//
// AVX-512 row kernels (run-time selected)
//===----------------------------------------------------------------------===//

KILN_BEGIN_AVX512_CODE

struct Avx512Kernels {
  static constexpr const char *name = "avx512";

  /// As Avx2Kernels::sum; acc[k] holds lanes [8k, 8k + 8) of 32. (No
  /// lambdas: they would not inherit the target attribute.)
  template <bool Add>
  KILN_AVX512_TARGET static double sum(const float *x, const float *r, float *v,
                                       int64_t n) {
    __m512d acc[4];
    for (__m512d &a : acc)
      a = _mm512_setzero_pd();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
      for (int k = 0; k < 2; ++k) {
        __m512 s = _mm512_loadu_ps(x + i + 16 * k);
        if (Add) {
          s = _mm512_add_ps(s, _mm512_loadu_ps(r + i + 16 * k));
          _mm512_storeu_ps(v + i + 16 * k, s);
        }
        acc[2 * k] = _mm512_add_pd(acc[2 * k],
                                   _mm512_cvtps_pd(_mm512_castps512_ps256(s)));
        acc[2 * k + 1] = _mm512_add_pd(
            acc[2 * k + 1], _mm512_cvtps_pd(_mm512_extractf32x8_ps(s, 1)));
      }
    for (int k = 0; i + 8 * k < n; ++k) {
      int64_t j = i + 8 * k;
      __mmask8 mask = static_cast<__mmask8>(firstLanes16(n - j));
      __m256 s = _mm256_maskz_loadu_ps(mask, x + j);
      if (Add) {
        s = _mm256_add_ps(s, _mm256_maskz_loadu_ps(mask, r + j));
        _mm256_mask_storeu_ps(v + j, mask, s);
      }
      acc[k] = _mm512_add_pd(acc[k], _mm512_cvtps_pd(s));
    }
    return reduceAdd8(_mm512_add_pd(_mm512_add_pd(acc[0], acc[2]),
                                    _mm512_add_pd(acc[1], acc[3])));
  }

  /// As Avx2Kernels::sumSquares; acc[k] holds lanes [16k, 16k + 16) of 64.
  template <bool Centered>
  KILN_AVX512_TARGET static float sumSquares(const float *v, int64_t n,
                                             float hi, float lo) {
    const __m512 h = _mm512_set1_ps(hi), l = _mm512_set1_ps(lo);
    __m512 acc[4];
    for (__m512 &a : acc)
      a = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 64 <= n; i += 64)
      for (int k = 0; k < 4; ++k) {
        __m512 t = _mm512_loadu_ps(v + i + 16 * k);
        if (Centered)
          t = _mm512_sub_ps(_mm512_sub_ps(t, h), l);
        acc[k] = _mm512_fmadd_ps(t, t, acc[k]);
      }
    for (int k = 0; i + 16 * k < n; ++k) {
      __mmask16 mask = firstLanes16(n - i - 16 * k);
      __m512 t = _mm512_maskz_loadu_ps(mask, v + i + 16 * k);
      if (Centered)
        t = _mm512_maskz_sub_ps(mask, _mm512_sub_ps(t, h), l);
      acc[k] = _mm512_fmadd_ps(t, t, acc[k]);
    }
    return reduceAdd16(_mm512_add_ps(_mm512_add_ps(acc[0], acc[2]),
                                     _mm512_add_ps(acc[1], acc[3])));
  }

  KILN_AVX512_TARGET static void layerNormRow(const float *v, int64_t n,
                                              float hi, float lo, float rstd,
                                              const float *gamma,
                                              const float *beta, float *out) {
    const __m512 h = _mm512_set1_ps(hi), l = _mm512_set1_ps(lo),
                 s = _mm512_set1_ps(rstd);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      __m512 t = _mm512_sub_ps(_mm512_sub_ps(_mm512_loadu_ps(v + i), h), l);
      _mm512_storeu_ps(out + i, _mm512_fmadd_ps(_mm512_mul_ps(t, s),
                                                _mm512_loadu_ps(gamma + i),
                                                _mm512_loadu_ps(beta + i)));
    }
    if (i < n) {
      __mmask16 mask = firstLanes16(n - i);
      __m512 t = _mm512_sub_ps(
          _mm512_sub_ps(_mm512_maskz_loadu_ps(mask, v + i), h), l);
      _mm512_mask_storeu_ps(
          out + i, mask,
          _mm512_fmadd_ps(_mm512_mul_ps(t, s),
                          _mm512_maskz_loadu_ps(mask, gamma + i),
                          _mm512_maskz_loadu_ps(mask, beta + i)));
    }
  }

  KILN_AVX512_TARGET static void rmsNormRow(const float *v, int64_t n,
                                            float rstd, const float *gamma,
                                            float *out) {
    const __m512 s = _mm512_set1_ps(rstd);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
      _mm512_storeu_ps(out + i,
                       _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(v + i), s),
                                     _mm512_loadu_ps(gamma + i)));
    if (i < n) {
      __mmask16 mask = firstLanes16(n - i);
      _mm512_mask_storeu_ps(
          out + i, mask,
          _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(mask, v + i), s),
                        _mm512_maskz_loadu_ps(mask, gamma + i)));
    }
  }
};

KILN_END_AVX512_CODE

#else // !KILN_KERNELS_AVX2

//===----------------------------------------------------------------------===//
// Portable row kernels (the same orders, hence the same bits)
//===----------------------------------------------------------------------===//

/// The halving tree: lane j += lane j + w for w = W / 2, ..., 1.
template <typename T, int W> T reduceLanes(T (&lanes)[W]) {
  for (int w = W / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j)
      lanes[j] += lanes[j + w];
  return lanes[0];
}

struct ScalarKernels {
  static constexpr const char *name = "scalar";

  template <bool Add>
  static double sum(const float *x, const float *r, float *v, int64_t n) {
    double lanes[kDoubleLanes] = {};
    for (int64_t i0 = 0; i0 < n; i0 += kDoubleLanes)
      for (int64_t j = 0; j < std::min<int64_t>(kDoubleLanes, n - i0); ++j) {
        float s = x[i0 + j];
        if (Add)
          v[i0 + j] = s = s + r[i0 + j];
        lanes[j] += double(s);
      }
    return reduceLanes(lanes);
  }

  template <bool Centered>
  static float sumSquares(const float *v, int64_t n, float hi, float lo) {
    float lanes[kFloatLanes] = {};
    for (int64_t i0 = 0; i0 < n; i0 += kFloatLanes)
      for (int64_t j = 0; j < std::min<int64_t>(kFloatLanes, n - i0); ++j) {
        float t = Centered ? (v[i0 + j] - hi) - lo : v[i0 + j];
        lanes[j] = std::fma(t, t, lanes[j]);
      }
    return reduceLanes(lanes);
  }

  static void layerNormRow(const float *v, int64_t n, float hi, float lo,
                           float rstd, const float *gamma, const float *beta,
                           float *out) {
    for (int64_t i = 0; i < n; ++i)
      out[i] = std::fma(((v[i] - hi) - lo) * rstd, gamma[i], beta[i]);
  }

  static void rmsNormRow(const float *v, int64_t n, float rstd,
                         const float *gamma, float *out) {
    for (int64_t i = 0; i < n; ++i)
      out[i] = v[i] * rstd * gamma[i];
  }
};

#endif // KILN_KERNELS_AVX2

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

/// The kernels' instruction set (AVX-512 where the CPU has it).
IsaChoice isa;

/// Per-thread row buffer: a row and its residual added, or a strided row.
thread_local ScratchBuffer rowBuffer(kiln::contract::kLayerNormKernel);
/// Strided gamma and beta, copied contiguously.
thread_local ScratchBuffer gammaCopy(kiln::contract::kLayerNormKernel);
thread_local ScratchBuffer betaCopy(kiln::contract::kLayerNormKernel);

/// One call on strided views; gamma and beta have unit stride (copied by the
/// entry points if they do not).
struct Problem {
  int64_t rows, d;
  const float *x;
  int64_t rsX, csX;
  const float *residual; // null: none
  int64_t rsR, csR;
  const float *gamma, *beta; // beta unused by RMSNorm
  float *out;
  int64_t rsO, csO;
  float epsilon;
  bool rms;
};

/// 1 / sqrt(meanSquare + eps), in double then rounded once.
float inverseRms(float sumOfSquares, int64_t d, float epsilon) {
  return static_cast<float>(
      1.0 / std::sqrt(double(sumOfSquares) / double(d) + double(epsilon)));
}

/// Normalizes row r; `buffer` holds d floats.
template <typename Kernels>
void normRow(const Problem &p, int64_t r, float *buffer) {
  int64_t d = p.d;
  const float *x = p.x + r * p.rsX;
  float *out = p.out + r * p.rsO;
  // v: the row to normalize, with unit stride. Written element by element at
  // the index it is read from, so out may be x or the residual.
  // Contiguous x + residual is added by the LN mean pass (fused).
  const float *v = x;
  const float *res = p.residual ? p.residual + r * p.rsR : nullptr;
  bool fusedAdd = res && p.csX == 1 && p.csR == 1 && !p.rms;
  if (fusedAdd) {
    v = buffer;
  } else if (res) {
    for (int64_t j = 0; j < d; ++j)
      buffer[j] = x[j * p.csX] + res[j * p.csR];
    v = buffer;
  } else if (p.csX != 1) {
    for (int64_t j = 0; j < d; ++j)
      buffer[j] = x[j * p.csX];
    v = buffer;
  }
  float *dst = p.csO == 1 ? out : buffer;
  if (p.rms) {
    float rstd = inverseRms(Kernels::template sumSquares<false>(v, d, 0, 0), d,
                            p.epsilon);
    Kernels::rmsNormRow(v, d, rstd, p.gamma, dst);
  } else {
    // The mean as hi + lo, two floats: (v - hi) - lo is v - mean to within
    // one rounding of the result, however large the mean.
    double sum = fusedAdd
                     ? Kernels::template sum<true>(x, res, buffer, d)
                     : Kernels::template sum<false>(v, nullptr, nullptr, d);
    double mean = sum / double(d);
    float hi = static_cast<float>(mean);
    float lo = static_cast<float>(mean - double(hi));
    float rstd = inverseRms(Kernels::template sumSquares<true>(v, d, hi, lo), d,
                            p.epsilon);
    Kernels::layerNormRow(v, d, hi, lo, rstd, p.gamma, p.beta, dst);
  }
  if (p.csO != 1)
    for (int64_t j = 0; j < d; ++j)
      out[j * p.csO] = buffer[j];
}

template <typename Kernels> void run(const Problem &p, int maxThreads) {
  int threads =
      teamSize(p.rows * p.d, kMinElementsPerThread, p.rows, maxThreads);
  auto rows = [&](int64_t begin, int64_t end) {
    float *buffer = rowBuffer.get(p.d);
    for (int64_t r = begin; r < end; ++r)
      normRow<Kernels>(p, r, buffer);
  };
  if (threads <= 1)
    return rows(0, p.rows);
  ThreadPool::global().run(threads, [&](int index, int size) {
    rows(p.rows * index / size, p.rows * (index + 1) / size);
  });
}

/// Runs a problem whose gamma and beta may be strided.
void normalize(Problem p, int64_t gammaStride, int64_t betaStride,
               int maxThreads) {
  if (p.rows <= 0 || p.d <= 0)
    return;
  if (gammaStride != 1) {
    float *gamma = gammaCopy.get(p.d);
    for (int64_t j = 0; j < p.d; ++j)
      gamma[j] = p.gamma[j * gammaStride];
    p.gamma = gamma;
  }
  if (!p.rms && betaStride != 1) {
    float *beta = betaCopy.get(p.d);
    for (int64_t j = 0; j < p.d; ++j)
      beta[j] = p.beta[j * betaStride];
    p.beta = beta;
  }
#if KILN_KERNELS_AVX2
  if (isa.useAvx512())
    run<Avx512Kernels>(p, maxThreads);
  else
    run<Avx2Kernels>(p, maxThreads);
#else
  run<ScalarKernels>(p, maxThreads);
#endif
}

} // namespace

bool kiln::kernels::detail::reserveNormScratch(const ScratchSizes &sizes) {
  if (sizes.normWidth <= 0)
    return true;
  return rowBuffer.reserve(sizes.normWidth) &&
         gammaCopy.reserve(sizes.normWidth) &&
         betaCopy.reserve(sizes.normWidth);
}

namespace kiln {
namespace kernels {

void layerNorm(int64_t rows, int64_t d, const float *x, int64_t rsX,
               int64_t csX, const float *residual, int64_t rsR, int64_t csR,
               const float *gamma, int64_t gammaStride, const float *beta,
               int64_t betaStride, float *out, int64_t rsO, int64_t csO,
               float epsilon, int maxThreads) {
  Problem p{rows,  d,    x,   rsX, csX, residual, rsR,          csR,
            gamma, beta, out, rsO, csO, epsilon,  /*rms=*/false};
  normalize(p, gammaStride, betaStride, maxThreads);
}

void rmsNorm(int64_t rows, int64_t d, const float *x, int64_t rsX, int64_t csX,
             const float *gamma, int64_t gammaStride, float *out, int64_t rsO,
             int64_t csO, float epsilon, int maxThreads) {
  Problem p{rows,  d,       x,   rsX, csX, nullptr, 0,           0,
            gamma, nullptr, out, rsO, csO, epsilon, /*rms=*/true};
  normalize(p, gammaStride, 1, maxThreads);
}

void setNormIsaForTesting(GemmIsa choice) { isa.set(choice); }

const char *normIsaName() {
#if KILN_KERNELS_AVX2
  return isa.useAvx512() ? Avx512Kernels::name : Avx2Kernels::name;
#else
  return ScalarKernels::name;
#endif
}

} // namespace kernels
} // namespace kiln

namespace {

/// Appends " name [sizes...]" for a tensor in use (non-null).
template <int R>
void appendShape(char *buffer, size_t size, const char *name,
                 const KilnMemRef<R> *t) {
  if (!t)
    return;
  size_t used = std::strlen(buffer);
  used += std::snprintf(buffer + used, size - used, "%s%s [", used ? ", " : "",
                        name);
  for (int i = 0; i < R && used < size; ++i)
    used += std::snprintf(buffer + used, size - used, "%s%lld", i ? ", " : "",
                          static_cast<long long>(t->sizes[i]));
  if (used < size)
    std::snprintf(buffer + used, size - used, "]");
}

/// Aborts naming the mismatch unless x, residual (null: none), out are
/// [R, D] and gamma, beta (null: none) are [D]; checks the data pointers.
void checkShapes(const char *function, const KilnMemRef<2> *x,
                 const KilnMemRef<2> *residual, const KilnMemRef<1> *gamma,
                 const KilnMemRef<1> *beta, const KilnMemRef<2> *out) {
  const char *mismatch = nullptr;
  int64_t rows = x->sizes[0], d = x->sizes[1];
  if (rows < 0 || d < 0 || out->sizes[0] < 0 || out->sizes[1] < 0 ||
      (residual && (residual->sizes[0] < 0 || residual->sizes[1] < 0)))
    mismatch = "negative size";
  else if (out->sizes[0] != rows)
    mismatch = "row counts of x and out differ";
  else if (out->sizes[1] != d)
    mismatch = "row lengths of x and out differ";
  else if (residual && residual->sizes[0] != rows)
    mismatch = "row counts of x and residual differ";
  else if (residual && residual->sizes[1] != d)
    mismatch = "row lengths of x and residual differ";
  else if (gamma->sizes[0] != d)
    mismatch = "gamma's size is not the row length";
  else if (beta && beta->sizes[0] != d)
    mismatch = "beta's size is not the row length";
  if (mismatch) {
    char shapes[256] = "", message[400];
    appendShape(shapes, sizeof(shapes), "x", x);
    appendShape(shapes, sizeof(shapes), "residual", residual);
    appendShape(shapes, sizeof(shapes), "gamma", gamma);
    appendShape(shapes, sizeof(shapes), "beta", beta);
    appendShape(shapes, sizeof(shapes), "out", out);
    std::snprintf(message, sizeof(message), "shapes do not agree: %s: %s",
                  mismatch, shapes);
    failKernel(function, message);
  }
  if (rows == 0 || d == 0)
    return;
  if (!x->aligned || !out->aligned || (residual && !residual->aligned) ||
      !gamma->aligned || (beta && !beta->aligned))
    failKernel(function, "null data pointer");
}

} // namespace

extern "C" void
_mlir_ciface_kiln_layer_norm_f32(KilnMemRef<2> *x, KilnMemRef<2> *residual,
                                 KilnMemRef<1> *gamma, KilnMemRef<1> *beta,
                                 KilnMemRef<2> *out, float epsilon,
                                 int64_t hasResidual) {
  const char *function = kiln::contract::kLayerNormKernel;
  if (hasResidual != 0 && hasResidual != 1) {
    char message[96];
    std::snprintf(message, sizeof(message), "hasResidual is %lld, not 0 or 1",
                  static_cast<long long>(hasResidual));
    failKernel(function, message);
  }
  if (!x || !gamma || !beta || !out || (hasResidual && !residual))
    failKernel(function, "null memref descriptor");
  const KilnMemRef<2> *res = hasResidual ? residual : nullptr;
  checkShapes(function, x, res, gamma, beta, out);
  kiln::kernels::layerNorm(
      x->sizes[0], x->sizes[1], x->aligned + x->offset, x->strides[0],
      x->strides[1], res ? res->aligned + res->offset : nullptr,
      res ? res->strides[0] : 0, res ? res->strides[1] : 0,
      gamma->aligned + gamma->offset, gamma->strides[0],
      beta->aligned + beta->offset, beta->strides[0],
      out->aligned + out->offset, out->strides[0], out->strides[1], epsilon);
}

extern "C" void _mlir_ciface_kiln_rms_norm_f32(KilnMemRef<2> *x,
                                               KilnMemRef<1> *gamma,
                                               KilnMemRef<2> *out,
                                               float epsilon) {
  const char *function = kiln::contract::kRmsNormKernel;
  if (!x || !gamma || !out)
    failKernel(function, "null memref descriptor");
  checkShapes(function, x, nullptr, gamma, nullptr, out);
  kiln::kernels::rmsNorm(
      x->sizes[0], x->sizes[1], x->aligned + x->offset, x->strides[0],
      x->strides[1], gamma->aligned + gamma->offset, gamma->strides[0],
      out->aligned + out->offset, out->strides[0], out->strides[1], epsilon);
}
