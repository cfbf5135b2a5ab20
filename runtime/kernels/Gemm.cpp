//===- Gemm.cpp - fp32 matrix-product micro-kernels -----------------------===//
//
// See Gemm.h. Layout of this file:
//   - packing of A (MR x kc row panels) and B (kc x NR column panels),
//   - the activations of fused linear layers, on the vector math of
//     VectorMath.h, in 256-bit and 512-bit versions with the same bits,
//   - the 6 x 16 AVX2/FMA micro-kernel (templated on the rows of edge tiles),
//   - the 12 x 32 AVX-512 micro-kernel (target attributes; chosen at run time
//     when the CPU has AVX-512, or by KILN_GEMM_ISA, see Gemm.h),
//   - the cache-blocked drivers, templated on the micro-kernel, and their
//     split over the thread pool,
//   - the streaming kernels of products with at most four rows,
//   - the entry points, sgemmPanels (B pre-packed in column panels) and
//     linearPanels (a fused linear layer on them) among them, and the MLIR
//     C-interface ones.
//
// Summation order. Every element of C gets, for each block of kKC values of k
// in increasing order, C += (fma chain over that block starting from zero)
// (packed path) or a fixed per-element order of the streaming kernels. The
// split over threads only decides who computes an element, never how, so
// results are bit-identical for every team size. A fused linear layer
// (linearPanels) starts each element from its bias (or zero) where a product
// reads C in its first k block, and applies the activation to a tile right
// after its last k block: the bits of a product on C = bias, then the
// activation.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/Gemm.h"
#include "runtime/kernels/KernelSupport.h"
#include "runtime/kernels/VectorMath.h"
#include "runtime/threads/ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

using kiln::ThreadPool;
using kiln::kernels::Activation;
using kiln::kernels::VectorFunction;

namespace {

// failKernel, IsaChoice, ScratchBuffer, transpose8x8 and the vector math.
using namespace kiln::kernels::detail;

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
  // A fused linear layer (linearPanels, panels only): C is written, starting
  // from bias[j] for column j (zeros if bias is null), and gets `act` after
  // its last k block.
  bool linear = false;
  const float *bias = nullptr;
  Activation act = Activation::None;
};

/// The smallest amount of work (multiply-adds) worth a thread of its own.
constexpr int64_t kMinWorkPerThread = int64_t(1) << 19;

/// Team size for `work` multiply-adds, given the caller's cap.
int teamSizeFor(int64_t work, int maxThreads) {
  return teamSize(work, kMinWorkPerThread, INT64_MAX, maxThreads);
}

/// [begin, end) of part `index` of `count` when splitting `total` units.
void splitRange(int64_t total, int index, int count, int64_t &begin,
                int64_t &end) {
  begin = total * index / count;
  end = total * (index + 1) / count;
}

using kiln::kernels::detail::ScratchBuffer;
/// B' of a narrow product copied out of several panels, and a strided bias
/// copied contiguously.
thread_local ScratchBuffer panelCopy(kiln::contract::kMatmulPanelsKernel);
thread_local ScratchBuffer biasCopy(kiln::contract::kLinearPanelsKernel);

#if !KILN_KERNELS_AVX2

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

/// The activations without vectors (this build only: the vectorized ones
/// are not bit-identical to these).
float activateScalar(Activation act, float x) {
  switch (act) {
  case Activation::Gelu:
    return 0.5f * x * std::erfc(-x * 0.707106781f);
  case Activation::GeluTanh:
    return x / (1.0f + std::exp(-x * (1.59576912f + 0.0713548162f * x * x)));
  case Activation::QuickGelu:
    return x / (1.0f + std::exp(-1.702f * x));
  case Activation::Silu:
    return x / (1.0f + std::exp(-x));
  case Activation::Relu:
    return x < 0.0f ? 0.0f : x;
  case Activation::Tanh:
    return std::tanh(x);
  default:
    return x;
  }
}

void activateMatrix(Activation act, float *c, int64_t rsC, int64_t csC,
                    int64_t rows, int64_t cols) {
  if (act != Activation::None)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        c[i * rsC + j * csC] = activateScalar(act, c[i * rsC + j * csC]);
}

#else // KILN_KERNELS_AVX2

constexpr int64_t kMR = 6;   // rows of a micro-tile
constexpr int64_t kNR = 16;  // columns of a micro-tile (two ymm)
constexpr int64_t kKC = 256; // depth of a packed block
constexpr int64_t kMC = 144; // rows of a packed A block (L2)
constexpr int64_t kNC = 512; // columns of a packed B block (L2)
#ifndef KILN_GEMM_MR512
#define KILN_GEMM_MR512 12
#endif

/// The packed path's micro-kernel (AVX-512 where the CPU has it).
IsaChoice isa;

bool cpuHasAvx512() {
  static const bool has =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  return has;
}

bool useAvx512() { return isa.useAvx512(); }

thread_local ScratchBuffer packedA(kiln::contract::kMatmulKernel);
thread_local ScratchBuffer packedB(kiln::contract::kMatmulKernel);
thread_local ScratchBuffer scratch(kiln::contract::kMatmulKernel);
/// A column-strided C of a product with few rows, copied contiguously.
thread_local ScratchBuffer cCopyBuffer(kiln::contract::kMatmulKernel);

//===----------------------------------------------------------------------===//
// Packing
//===----------------------------------------------------------------------===//

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
// Activations (fused linear layers)
//===----------------------------------------------------------------------===//
//
// On the vector math of VectorMath.h, in 256-bit and 512-bit versions that
// perform the same operations lane by lane, so both give the same bits: the
// packed path uses its micro-kernel's, the others the active ISA's (the
// 512-bit gelu is twice as fast). Measured against double over every float
// in [-10, 10] (both ISAs, the same bits): gelu 6 ulp (4.2e-7), silu 2 ulp,
// quick_gelu 2.3 ulp, tanh 1.3 ulp; gelu_tanh 2e-6 relative where above 1e-7
// (near x = -5, 5e-13 absolute: the rounding of its argument 2u, amplified
// by |2u|, not compensated as quick_gelu's is). GemmTest's GemmLinearMath
// tests check these on a dense sweep.

