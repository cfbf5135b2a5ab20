//===- VectorMath.h - The kernels' AVX2 and AVX-512 vector math -*- C++ -*-===//
//
// The vector building blocks of the GEMM, attention and norm kernels, in one
// place: lane masks, horizontal reductions in a fixed order, and exp, erf,
// erfc and tanh. Each function has a 256-bit (AVX2) and a 512-bit (AVX-512)
// version that perform the same operations lane by lane, so both give the
// same bits: a kernel family may run either ISA and stay bit-identical.
// Products are explicit fmas, or feed no add, so that the compiler cannot
// contract one version and not the other. Internal to runtime/kernels/.
//
// Compiled with -mavx2 -mfma (x86-64, see runtime/CMakeLists.txt) this header
// defines KILN_KERNELS_AVX2 to 1; the 512-bit functions are compiled for
// AVX-512 through target attributes (KILN_AVX512_TARGET), so a library built
// with them still runs on AVX2-only CPUs as long as the caller checks the CPU
// first (IsaChoice, KernelSupport.h). Elsewhere nothing below is defined and
// the kernels use their portable scalar paths.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_KERNELS_VECTORMATH_H
#define KILN_RUNTIME_KERNELS_VECTORMATH_H

#include <algorithm>
#include <cstdint>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define KILN_KERNELS_AVX2 1
#else
#define KILN_KERNELS_AVX2 0
#endif

/// Marks a function compiled for AVX-512, called only where the CPU has it.
#define KILN_AVX512_TARGET                                                     \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))

// GCC 12's unmasked AVX-512 intrinsics (max, casts, ...) pass a
// self-initialized _mm512_undefined_ps() that -Wmaybe-uninitialized reports:
// AVX-512 code goes between these two.
#if defined(__GNUC__) && !defined(__clang__)
#define KILN_BEGIN_AVX512_CODE                                                 \
  _Pragma("GCC diagnostic push")                                               \
      _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
#define KILN_END_AVX512_CODE _Pragma("GCC diagnostic pop")
#else
#define KILN_BEGIN_AVX512_CODE
#define KILN_END_AVX512_CODE
#endif