// gelu_tanh(x) = x sigmoid(2u), u = sqrt(2 / pi) (x + 0.044715 x^3): 2u =
// x (k1 + k2 x^2). Written as a sigmoid, 0.5 x (1 + tanh u) has no
// cancellation for negative x.
constexpr float kGeluTanhK1 = 1.59576912f;   // 2 sqrt(2 / pi)
constexpr float kGeluTanhK2 = 0.0713548162f; // 2 sqrt(2 / pi) 0.044715
// quick_gelu's 1.702 in two parts: with the rounding of 1.702 x, a correction
// of exp's argument (see expWithLo256).
constexpr float kQuickGelu = 1.702f;
constexpr float kQuickGeluLo = -2.19345093e-08f; // 1.702 - kQuickGelu
constexpr float kRsqrt2 = 0.707106781f;

/// gelu(x) = 0.5 x erfc(z), z = -x / sqrt 2 (z^2 = x^2 / 2 exactly).
inline __m256 gelu256(__m256 x) {
  __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(kOne),
         half = _mm256_set1_ps(0.5f);
  __m256 z = _mm256_mul_ps(x, _mm256_set1_ps(-kRsqrt2));
  __m256 xx = _mm256_mul_ps(x, x);
  __m256 tHi = _mm256_mul_ps(xx, half),
         tLo = _mm256_mul_ps(_mm256_fmsub_ps(x, x, xx), half);
  __m256 e, r;
  erfcTail256(_mm256_andnot_ps(sign, z), tHi, tLo, e, r);
  __m256 erfc = _mm256_sub_ps(one, erfSmall256(z, tHi)); // -1 < z < 0.5
  erfc = _mm256_blendv_ps(erfc, _mm256_mul_ps(e, r),
                          _mm256_cmp_ps(z, half, _CMP_GE_OQ));
  erfc = _mm256_blendv_ps(erfc, _mm256_fnmadd_ps(e, r, _mm256_set1_ps(2.0f)),
                          _mm256_cmp_ps(z, _mm256_set1_ps(-1.0f), _CMP_LE_OQ));
  return _mm256_mul_ps(_mm256_mul_ps(x, half), erfc);
}

/// x * sigmoid(-nz) = x / (1 + exp(nz)).
inline __m256 timesSigmoid256(__m256 x, __m256 nz) {
  return _mm256_div_ps(
      x, _mm256_add_ps(_mm256_set1_ps(kOne), exp256<kExpMinimax>(nz)));
}

/// x * sigmoid(-nz) = x / (1 + exp(nz + nzLo)).
inline __m256 timesSigmoid256(__m256 x, __m256 nz, __m256 nzLo) {
  return _mm256_div_ps(
      x, _mm256_add_ps(_mm256_set1_ps(kOne), exp256<kExpMinimax>(nz, nzLo)));
}

template <Activation A> inline __m256 activate256(__m256 x) {
  __m256 sign = _mm256_set1_ps(-0.0f);
  if constexpr (A == Activation::Gelu)
    return gelu256(x);
  if constexpr (A == Activation::GeluTanh) {
    __m256 u = _mm256_mul_ps(x, _mm256_fmadd_ps(_mm256_mul_ps(x, x),
                                                _mm256_set1_ps(kGeluTanhK2),
                                                _mm256_set1_ps(kGeluTanhK1)));
    return timesSigmoid256(x, _mm256_xor_ps(u, sign));
  }
  if constexpr (A == Activation::QuickGelu) {
    __m256 c = _mm256_set1_ps(-kQuickGelu);
    __m256 nz = _mm256_mul_ps(x, c);
    __m256 nzLo = _mm256_fmadd_ps(x, _mm256_set1_ps(-kQuickGeluLo),
                                  _mm256_fmsub_ps(x, c, nz));
    return timesSigmoid256(x, nz, nzLo);
  }
  if constexpr (A == Activation::Silu)
    return timesSigmoid256(x, _mm256_xor_ps(x, sign));
  if constexpr (A == Activation::Relu)
    return _mm256_max_ps(_mm256_setzero_ps(), x); // NaN passes through
  if constexpr (A == Activation::Tanh)
    return tanh256(x);
  return x;
}

/// C = act(C) on rows [0, rows) x columns [0, cols) of a strided C.
template <Activation A>
void activateRows256(float *c, int64_t rsC, int64_t csC, int64_t rows,
                     int64_t cols) {
  for (int64_t i = 0; i < rows; ++i) {
    float *ci = c + i * rsC;
    for (int64_t j = 0; j < cols; j += 8) {
      int64_t width = std::min<int64_t>(8, cols - j);
      if (csC == 1 && width == 8) {
        _mm256_storeu_ps(ci + j, activate256<A>(_mm256_loadu_ps(ci + j)));
      } else if (csC == 1) {
        __m256i mask = firstLanes8(width);
        _mm256_maskstore_ps(ci + j, mask,
                            activate256<A>(_mm256_maskload_ps(ci + j, mask)));
      } else {
        alignas(32) float v[8] = {};
        for (int64_t u = 0; u < width; ++u)
          v[u] = ci[(j + u) * csC];
        _mm256_store_ps(v, activate256<A>(_mm256_load_ps(v)));
        for (int64_t u = 0; u < width; ++u)
          ci[(j + u) * csC] = v[u];
      }
    }
  }
}

/// Calls f(std::integral_constant<Activation, A>()) for the activation `act`
/// (nothing for None): one instance of the caller's loop per activation.
template <typename F> void withActivation(Activation act, F &&f) {
  using std::integral_constant;
  switch (act) {
  case Activation::Gelu:
    return f(integral_constant<Activation, Activation::Gelu>());
  case Activation::GeluTanh:
    return f(integral_constant<Activation, Activation::GeluTanh>());
  case Activation::QuickGelu:
    return f(integral_constant<Activation, Activation::QuickGelu>());
  case Activation::Silu:
    return f(integral_constant<Activation, Activation::Silu>());
  case Activation::Relu:
    return f(integral_constant<Activation, Activation::Relu>());
  case Activation::Tanh:
    return f(integral_constant<Activation, Activation::Tanh>());
  default:
    return;
  }
}

/// C = act(C) on rows [0, rows) x columns [0, cols) of a strided C (256-bit).
void activateTile256(Activation act, float *c, int64_t rsC, int64_t csC,
                     int64_t rows, int64_t cols) {
  withActivation(act, [&](auto a) {
    activateRows256<decltype(a)::value>(c, rsC, csC, rows, cols);
  });
}

KILN_BEGIN_AVX512_CODE

KILN_AVX512_TARGET inline __m512 gelu512(__m512 x) {
  __m512 sign = _mm512_set1_ps(-0.0f), one = _mm512_set1_ps(kOne),
         half = _mm512_set1_ps(0.5f);
  __m512 z = _mm512_mul_ps(x, _mm512_set1_ps(-kRsqrt2));
  __m512 xx = _mm512_mul_ps(x, x);
  __m512 tHi = _mm512_mul_ps(xx, half),
         tLo = _mm512_mul_ps(_mm512_fmsub_ps(x, x, xx), half);
  __m512 e, r;
  erfcTail512(_mm512_andnot_ps(sign, z), tHi, tLo, e, r);
  __m512 erfc = _mm512_sub_ps(one, erfSmall512(z, tHi));
  erfc = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(z, half, _CMP_GE_OQ), erfc,
                              _mm512_mul_ps(e, r));
  erfc = _mm512_mask_blend_ps(
      _mm512_cmp_ps_mask(z, _mm512_set1_ps(-1.0f), _CMP_LE_OQ), erfc,
      _mm512_fnmadd_ps(e, r, _mm512_set1_ps(2.0f)));
  return _mm512_mul_ps(_mm512_mul_ps(x, half), erfc);
}

KILN_AVX512_TARGET inline __m512 timesSigmoid512(__m512 x, __m512 nz) {
  return _mm512_div_ps(
      x, _mm512_add_ps(_mm512_set1_ps(kOne), exp512<kExpMinimax>(nz)));
}

KILN_AVX512_TARGET inline __m512 timesSigmoid512(__m512 x, __m512 nz,
                                                 __m512 nzLo) {
  return _mm512_div_ps(
      x, _mm512_add_ps(_mm512_set1_ps(kOne), exp512<kExpMinimax>(nz, nzLo)));
}

template <Activation A> KILN_AVX512_TARGET inline __m512 activate512(__m512 x) {
  __m512 sign = _mm512_set1_ps(-0.0f);
  if constexpr (A == Activation::Gelu)
    return gelu512(x);
  if constexpr (A == Activation::GeluTanh) {
    __m512 u = _mm512_mul_ps(x, _mm512_fmadd_ps(_mm512_mul_ps(x, x),
                                                _mm512_set1_ps(kGeluTanhK2),
                                                _mm512_set1_ps(kGeluTanhK1)));
    return timesSigmoid512(x, _mm512_xor_ps(u, sign));
  }
  if constexpr (A == Activation::QuickGelu) {
    __m512 c = _mm512_set1_ps(-kQuickGelu);
    __m512 nz = _mm512_mul_ps(x, c);
    __m512 nzLo = _mm512_fmadd_ps(x, _mm512_set1_ps(-kQuickGeluLo),
                                  _mm512_fmsub_ps(x, c, nz));
    return timesSigmoid512(x, nz, nzLo);
  }
  if constexpr (A == Activation::Silu)
    return timesSigmoid512(x, _mm512_xor_ps(x, sign));
  if constexpr (A == Activation::Relu)
    return _mm512_max_ps(_mm512_setzero_ps(), x);
  if constexpr (A == Activation::Tanh)
    return tanh512(x);
  return x;
}

template <Activation A>
KILN_AVX512_TARGET void activateRows512(float *c, int64_t rsC, int64_t csC,
                                        int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; ++i) {
    float *ci = c + i * rsC;
    for (int64_t j = 0; j < cols; j += 16) {
      int64_t width = std::min<int64_t>(16, cols - j);
      __mmask16 mask = firstLanes16(width);
      if (csC == 1) {
        _mm512_mask_storeu_ps(
            ci + j, mask, activate512<A>(_mm512_maskz_loadu_ps(mask, ci + j)));
      } else {
        alignas(64) float v[16] = {};
        for (int64_t u = 0; u < width; ++u)
          v[u] = ci[(j + u) * csC];
        _mm512_store_ps(v, activate512<A>(_mm512_load_ps(v)));
        for (int64_t u = 0; u < width; ++u)
          ci[(j + u) * csC] = v[u];
      }
    }
  }
}

/// activateTile256 with 512-bit vectors (the same bits).
KILN_AVX512_TARGET void activateTile512(Activation act, float *c, int64_t rsC,
                                        int64_t csC, int64_t rows,
                                        int64_t cols) {
  withActivation(act, [&](auto a) {
    activateRows512<decltype(a)::value>(c, rsC, csC, rows, cols);
  });
}

/// C = act(C) on a strided matrix, with the active ISA's vectors.
void activateMatrix(Activation act, float *c, int64_t rsC, int64_t csC,
                    int64_t rows, int64_t cols) {
  if (act == Activation::None)
    return;
  if (useAvx512())
    activateTile512(act, c, rsC, csC, rows, cols);
  else
    activateTile256(act, c, rsC, csC, rows, cols);
}

void vectorMath256(VectorFunction f, const float *x, float *y, int64_t n) {
  for (int64_t i = 0; i < n; i += 8) {
    __m256i mask = firstLanes8(n - i);
    __m256 v = _mm256_maskload_ps(x + i, mask);
    v = f == VectorFunction::Exp   ? exp256<kExpMinimax>(v)
        : f == VectorFunction::Erf ? erf256(v)
                                   : tanh256(v);
    _mm256_maskstore_ps(y + i, mask, v);
  }
}

KILN_AVX512_TARGET void vectorMath512(VectorFunction f, const float *x,
                                      float *y, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    int64_t width = std::min<int64_t>(16, n - i);
    __mmask16 mask = firstLanes16(width);
    __m512 v = _mm512_maskz_loadu_ps(mask, x + i);
    v = f == VectorFunction::Exp   ? exp512<kExpMinimax>(v)
        : f == VectorFunction::Erf ? erf512(v)
                                   : tanh512(v);
    _mm512_mask_storeu_ps(y + i, mask, v);
  }
}

KILN_END_AVX512_CODE

//===----------------------------------------------------------------------===//
// Micro-kernel
//===----------------------------------------------------------------------===//

/// What a micro-kernel adds its sums to: the tile of C (C += sums), or, in
/// the first k block of a fused linear layer (`first`), the bias of the
/// tile's columns (`bias` at the tile's first column; zeros if null):
/// C = bias + sums, the same add as C += sums on C = bias.
struct TileStart {
  bool first = false;
  const float *bias = nullptr;
  /// The start of the tile `j` columns to the right.
  TileStart at(int64_t j) const { return {first, bias ? bias + j : nullptr}; }
};