namespace kiln {
namespace kernels {
namespace detail {

//===----------------------------------------------------------------------===//
// Constants of the functions
//===----------------------------------------------------------------------===//
//
// The polynomials are minimax fits of the relative error (Remez, each
// coefficient refit after rounding the previous ones to float) unless said
// otherwise; their error before rounding of the arithmetic is given with
// each. Measured against double over every float in [-10, 10] (both ISAs,
// the same bits): erf 1.32 ulp, tanh 1.33 ulp, exp 0.98 ulp (kExpMinimax).
// GemmTest's GemmLinearMath tests check these on a dense sweep.

inline constexpr float kOne = 1.0f;

// exp(x) = 2^n exp(r), x = n ln2 + r, |r| <= ln2 / 2 (ln2 in two parts, n *
// kLn2Hi exact), exp(r) = 1 + r + r^2 Q(r). x is clamped to [ln FLT_MIN, 88]
// (NaN passes through); results below FLT_MIN are 0, and so is exp(-inf).
inline constexpr float kExpLow = -87.3365448f; // ln(FLT_MIN)
inline constexpr float kExpHigh = 88.0f;
inline constexpr float kLog2e = 1.44269504f;
inline constexpr float kLn2Hi = 0.693359375f;
inline constexpr float kLn2Lo = -2.12194440e-4f;

/// Q of exp(r) = 1 + r + r^2 Q(r): Q(r) = c[0] + c[1] r + ... + c[5] r^5.
struct ExpPolynomial {
  float c[6];
};
/// Minimax (fit error 4e-10): the activations of fused linear layers.
inline constexpr ExpPolynomial kExpMinimax = {{0.5f, 0.166666478f,
                                               0.0416664816f, 0.00833787955f,
                                               0.0013933318f, 0.000173278313f}};
/// Cephes' expf, to about 1 ulp: attention's softmax.
inline constexpr ExpPolynomial kExpCephes = {
    {5.0000001201e-1f, 1.6666665459e-1f, 4.1665795894e-2f, 8.3334519073e-3f,
     1.3981999507e-3f, 1.9875691500e-4f}};

// erf(z) = z (c0 + t P(t)), t = z^2, for |z| < 1, c0 = 2 / sqrt(pi) in two
// parts so that erf is accurate to the last bit near 0 (fit error 1.5e-9).
inline constexpr float kErfC0Hi = 1.12837923f;
inline constexpr float kErfC0Lo = -5.86353828e-08f;
inline constexpr float kErfP[6] = {-0.376126289f,    0.112836033f,
                                   -0.0268542022f,   0.0051885983f,
                                   -0.000800939859f, 7.8425488e-05f};

// erfc(a) = exp(-a^2) R(a) for a >= 0.5, R(a) = u P(u), u = 1 / (1 + p a),
// fitted on [0.5, 9.5] (fit error 1.6e-8; beyond 9.35 exp(-a^2) is 0). With
// a^2 in two parts (exact), erfc keeps its relative accuracy far into the
// tail: gelu of large negative x has no cancellation.
inline constexpr float kErfcP = 0.455f;
inline constexpr float kErfcMax = 9.5f;
inline constexpr float kErfcR[8] = {0.256679714f, 0.257333606f,    0.223859459f,
                                    0.211634427f, -0.00945517048f, 0.263873219f,
                                    -0.28649649f, 0.0826095417f};

// tanh(x) = x + x t P(t), t = x^2, for |x| < 0.625 (fit error 4.5e-9), else
// sign(x) (1 - 2 / (exp(2|x|) + 1)).
inline constexpr float kTanhSmall = 0.625f;
inline constexpr float kTanhP[5] = {-0.333332807f, 0.133314058f, -0.0537365153f,
                                    0.0206281673f, -0.00569229666f};

#if KILN_KERNELS_AVX2

//===----------------------------------------------------------------------===//
// 256-bit (AVX2)
//===----------------------------------------------------------------------===//

/// Lanes [0, n) of 8 set (n clamped to [0, 8]).
inline __m256i firstLanes8(int64_t n) {
  n = std::min<int64_t>(std::max<int64_t>(n, 0), 8);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// Sum of 8 lanes in a fixed order: halves (lane j += j + 4), pairs
/// (j += j + 2), then the last two.
inline float reduceAdd8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/// Maximum of 8 lanes (exact: the order does not matter).
inline float reduceMax8(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/// Sum of 4 double lanes: halves (lane j += j + 2), then the last two.
inline double reduceAdd4(__m256d v) {
  __m128d s =
      _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
  return _mm_cvtsd_f64(s);
}

/// exp(x + xLo) with polynomial P; xLo (HasLo) is a correction of x far
/// below its last bit, added to the reduced argument, where it is not lost.
template <const ExpPolynomial &P, bool HasLo>
inline __m256 expWithLo256(__m256 x, __m256 xLo) {
  __m256 low = _mm256_set1_ps(kExpLow);
  __m256 under = _mm256_cmp_ps(x, low, _CMP_LT_OQ);
  // Operand order propagates NaN.
  x = _mm256_min_ps(_mm256_set1_ps(kExpHigh), _mm256_max_ps(low, x));
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  if constexpr (HasLo)
    r = _mm256_add_ps(r, xLo);
  __m256 y = _mm256_set1_ps(P.c[5]);
  for (int i = 4; i >= 0; --i)
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(P.c[i]));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), r);
  y = _mm256_add_ps(y, _mm256_set1_ps(kOne));
  // 2^n from its exponent bits: n is in [-126, 127].
  __m256i e = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(under, _mm256_mul_ps(y, _mm256_castsi256_ps(e)));
}

/// exp(x) with polynomial P.
template <const ExpPolynomial &P> inline __m256 exp256(__m256 x) {
  return expWithLo256<P, false>(x, x);
}

/// exp(x + xLo) with polynomial P (see expWithLo256).
template <const ExpPolynomial &P> inline __m256 exp256(__m256 x, __m256 xLo) {
  return expWithLo256<P, true>(x, xLo);
}

/// erf(z) for |z| < 1, t = z^2.
inline __m256 erfSmall256(__m256 z, __m256 t) {
  __m256 q = _mm256_set1_ps(kErfP[5]);
  for (int i = 4; i >= 0; --i)
    q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(kErfP[i]));
  q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(kErfC0Lo));
  return _mm256_fmadd_ps(z, _mm256_set1_ps(kErfC0Hi), _mm256_mul_ps(z, q));
}