/// Edge tiles (nValid < NR columns, or column-strided C): C[i][j] += sums
/// (or C = bias + sums) element by element from the tile of sums.
template <int MRows, int64_t NR>
void addTile(const float (&tile)[MRows][NR], float *c, int64_t rsC, int64_t csC,
             int64_t nValid, TileStart start) {
  for (int i = 0; i < MRows; ++i)
    for (int64_t j = 0; j < nValid; ++j) {
      float &cij = c[i * rsC + j * csC];
      float base = !start.first ? cij : start.bias ? start.bias[j] : 0.0f;
      cij = base + tile[i][j];
    }
}

/// C[0..MRows, 0..nValid) += Apanel * Bpanel over kc (or C = bias + ..., see
/// TileStart). Every element is one fma chain from zero over k, then added to
/// C (or to its bias), whatever MRows and nValid are.
/// The accumulators are named variables (not an array) so that the compiler
/// keeps all 12 in registers. Rows of the B panel are LDB floats apart: kNR
/// when packed here, 32 when reading half of a pre-packed 32-wide panel. B
/// loads are unaligned: pre-packed panels need not be 64-byte aligned (the
/// loads cost the same on aligned data).
template <int MRows, int64_t LDB>
void microKernel(int64_t kc, const float *__restrict a,
                 const float *__restrict b, float *c, int64_t rsC, int64_t csC,
                 int64_t nValid, TileStart start) {
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
    if (start.first) {
      __m256 bias0 = _mm256_setzero_ps(), bias1 = bias0;
      if (start.bias) {
        bias0 = _mm256_loadu_ps(start.bias);
        bias1 = _mm256_loadu_ps(start.bias + 8);
      }
      for (int i = 0; i < MRows; ++i) {
        float *ci = c + i * rsC;
        _mm256_storeu_ps(ci, _mm256_add_ps(bias0, acc[i][0]));
        _mm256_storeu_ps(ci + 8, _mm256_add_ps(bias1, acc[i][1]));
      }
      return;
    }
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
  addTile<MRows, kNR>(tile, c, rsC, csC, nValid, start);
}

template <int64_t LDB>
void runMicroKernel(int64_t mr, int64_t kc, const float *a, const float *b,
                    float *c, int64_t rsC, int64_t csC, int64_t nr,
                    TileStart start) {
  switch (mr) {
  case 6:
    return microKernel<6, LDB>(kc, a, b, c, rsC, csC, nr, start);
  case 5:
    return microKernel<5, LDB>(kc, a, b, c, rsC, csC, nr, start);
  case 4:
    return microKernel<4, LDB>(kc, a, b, c, rsC, csC, nr, start);
  case 3:
    return microKernel<3, LDB>(kc, a, b, c, rsC, csC, nr, start);
  case 2:
    return microKernel<2, LDB>(kc, a, b, c, rsC, csC, nr, start);
  default:
    return microKernel<1, LDB>(kc, a, b, c, rsC, csC, nr, start);
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
                  int64_t ldb, float *c, int64_t rsC, int64_t csC, int64_t nr,
                  TileStart start) {
    if (ldb == 32)
      return runMicroKernel<32>(mr, kc, a, b, c, rsC, csC, nr, start);
    runMicroKernel<kNR>(mr, kc, a, b, c, rsC, csC, nr, start);
  }
  /// C = act(C) on a tile (mr x nr) the micro-kernel just finished.
  static void activate(Activation act, float *c, int64_t rsC, int64_t csC,
                       int64_t mr, int64_t nr) {
    activateTile256(act, c, rsC, csC, mr, nr);
  }
};

//===----------------------------------------------------------------------===//
// AVX-512 micro-kernel (run-time selected)
//===----------------------------------------------------------------------===//

// 12 x 32 (24 zmm accumulators) measured faster than 8 x 32 and 14 x 32 on
// Zen 5 for M = 128 (gemm_bench).
constexpr int64_t kMR512 = KILN_GEMM_MR512; // rows of a micro-tile
constexpr int64_t kNR512 = 32;              // columns of a micro-tile (two zmm)

/// As microKernel, on a kMR512 x 32 block (2 * kMR512 zmm accumulators). The
/// per-element arithmetic is the same: one fma chain from zero over k, then
/// one add into C.
template <int MRows>
KILN_AVX512_TARGET void microKernel512(int64_t kc, const float *__restrict a,
                                       const float *__restrict b, float *c,
                                       int64_t rsC, int64_t csC, int64_t nValid,
                                       TileStart start) {
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
    if (start.first) {
      __m512 bias0 = _mm512_setzero_ps(), bias1 = bias0;
      if (start.bias) {
        bias0 = _mm512_maskz_loadu_ps(m0, start.bias);
        bias1 = _mm512_maskz_loadu_ps(m1, start.bias + 16);
      }
#pragma GCC unroll 16
      for (int i = 0; i < MRows; ++i) {
        float *ci = c + i * rsC;
        _mm512_mask_storeu_ps(ci, m0, _mm512_add_ps(bias0, acc0[i]));
        _mm512_mask_storeu_ps(ci + 16, m1, _mm512_add_ps(bias1, acc1[i]));
      }
      return;
    }
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
  addTile<MRows, kNR512>(tile, c, rsC, csC, nValid, start);
}

template <int MRows>
KILN_AVX512_TARGET void runMicroKernel512(int64_t mr, int64_t kc,
                                          const float *a, const float *b,
                                          float *c, int64_t rsC, int64_t csC,
                                          int64_t nr, TileStart start) {
  if constexpr (MRows > 1) {
    if (mr < MRows)
      return runMicroKernel512<MRows - 1>(mr, kc, a, b, c, rsC, csC, nr, start);
  }
  microKernel512<MRows>(kc, a, b, c, rsC, csC, nr, start);
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
                  int64_t nr, TileStart start) {
    runMicroKernel512<kMR512>(mr, kc, a, b, c, rsC, csC, nr, start);
  }
  static void activate(Activation act, float *c, int64_t rsC, int64_t csC,
                       int64_t mr, int64_t nr) {
    activateTile512(act, c, rsC, csC, mr, nr);
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

/// The micro-kernel on the tile at rows [i, i + mr), columns [j, j + nr) of
/// C for k in [pc, pc + kc), then, for a fused linear layer, the activation
/// if that was the tile's last k block (the tile is still in L1).
template <typename K>
inline void runTile(const Problem &p, int64_t i, int64_t j, int64_t mr,
                    int64_t nr, int64_t pc, int64_t kc, const float *a,
                    const float *b, int64_t ldb) {
  float *c = p.c + i * p.rsC + j * p.csC;
  TileStart start = TileStart{p.linear && pc == 0, p.bias}.at(j);
  K::run(mr, kc, a, b, ldb, c, p.rsC, p.csC, nr, start);
  if (p.act != Activation::None && pc + kc == p.k)
    K::activate(p.act, c, p.rsC, p.csC, mr, nr);
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
          runTile<K>(p, ir, jr, std::min<int64_t>(K::MR, p.m - ir), nr, pc, kc,
                     bufA + ir * kc, b, ldb);
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
            runTile<K>(p, ic + ir, jc + jr, std::min<int64_t>(K::MR, mc - ir),
                       nr, pc, kc, bufA + ir * kc, bBlock[jr / K::NR], ldb);
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
      if (p.bias)
        part.bias += begin;
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

/// One block of kn <= 8 values of k of streamContiguousN (ak, bk at its
/// first k): C += fma chain from zero, or C = bias + chain if First (`bias`
/// at column 0 of c; zeros if null).
template <int MRows, bool First>
inline void streamBlockN(int64_t n0, int64_t n1, int64_t kn, const float *ak,
                         const float *bk, int64_t rsB, float *c, int64_t rsC,
                         const float *bias) {
  constexpr int kVectors = MRows == 1 ? 8 : MRows == 2 ? 4 : 2;
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
        __m256 base = !First ? _mm256_loadu_ps(ci)
                      : bias ? _mm256_loadu_ps(bias + n + v * 8)
                             : _mm256_setzero_ps();
        _mm256_storeu_ps(ci, _mm256_add_ps(base, acc[i][v]));
      }
  }
  // Remaining columns, 8 (or fewer, masked) at a time: same arithmetic.
  for (; n < n1; n += 8) {
    int64_t width = std::min<int64_t>(8, n1 - n);
    __m256i mask = firstLanes8(width);
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
      __m256 base = !First ? _mm256_maskload_ps(ci, mask)
                    : bias ? _mm256_maskload_ps(bias + n, mask)
                           : _mm256_setzero_ps();
      _mm256_maskstore_ps(ci, mask, _mm256_add_ps(base, acc[i]));
    }
  }
}