/// erfc(a) = e * r for a >= 0.5, tHi + tLo = a^2: returned as two factors so
/// that 1 - erfc and 2 - erfc are single fmas.
inline void erfcTail256(__m256 a, __m256 tHi, __m256 tLo, __m256 &e,
                        __m256 &r) {
  __m256 sign = _mm256_set1_ps(-0.0f);
  e = exp256<kExpMinimax>(_mm256_xor_ps(tHi, sign), _mm256_xor_ps(tLo, sign));
  __m256 ac = _mm256_min_ps(a, _mm256_set1_ps(kErfcMax)); // NaN: kErfcMax
  __m256 u = _mm256_div_ps(
      _mm256_set1_ps(kOne),
      _mm256_fmadd_ps(_mm256_set1_ps(kErfcP), ac, _mm256_set1_ps(kOne)));
  __m256 p = _mm256_set1_ps(kErfcR[7]);
  for (int i = 6; i >= 0; --i)
    p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(kErfcR[i]));
  r = _mm256_mul_ps(p, u);
}

inline __m256 erf256(__m256 z) {
  __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(kOne);
  __m256 a = _mm256_andnot_ps(sign, z);
  __m256 tHi = _mm256_mul_ps(z, z), tLo = _mm256_fmsub_ps(z, z, tHi);
  __m256 e, r;
  erfcTail256(a, tHi, tLo, e, r);
  // The sign of z on either branch: -0 stays -0.
  __m256 v = _mm256_blendv_ps(_mm256_fnmadd_ps(e, r, one), erfSmall256(z, tHi),
                              _mm256_cmp_ps(a, one, _CMP_LT_OQ));
  return _mm256_or_ps(v, _mm256_and_ps(z, sign));
}

inline __m256 tanh256(__m256 x) {
  __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(kOne);
  __m256 a = _mm256_andnot_ps(sign, x);
  __m256 t = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(kTanhP[4]);
  for (int i = 3; i >= 0; --i)
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(kTanhP[i]));
  __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(x, t), p, x);
  __m256 big = _mm256_add_ps(exp256<kExpMinimax>(_mm256_add_ps(a, a)), one);
  big = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), big));
  __m256 v = _mm256_blendv_ps(
      big, small, _mm256_cmp_ps(a, _mm256_set1_ps(kTanhSmall), _CMP_LT_OQ));
  return _mm256_or_ps(v, _mm256_and_ps(x, sign));
}

//===----------------------------------------------------------------------===//
// 512-bit (AVX-512, run-time selected)
//===----------------------------------------------------------------------===//
//
// The same operations in the same order as the 256-bit versions, with masks
// for the compares.

KILN_BEGIN_AVX512_CODE

/// Lanes [0, n) of 16 set (n clamped to [0, 16]).
KILN_AVX512_TARGET inline __mmask16 firstLanes16(int64_t n) {
  return n >= 16 ? 0xFFFF : n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1);
}

/// reduceAdd8 of the sum of the two halves (lane j += j + 8 first).
KILN_AVX512_TARGET inline float reduceAdd16(__m512 v) {
  return reduceAdd8(
      _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}

/// Maximum of 16 lanes.
KILN_AVX512_TARGET inline float reduceMax16(__m512 v) {
  return reduceMax8(
      _mm256_max_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}

/// reduceAdd4 of the sum of the two halves (lane j += j + 4 first).
KILN_AVX512_TARGET inline double reduceAdd8(__m512d v) {
  return reduceAdd4(
      _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1)));
}