/// B' rows contiguous along n (B [K, N]). aT holds A' as aT[k * MRows + i].
/// C rows are contiguous (c row i at c + i * rsC). Columns [n0, n1).
/// Per element: for each block of kKB values of k, C += fma chain from zero
/// (the first block of a fused linear layer: C = bias + chain, `start` at
/// column 0 of c).
template <int MRows>
void streamContiguousN(int64_t n0, int64_t n1, int64_t kTotal, const float *aT,
                       const float *b, int64_t rsB, float *c, int64_t rsC,
                       TileStart start = {}) {
  constexpr int64_t kKB = 8;
  for (int64_t kb = 0; kb < kTotal; kb += kKB) {
    int64_t kn = std::min(kKB, kTotal - kb);
    if (start.first && kb == 0)
      streamBlockN<MRows, true>(n0, n1, kn, aT, b, rsB, c, rsC, start.bias);
    else
      streamBlockN<MRows, false>(n0, n1, kn, aT + kb * MRows, b + kb * rsB, rsB,
                                 c, rsC, nullptr);
  }
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
      float sum = reduceAdd8(acc[i][g]);
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
  float *cCopy = nullptr;
  if (copyC) {
    cCopy = cCopyBuffer.get(MRows * p.n);
    for (int64_t i = 0; i < MRows; ++i)
      for (int64_t j = 0; j < p.n; ++j)
        cCopy[i * p.n + j] = p.c[i * p.rsC + j * p.csC];
    c = cCopy;
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
/// order (onto the bias instead of C if First, `bias` at the block's first
/// column; zeros if null). Out of line: inlined into its callers' loops it
/// was measured up to 25% slower (M = 1), as it happened to be for M = 3, 4.
template <int MRows, int G, int V, int U, bool First = false>
__attribute__((noinline)) void
streamPanelBlocks(int64_t kn, const float *aT, const float *b, int64_t ps,
                  int64_t w, float *c, int64_t rsC,
                  const float *bias = nullptr) {
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
        __m256 sum = !First ? _mm256_loadu_ps(ci)
                     : bias ? _mm256_loadu_ps(bias + g * w + v * 8)
                            : _mm256_setzero_ps();
        for (int u = 0; u < U; ++u)
          sum = _mm256_add_ps(sum, acc[u][i][g * V + v]);
        _mm256_storeu_ps(ci, sum);
      }
}

/// C[0..MRows, 0..G * w) += A' * G full panels of width w (a multiple of
/// 8V), panel g at b + g * ps (if Linear, C = bias + ..., `bias` at column 0
/// of c, zeros if null). Each panel is read once, in order.
template <int MRows, int G, int V, int U, bool Linear>
void streamPanelGroup(int64_t kTotal, const float *aT, const float *b,
                      int64_t ps, int64_t w, float *c, int64_t rsC,
                      const float *bias) {
  constexpr int64_t kKB = 8;
  int64_t kb = 0;
  if constexpr (Linear) {
    // The first iteration of the loops below, onto the bias.
    if (U * kKB <= kTotal) {
      for (int64_t n = 0; n < w; n += 8 * V)
        streamPanelBlocks<MRows, G, V, U, true>(kKB, aT, b + n, ps, w, c + n,
                                                rsC, bias ? bias + n : nullptr);
      kb = U * kKB;
    } else {
      for (int64_t n = 0; n < w; n += 8 * V)
        streamPanelBlocks<MRows, G, V, 1, true>(std::min(kKB, kTotal), aT,
                                                b + n, ps, w, c + n, rsC,
                                                bias ? bias + n : nullptr);
      kb = kKB;
    }
  }
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
/// A fused linear layer (Linear: C starts from `bias`, at column 0 of c)
/// gets the activation on each group of panels right after its last k block.
/// Linear is a template parameter, and each instance out of line, so that
/// the products' code stays as it was: with run-time checks, or inlined
/// into the caller with the other instances, M = 1 was measured 10% slower.
template <int MRows, int V, bool Linear = false>
__attribute__((noinline)) void
streamFullPanels(int64_t q0, int64_t q1, int64_t kTotal, const float *aT,
                 const float *panels, int64_t ps, int64_t w, float *c,
                 int64_t rsC, const float *bias = nullptr,
                 Activation act = Activation::None) {
  constexpr int kVectors = MRows == 1 ? 8 : MRows == 2 ? 4 : 2;
  constexpr int G = kVectors / V > 0 ? kVectors / V : 1;
  constexpr int U = 1;
  auto biasAt = [&](int64_t j) { return bias ? bias + j : nullptr; };
  int64_t q = q0;
  for (; q + G <= q1; q += G) {
    streamPanelGroup<MRows, G, V, U, Linear>(kTotal, aT, panels + q * ps, ps, w,
                                             c + q * w, rsC, biasAt(q * w));
    if (Linear && act != Activation::None)
      activateMatrix(act, c + q * w, rsC, 1, MRows, G * w);
  }
  for (; q < q1; ++q) { // left-over panels: the same accumulators, deeper in k
    streamPanelGroup<MRows, 1, V, U * G, Linear>(
        kTotal, aT, panels + q * ps, ps, w, c + q * w, rsC, biasAt(q * w));
    if (Linear && act != Activation::None)
      activateMatrix(act, c + q * w, rsC, 1, MRows, w);
  }
}

/// Products with m <= 4 on pre-packed panels: each panel is a contiguous
/// K x W row-major block, so B is read once, sequentially. Per element the
/// arithmetic is streamContiguousN's, so results equal gemmStreaming's on an
/// unpacked B [K, N]. Split over threads by panels. For a fused linear
/// layer, C starts from the bias and each group of panels gets the
/// activation after its last k block.
template <int MRows>
void gemmStreamingPanels(const Problem &p, int maxThreads) {
  float *aT = scratch.get(MRows * p.k);
  for (int64_t i = 0; i < MRows; ++i)
    for (int64_t l = 0; l < p.k; ++l)
      aT[l * MRows + i] = p.a[i * p.rsA + l * p.csA];
  // Column-strided C: accumulate into a contiguous copy (written from the
  // bias, not read, for a linear layer).
  bool copyC = p.csC != 1;
  float *c = p.c;
  int64_t rsC = p.rsC;
  float *cCopy = nullptr;
  if (copyC) {
    cCopy = cCopyBuffer.get(MRows * p.n);
    if (!p.linear)
      for (int64_t i = 0; i < MRows; ++i)
        for (int64_t j = 0; j < p.n; ++j)
          cCopy[i * p.n + j] = p.c[i * p.rsC + j * p.csC];
    c = cCopy;
    rsC = p.n;
  }
  int64_t w = p.panelWidth, ps = p.panelStride;
  int64_t panels = (p.n + w - 1) / w;
  int64_t fullPanels = p.n / w; // the last one may be partial
  TileStart start{p.linear, p.bias};
  Activation act = p.act;
  // One panel (or the partial one's `cols` columns) by streamContiguousN.
  auto runPanel = [&](int64_t q, int64_t cols) {
    streamContiguousN<MRows>(0, cols, p.k, aT, p.panels + q * ps, w, c + q * w,
                             rsC, start.at(q * w));
    if (act != Activation::None)
      activateMatrix(act, c + q * w, rsC, 1, MRows, cols);
  };
  // The full panels of [begin, end) with V vectors of a panel per k.
  auto runFull = [&](auto v, int64_t begin, int64_t end) {
    constexpr int V = decltype(v)::value;
    if (p.linear)
      streamFullPanels<MRows, V, true>(begin, end, p.k, aT, p.panels, ps, w, c,
                                       rsC, p.bias, act);
    else
      streamFullPanels<MRows, V>(begin, end, p.k, aT, p.panels, ps, w, c, rsC);
  };
  using std::integral_constant;
  auto run = [&](int64_t begin, int64_t end) {
    int64_t endFull = std::min(end, fullPanels);
    if (begin < endFull) {
      // 32 columns of a panel per k: measured faster for one row only.
      if (MRows == 1 && w % 32 == 0)
        runFull(integral_constant < int, MRows == 1 ? 4 : 2 > (), begin,
                endFull);
      else if (w % 16 == 0)
        runFull(integral_constant<int, 2>(), begin, endFull);
      else if (w % 8 == 0)
        runFull(integral_constant<int, 1>(), begin, endFull);
      else
        for (int64_t q = begin; q < endFull; ++q)
          runPanel(q, w);
    }
    if (endFull < end) // the partial panel: its valid columns
      runPanel(endFull, p.n - endFull * w);
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

#endif // KILN_KERNELS_AVX2

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

/// A linear layer as three passes over `out`: the broadcast bias (zeros if
/// null), `accumulate` (out += the product), the activation. For the shapes
/// and layouts the fused kernels do not cover; the same bits.
template <typename F>
void linearByPasses(int64_t m, int64_t n, const float *bias, Activation act,
                    float *out, int64_t rsOut, int64_t csOut, F &&accumulate) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      out[i * rsOut + j * csOut] = bias ? bias[j] : 0.0f;
  accumulate();
  activateMatrix(act, out, rsOut, csOut, m, n);
}

bool isActivation(int64_t code) {
  return code >= static_cast<int64_t>(Activation::None) &&
         code <= static_cast<int64_t>(Activation::Tanh);
}

} // namespace

bool kiln::kernels::detail::reserveGemmScratch(const ScratchSizes &sizes) {
  if (sizes.gemmDepth <= 0 && sizes.gemmWidth <= 0)
    return true;
  // Products with at most 4 rows (or, transposed, columns) copy 4 rows of
  // A' and of C; narrow B' spans at most 4 columns.
  int64_t depth = std::max<int64_t>(sizes.gemmDepth, 1);
  int64_t width = std::max<int64_t>(sizes.gemmWidth, 1);
  bool reserved = panelCopy.reserve(4 * depth) && biasCopy.reserve(width);
#if KILN_KERNELS_AVX2
  reserved = reserved && packedA.reserve(kMC * kKC) &&
             packedB.reserve(kNC * kKC) && scratch.reserve(4 * depth) &&
             cCopyBuffer.reserve(4 * width);
#endif
  return reserved;
}

namespace kiln {
namespace kernels {

#if KILN_KERNELS_AVX2
void setIsaForTesting(GemmIsa choice) { isa.set(choice); }

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
    failKernel(kiln::contract::kMatmulPanelsKernel,
               "panel width must be positive");
#if !KILN_KERNELS_AVX2
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
    float *b = panelCopy.get(k * n);
    for (int64_t l = 0; l < k; ++l)
      for (int64_t j = 0; j < n; ++j)
        b[l * n + j] = panels[j / panelWidth * panelStride + l * panelWidth +
                              j % panelWidth];
    return sgemm(m, n, k, a, rsA, csA, b, n, 1, c, rsC, csC, maxThreads);
  }
  Problem p{m, n, k, a, rsA, csA, nullptr, 0, 0, c, rsC, csC};
  p.panels = panels;
  p.panelWidth = panelWidth;
  p.panelStride = panelStride;
  gemm(p, maxThreads);
#endif
}

void linearPanels(int64_t m, int64_t n, int64_t k, const float *a, int64_t rsA,
                  int64_t csA, const float *panels, int64_t panelWidth,
                  int64_t panelStride, const float *bias, Activation act,
                  float *out, int64_t rsOut, int64_t csOut, int maxThreads) {
  const char *function = kiln::contract::kLinearPanelsKernel;
  if (!isActivation(static_cast<int64_t>(act)))
    failKernel(function, "unknown activation");
  if (m <= 0 || n <= 0)
    return;
  if (panelWidth <= 0)
    failKernel(function, "panel width must be positive");
#if KILN_KERNELS_AVX2
  // N <= 4: sgemmPanels hands these to sgemm, which transposes them (see
  // there); they are too narrow for a fused epilogue to matter.
  if (k > 0 && n > 4) {
    Problem p{m, n, k, a, rsA, csA, nullptr, 0, 0, out, rsOut, csOut};
    p.panels = panels;
    p.panelWidth = panelWidth;
    p.panelStride = panelStride;
    p.linear = true;
    p.bias = bias;
    p.act = act;
    return gemm(p, maxThreads);
  }
#endif
  linearByPasses(m, n, bias, act, out, rsOut, csOut, [&] {
    sgemmPanels(m, n, k, a, rsA, csA, panels, panelWidth, panelStride, out,
                rsOut, csOut, maxThreads);
  });
}

void applyActivation(Activation act, float *x, int64_t n) {
  if (!isActivation(static_cast<int64_t>(act)))
    failKernel("applyActivation", "unknown activation");
  if (n > 0)
    activateMatrix(act, x, n, 1, 1, n);
}

void vectorMathForTesting(VectorFunction f, const float *x, float *y,
                          int64_t n) {
#if KILN_KERNELS_AVX2
  if (useAvx512())
    vectorMath512(f, x, y, n);
  else
    vectorMath256(f, x, y, n);
#else
  for (int64_t i = 0; i < n; ++i)
    y[i] = f == VectorFunction::Exp   ? std::exp(x[i])
           : f == VectorFunction::Erf ? std::erf(x[i])
                                      : std::tanh(x[i]);
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
    failKernel(function, "null memref descriptor");
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
    failKernel(function, message);
  }
  if (m > 0 && n > 0 && k > 0 && (!a->aligned || !b->aligned || !c->aligned))
    failKernel(function, "null data pointer");
}

} // namespace

extern "C" void _mlir_ciface_kiln_matmul_f32(KilnMemRef<2> *a, KilnMemRef<2> *b,
                                             KilnMemRef<2> *c,
                                             int64_t transposeA,
                                             int64_t transposeB) {
  int64_t m, n, k;
  checkedShape(kiln::contract::kMatmulKernel, a, b, c, transposeA, transposeB,
               m, n, k);
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
  const char *function = kiln::contract::kBatchMatmulKernel;
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
    failKernel(function, message);
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

namespace {

/// A product with B' in panels, from checked descriptors.
struct PanelShape {
  int64_t m, n, k, w, panels;
  // A'(i, l) = a[i * rsA + l * csA].
  int64_t rsA, csA;
  // Contiguous K x W panels (`panelStride` apart) that the kernels read in
  // place; else panel q at base + q * strides[0], rows strides[1] apart,
  // columns strides[2] apart.
  bool inPlace;
  int64_t panelStride;
};

/// M, N, K and the panel layout of A' [M, K] times B' [K, N] in panels
/// [P, K, W] into C [M, N], or an abort naming the mismatch.
PanelShape checkedPanelShape(const char *function, const KilnMemRef<2> *a,
                             const KilnMemRef<3> *bPanels,
                             const KilnMemRef<2> *c, int64_t transposeA) {
  if (!a || !bPanels || !c)
    failKernel(function, "null memref descriptor");
  PanelShape q;
  q.m = transposeA ? a->sizes[1] : a->sizes[0];
  q.k = transposeA ? a->sizes[0] : a->sizes[1];
  q.n = c->sizes[1];
  q.panels = bPanels->sizes[0];
  q.w = bPanels->sizes[2];
  int64_t kB = bPanels->sizes[1];
  if (q.m < 0 || q.n < 0 || q.k < 0 || q.w < 1 || kB != q.k ||
      c->sizes[0] != q.m || q.panels != (q.n + q.w - 1) / q.w) {
    char message[512];
    std::snprintf(
        message, sizeof(message),
        "shapes do not agree: A [%lld, %lld]%s, B panels [%lld, %lld, %lld], "
        "C [%lld, %lld] (M %lld, K %lld, N %lld: needs ceil(N / W) panels of "
        "K x W, W >= 1)",
        static_cast<long long>(a->sizes[0]),
        static_cast<long long>(a->sizes[1]), transposeA ? " transposed" : "",
        static_cast<long long>(q.panels), static_cast<long long>(kB),
        static_cast<long long>(q.w), static_cast<long long>(c->sizes[0]),
        static_cast<long long>(q.n), static_cast<long long>(q.m),
        static_cast<long long>(q.k), static_cast<long long>(q.n));
    failKernel(function, message);
  }
  q.rsA = transposeA ? a->strides[1] : a->strides[0];
  q.csA = transposeA ? a->strides[0] : a->strides[1];
  const int64_t *s = bPanels->strides;
  // The layout the kernels read in place: contiguous K x W panels (the stride
  // of a size-1 axis does not matter).
  bool contiguousRows = (q.w == 1 || s[2] == 1) && (q.k == 1 || s[1] == q.w);
  bool separatePanels = q.panels == 1 || s[0] >= q.k * q.w;
  q.inPlace = contiguousRows && separatePanels;
  q.panelStride = q.panels == 1 ? q.k * q.w : s[0];
  return q;
}

} // namespace

extern "C" void _mlir_ciface_kiln_matmul_panels_f32(KilnMemRef<2> *a,
                                                    KilnMemRef<3> *bPanels,
                                                    KilnMemRef<2> *c,
                                                    int64_t transposeA) {
  const char *function = kiln::contract::kMatmulPanelsKernel;
  PanelShape q = checkedPanelShape(function, a, bPanels, c, transposeA);
  if (q.m == 0 || q.n == 0 || q.k == 0)
    return;
  if (!a->aligned || !bPanels->aligned || !c->aligned)
    failKernel(function, "null data pointer");
  const float *aData = a->aligned + a->offset;
  const float *base = bPanels->aligned + bPanels->offset;
  float *cData = c->aligned + c->offset;
  const int64_t *s = bPanels->strides;
  if (q.inPlace)
    kiln::kernels::sgemmPanels(q.m, q.n, q.k, aData, q.rsA, q.csA, base, q.w,
                               q.panelStride, cData, c->strides[0],
                               c->strides[1]);
  else
    sgemmPanelSlices(q.m, q.n, q.k, aData, q.rsA, q.csA, base, q.w, s[0], s[1],
                     s[2], cData, c->strides[0], c->strides[1], 0);
}

extern "C" void
_mlir_ciface_kiln_linear_panels_f32(KilnMemRef<2> *a, KilnMemRef<3> *bPanels,
                                    KilnMemRef<1> *bias, KilnMemRef<2> *out,
                                    int64_t transposeA, int64_t hasBias,
                                    int64_t activation) {
  const char *function = kiln::contract::kLinearPanelsKernel;
  PanelShape q = checkedPanelShape(function, a, bPanels, out, transposeA);
  char message[256];
  if (!isActivation(activation)) {
    std::snprintf(message, sizeof(message),
                  "unknown activation code %lld (0 to 6)",
                  static_cast<long long>(activation));
    failKernel(function, message);
  }
  if (hasBias && !bias)
    failKernel(function, "null memref descriptor");
  if (hasBias && bias->sizes[0] != q.n) {
    std::snprintf(
        message, sizeof(message), "shapes do not agree: bias [%lld] for N %lld",
        static_cast<long long>(bias->sizes[0]), static_cast<long long>(q.n));
    failKernel(function, message);
  }
  if (q.m == 0 || q.n == 0)
    return;
  if (!out->aligned || (hasBias && !bias->aligned) ||
      (q.k > 0 && (!a->aligned || !bPanels->aligned)))
    failKernel(function, "null data pointer");
  // A strided bias (N floats): a contiguous copy.
  const float *biasData = nullptr;
  if (hasBias) {
    biasData = bias->aligned + bias->offset;
    if (bias->strides[0] != 1 && q.n > 1) {
      float *copy = biasCopy.get(q.n);
      for (int64_t j = 0; j < q.n; ++j)
        copy[j] = biasData[j * bias->strides[0]];
      biasData = copy;
    }
  }
  auto act = static_cast<Activation>(activation);
  float *outData = out->aligned + out->offset;
  if (q.k == 0) {
    kiln::kernels::linearPanels(q.m, q.n, 0, nullptr, q.rsA, q.csA, nullptr,
                                q.w, q.panelStride, biasData, act, outData,
                                out->strides[0], out->strides[1]);
    return;
  }
  const float *aData = a->aligned + a->offset;
  const float *base = bPanels->aligned + bPanels->offset;
  const int64_t *s = bPanels->strides;
  if (q.inPlace)
    kiln::kernels::linearPanels(q.m, q.n, q.k, aData, q.rsA, q.csA, base, q.w,
                                q.panelStride, biasData, act, outData,
                                out->strides[0], out->strides[1]);
  else
    linearByPasses(q.m, q.n, biasData, act, outData, out->strides[0],
                   out->strides[1], [&] {
                     sgemmPanelSlices(q.m, q.n, q.k, aData, q.rsA, q.csA, base,
                                      q.w, s[0], s[1], s[2], outData,
                                      out->strides[0], out->strides[1], 0);
                   });
}

namespace kiln {
namespace kernels {

void packPanels(int64_t k, int64_t n, const float *b, int64_t rsB, int64_t csB,
                int64_t panelWidth, float *panels, int64_t panelStride,
                int64_t rowStride) {
  const int64_t count = (n + panelWidth - 1) / panelWidth;
  // One panel per task: each reads its W columns of B row by row (W
  // streams) and writes one contiguous K x W block.
  ThreadPool::global().parallelFor(count, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const int64_t n0 = p * panelWidth;
      const int64_t width = std::min(panelWidth, n - n0);
      float *panel = panels + p * panelStride;
      for (int64_t kk = 0; kk < k; ++kk) {
        float *row = panel + kk * rowStride;
        const float *src = b + kk * rsB + n0 * csB;
        if (csB == 1)
          std::memcpy(row, src, static_cast<size_t>(width) * sizeof(float));
        else
          for (int64_t j = 0; j < width; ++j)
            row[j] = src[j * csB];
        for (int64_t j = width; j < panelWidth; ++j)
          row[j] = 0.0f;
      }
    }
  });
}

} // namespace kernels
} // namespace kiln