template <const ExpPolynomial &P, bool HasLo>
KILN_AVX512_TARGET inline __m512 expWithLo512(__m512 x, __m512 xLo) {
  __m512 low = _mm512_set1_ps(kExpLow);
  __mmask16 under = _mm512_cmp_ps_mask(x, low, _CMP_LT_OQ);
  x = _mm512_min_ps(_mm512_set1_ps(kExpHigh), _mm512_max_ps(low, x));
  __m512 n =
      _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), r);
  if constexpr (HasLo)
    r = _mm512_add_ps(r, xLo);
  __m512 y = _mm512_set1_ps(P.c[5]);
  for (int i = 4; i >= 0; --i)
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(P.c[i]));
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(r, r), r);
  y = _mm512_add_ps(y, _mm512_set1_ps(kOne));
  __m512i e = _mm512_slli_epi32(
      _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_maskz_mov_ps(static_cast<__mmask16>(~under),
                             _mm512_mul_ps(y, _mm512_castsi512_ps(e)));
}

template <const ExpPolynomial &P>
KILN_AVX512_TARGET inline __m512 exp512(__m512 x) {
  return expWithLo512<P, false>(x, x);
}

template <const ExpPolynomial &P>
KILN_AVX512_TARGET inline __m512 exp512(__m512 x, __m512 xLo) {
  return expWithLo512<P, true>(x, xLo);
}

KILN_AVX512_TARGET inline __m512 erfSmall512(__m512 z, __m512 t) {
  __m512 q = _mm512_set1_ps(kErfP[5]);
  for (int i = 4; i >= 0; --i)
    q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(kErfP[i]));
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(kErfC0Lo));
  return _mm512_fmadd_ps(z, _mm512_set1_ps(kErfC0Hi), _mm512_mul_ps(z, q));
}

KILN_AVX512_TARGET inline void erfcTail512(__m512 a, __m512 tHi, __m512 tLo,
                                           __m512 &e, __m512 &r) {
  __m512 sign = _mm512_set1_ps(-0.0f);
  e = exp512<kExpMinimax>(_mm512_xor_ps(tHi, sign), _mm512_xor_ps(tLo, sign));
  __m512 ac = _mm512_min_ps(a, _mm512_set1_ps(kErfcMax));
  __m512 u = _mm512_div_ps(
      _mm512_set1_ps(kOne),
      _mm512_fmadd_ps(_mm512_set1_ps(kErfcP), ac, _mm512_set1_ps(kOne)));
  __m512 p = _mm512_set1_ps(kErfcR[7]);
  for (int i = 6; i >= 0; --i)
    p = _mm512_fmadd_ps(p, u, _mm512_set1_ps(kErfcR[i]));
  r = _mm512_mul_ps(p, u);
}

KILN_AVX512_TARGET inline __m512 erf512(__m512 z) {
  __m512 sign = _mm512_set1_ps(-0.0f), one = _mm512_set1_ps(kOne);
  __m512 a = _mm512_andnot_ps(sign, z);
  __m512 tHi = _mm512_mul_ps(z, z), tLo = _mm512_fmsub_ps(z, z, tHi);
  __m512 e, r;
  erfcTail512(a, tHi, tLo, e, r);
  __m512 v =
      _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, one, _CMP_LT_OQ),
                           _mm512_fnmadd_ps(e, r, one), erfSmall512(z, tHi));
  return _mm512_or_ps(v, _mm512_and_ps(z, sign));
}

KILN_AVX512_TARGET inline __m512 tanh512(__m512 x) {
  __m512 sign = _mm512_set1_ps(-0.0f), one = _mm512_set1_ps(kOne);
  __m512 a = _mm512_andnot_ps(sign, x);
  __m512 t = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(kTanhP[4]);
  for (int i = 3; i >= 0; --i)
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(kTanhP[i]));
  __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(x, t), p, x);
  __m512 big = _mm512_add_ps(exp512<kExpMinimax>(_mm512_add_ps(a, a)), one);
  big = _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f), big));
  __m512 v = _mm512_mask_blend_ps(
      _mm512_cmp_ps_mask(a, _mm512_set1_ps(kTanhSmall), _CMP_LT_OQ), big,
      small);
  return _mm512_or_ps(v, _mm512_and_ps(x, sign));
}

KILN_END_AVX512_CODE

#endif // KILN_KERNELS_AVX2

} // namespace detail
} // namespace kernels
} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_VECTORMATH_H