extern "C" void _mlir_ciface_kiln_pack_panels_f32(KilnMemRef<2> *weight,
                                                  KilnMemRef<3> *panels,
                                                  int64_t inOut) {
  const char *function = kiln::contract::kPackPanelsKernel;
  if (!weight || !panels)
    failKernel(function, "null memref descriptor");
  // B [K, N] is the weight read as the product reads it: [in, out] as is,
  // [out, in] transposed.
  int64_t k = weight->sizes[inOut ? 0 : 1], n = weight->sizes[inOut ? 1 : 0];
  int64_t rsB = weight->strides[inOut ? 0 : 1];
  int64_t csB = weight->strides[inOut ? 1 : 0];
  int64_t w = panels->sizes[2];
  if (w < 1 || panels->sizes[1] != k || panels->sizes[0] != (n + w - 1) / w ||
      panels->strides[2] != 1) {
    char message[256];
    std::snprintf(message, sizeof(message),
                  "shapes do not agree: weight [%lld, %lld]%s, panels [%lld, "
                  "%lld, %lld] (contiguous rows expected)",
                  static_cast<long long>(weight->sizes[0]),
                  static_cast<long long>(weight->sizes[1]),
                  inOut ? " [in, out]" : " [out, in]",
                  static_cast<long long>(panels->sizes[0]),
                  static_cast<long long>(panels->sizes[1]),
                  static_cast<long long>(panels->sizes[2]));
    failKernel(function, message);
  }
  if (k == 0 || n == 0)
    return;
  kiln::kernels::packPanels(k, n, weight->aligned + weight->offset, rsB, csB, w,
                            panels->aligned + panels->offset,
                            panels->strides[0], panels->strides[1]);
}
