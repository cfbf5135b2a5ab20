//===- Attention.cpp - Fused fp32 attention kernel ------------------------===//
//
// See Attention.h. Layout of this file:
//   - the row-group kernels, one per instruction set: for up to kRows query
//     rows and one packed key tile, scores (Q K^T), the online-softmax update
//     and P V into the output accumulator,
//   - the generic driver: query blocks, key tiles, packing, masks, the split
//     over the thread pool,
//   - the MLIR C-interface entry points.
//
// Tiling. A work item is (batch, head, block of up to kBQ query rows). For
// each tile of up to kBK keys that some row of the block can see, K is packed
// transposed as [D][kBK] so that a row's scores are FMAs along the keys, and
// groups of kRows query rows run the row-group kernel: scores in registers
// (kRows x 64 keys), scaled and biased, then per row the new running max m,
// alpha = exp(m_old - m), P = exp(S - m), l = l * alpha + sum(P), and acc =
// acc * alpha + P V (FMAs along Dv). At the end O = acc / l. Q, V and bias
// rows are read in place (copied only when their elements are strided; a
// bias broadcast over the keys is such a case).
//
// Summation order. A score is an fma chain over D from zero, then a multiply
// by the scale (with a bias: one fma of the scale and the bias); each row sum
// adds the 16-key chunks of a tile lane-wise, then reduces 16 lanes in a fixed
// tree; acc is rescaled, then gets an fma chain over the tile's keys in order.
// All of it depends only on the tiling, which depends only on the shape:
// bit-identical results for any team size, and for the AVX2 and AVX-512 kernels
// (which use the same exp, VectorMath.h's with Cephes' polynomial, and the same
// orders).
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/Attention.h"
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
using kiln::kernels::AttentionMask;

namespace {

// failKernel, IsaChoice, ScratchBuffer, transpose8x8 and the vector math.
using namespace kiln::kernels::detail;

constexpr int64_t kBQ = 64; // query rows of a work item
constexpr int64_t kBK = 64; // keys of a tile (four zmm of scores per row)
constexpr int kRows = 6;    // query rows of a row-group kernel

/// The smallest amount of work (multiply-adds) worth a thread of its own.
constexpr int64_t kMinWorkPerThread = int64_t(1) << 19;

/// Rounds up to a multiple of 16 floats (64 bytes).
int64_t roundUp16(int64_t n) { return (n + 15) / 16 * 16; }

/// Everything the row-group kernels need for one group and one key tile.
struct RowGroup {
  int rows;           // 1..kRows
  int keys;           // keys of the tile seen by some row: 1..kBK
  int visible[kRows]; // row i sees keys [0, visible[i]) of the tile
  const float *q;     // query row i at q + i * qStride, unit stride
  int64_t qStride;
  int64_t d;
  const float *kt; // the tile's keys transposed: key j, dim x at kt[x*kBK+j]
  const float *v;  // value row j at v + j * rsV, unit stride
  int64_t rsV;
  int64_t dv;
  float scale;
  // Row i's bias for key j of the tile at bias[i * biasStride + j]; null
  // when there is none. Only the visible keys are read.
  const float *bias;
  int64_t biasStride;
  float *m;   // running max of each row
  float *l;   // running sum of each row
  float *acc; // output accumulator row i at acc + i * accStride
  int64_t accStride;
};

#if KILN_KERNELS_AVX2

//===----------------------------------------------------------------------===//
// AVX2 row-group kernel
//===----------------------------------------------------------------------===//

/// Scores of R rows for keys [16c, 16c + 16) of the tile into s.
template <int R> void scores256(const RowGroup &g, int c, float (*s)[kBK]) {
  __m256 acc[R][2];
  for (int i = 0; i < R; ++i)
    acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  const float *kt = g.kt + 16 * c;
  for (int64_t x = 0; x < g.d; ++x) {
    __m256 k0 = _mm256_load_ps(kt + x * kBK);
    __m256 k1 = _mm256_load_ps(kt + x * kBK + 8);
    for (int i = 0; i < R; ++i) {
      __m256 qi = _mm256_broadcast_ss(g.q + i * g.qStride + x);
      acc[i][0] = _mm256_fmadd_ps(qi, k0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(qi, k1, acc[i][1]);
    }
  }
  for (int i = 0; i < R; ++i) {
    _mm256_store_ps(s[i] + 16 * c, acc[i][0]);
    _mm256_store_ps(s[i] + 16 * c + 8, acc[i][1]);
  }
}

/// acc[:, x0 : x0 + width) = acc * alpha + P V for R rows, width <= 16.
template <int R>
void accumulate256(const RowGroup &g, const float (*p)[kBK], const float *alpha,
                   int64_t x0, int64_t width) {
  __m256i m0 = firstLanes8(width), m1 = firstLanes8(width - 8);
  __m256 acc[R][2];
  for (int i = 0; i < R; ++i) {
    float *a = g.acc + i * g.accStride + x0;
    __m256 ai = _mm256_set1_ps(alpha[i]);
    acc[i][0] = _mm256_mul_ps(_mm256_maskload_ps(a, m0), ai);
    acc[i][1] = _mm256_mul_ps(_mm256_maskload_ps(a + 8, m1), ai);
  }
  for (int j = 0; j < g.keys; ++j) {
    const float *vj = g.v + j * g.rsV + x0;
    __m256 v0 = _mm256_maskload_ps(vj, m0);
    __m256 v1 = _mm256_maskload_ps(vj + 8, m1);
    for (int i = 0; i < R; ++i) {
      __m256 pij = _mm256_broadcast_ss(p[i] + j);
      acc[i][0] = _mm256_fmadd_ps(pij, v0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(pij, v1, acc[i][1]);
    }
  }
  for (int i = 0; i < R; ++i) {
    float *a = g.acc + i * g.accStride + x0;
    _mm256_maskstore_ps(a, m0, acc[i][0]);
    _mm256_maskstore_ps(a + 8, m1, acc[i][1]);
  }
}

template <int R> void rowGroup256(const RowGroup &g) {
  alignas(32) float s[R][kBK];
  int chunks = (g.keys + 15) / 16;
  for (int c = 0; c < chunks; ++c)
    scores256<R>(g, c, s);

  // Online softmax, row by row. Chunk c's lanes are the 16 keys as two ymm:
  // the row sum adds chunks lane-wise per half, as the AVX-512 kernel does
  // with whole zmm, then reduces.
  const __m256 scale = _mm256_set1_ps(g.scale);
  const __m256 negInf = _mm256_set1_ps(-INFINITY);
  alignas(32) float diff[8] = {};
  float mNew[kRows];
  for (int i = 0; i < R; ++i) {
    int vis = g.visible[i];
    const float *bias = g.bias ? g.bias + i * g.biasStride : nullptr;
    __m256 mx = negInf;
    for (int h = 0; h < 2 * chunks; ++h) {
      __m256i lanes = firstLanes8(vis - 8 * h);
      __m256 si = _mm256_load_ps(s[i] + 8 * h);
      // Masked loads: the bias past the visible keys may not exist.
      si = bias ? _mm256_fmadd_ps(si, scale,
                                  _mm256_maskload_ps(bias + 8 * h, lanes))
                : _mm256_mul_ps(si, scale);
      si = _mm256_blendv_ps(negInf, si, _mm256_castsi256_ps(lanes));
      _mm256_store_ps(s[i] + 8 * h, si);
      mx = _mm256_max_ps(mx, si);
    }
    float mOld = g.m[i];
    mNew[i] = vis > 0 ? std::max(mOld, reduceMax8(mx)) : mOld;
    diff[i] = vis > 0 ? mOld - mNew[i] : 0.0f;
  }
  alignas(32) float alpha[8];
  _mm256_store_ps(alpha, exp256<kExpCephes>(_mm256_load_ps(diff)));

  alignas(32) float p[R][kBK];
  for (int i = 0; i < R; ++i) {
    int vis = g.visible[i];
    __m256 mi = _mm256_set1_ps(mNew[i]);
    __m256 sum[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int h = 0; h < 2 * chunks; ++h) {
      __m256 e =
          exp256<kExpCephes>(_mm256_sub_ps(_mm256_load_ps(s[i] + 8 * h), mi));
      e = _mm256_and_ps(e, _mm256_castsi256_ps(firstLanes8(vis - 8 * h)));
      _mm256_store_ps(p[i] + 8 * h, e);
      sum[h & 1] = h < 2 ? e : _mm256_add_ps(sum[h & 1], e);
    }
    float rowSum = reduceAdd8(_mm256_add_ps(sum[0], sum[1]));
    g.l[i] = std::fma(g.l[i], alpha[i], rowSum);
    g.m[i] = mNew[i];
  }

  for (int64_t x0 = 0; x0 < g.dv; x0 += 16)
    accumulate256<R>(g, p, alpha, x0, std::min<int64_t>(16, g.dv - x0));
}

/// Packs keys [0, nk) as kt[x * kBK + j] = K(j, x), with rows of unit stride,
/// by 8 x 8 transposes; keys [nk, round up to 8) become zero. Returns that
/// rounded count.
int64_t packKeys256(const float *k, int64_t rsK, int64_t nk, int64_t d,
                    float *kt) {
  for (int64_t j0 = 0; j0 < nk; j0 += 8) {
    int64_t rows = std::min<int64_t>(8, nk - j0);
    for (int64_t x0 = 0; x0 < d; x0 += 8) {
      int64_t cols = std::min<int64_t>(8, d - x0);
      __m256i colMask = firstLanes8(cols);
      __m256 r[8];
      for (int64_t i = 0; i < 8; ++i)
        r[i] = i >= rows ? _mm256_setzero_ps()
               : cols == 8
                   ? _mm256_loadu_ps(k + (j0 + i) * rsK + x0)
                   : _mm256_maskload_ps(k + (j0 + i) * rsK + x0, colMask);
      transpose8x8(r);
      for (int64_t t = 0; t < cols; ++t)
        _mm256_store_ps(kt + (x0 + t) * kBK + j0, r[t]);
    }
  }
  return (nk + 7) / 8 * 8;
}

struct Avx2Kernels {
  static constexpr const char *name = "avx2";
  static void rowGroup(const RowGroup &g) {
    switch (g.rows) {
    case 1:
      return rowGroup256<1>(g);
    case 2:
      return rowGroup256<2>(g);
    case 3:
      return rowGroup256<3>(g);
    case 4:
      return rowGroup256<4>(g);
    case 5:
      return rowGroup256<5>(g);
    default:
      return rowGroup256<6>(g);
    }
  }
};

//===----------------------------------------------------------------------===//
// AVX-512 row-group kernel (run-time selected)
//===----------------------------------------------------------------------===//

KILN_BEGIN_AVX512_CODE

/// Scores and the online-softmax update of R rows on NV 16-key chunks: the
/// scores stay in registers (R * NV zmm); P goes to p, exp(m_old - m) to alpha.
template <int R, int NV>
KILN_AVX512_TARGET void softmax512(const RowGroup &g, float (*p)[kBK],
                                   float *alpha) {
  __m512 s[R][NV];
  for (int i = 0; i < R; ++i)
    for (int c = 0; c < NV; ++c)
      s[i][c] = _mm512_setzero_ps();
  for (int64_t x = 0; x < g.d; ++x) {
    __m512 kv[NV];
    for (int c = 0; c < NV; ++c)
      kv[c] = _mm512_load_ps(g.kt + x * kBK + 16 * c);
    for (int i = 0; i < R; ++i) {
      __m512 qi = _mm512_set1_ps(g.q[i * g.qStride + x]);
      for (int c = 0; c < NV; ++c)
        s[i][c] = _mm512_fmadd_ps(qi, kv[c], s[i][c]);
    }
  }

  const __m512 scale = _mm512_set1_ps(g.scale);
  const __m512 negInf = _mm512_set1_ps(-INFINITY);
  alignas(64) float diff[16] = {};
  float mNew[kRows];
  for (int i = 0; i < R; ++i) {
    int vis = g.visible[i];
    const float *bias = g.bias ? g.bias + i * g.biasStride : nullptr;
    __m512 mx = negInf;
    for (int c = 0; c < NV; ++c) {
      __mmask16 lanes = firstLanes16(vis - 16 * c);
      // Masked loads: the bias past the visible keys may not exist.
      s[i][c] =
          bias ? _mm512_mask_mov_ps(negInf, lanes,
                                    _mm512_fmadd_ps(s[i][c], scale,
                                                    _mm512_maskz_loadu_ps(
                                                        lanes, bias + 16 * c)))
               : _mm512_mask_mul_ps(negInf, lanes, s[i][c], scale);
      mx = _mm512_max_ps(mx, s[i][c]);
    }
    float mOld = g.m[i];
    mNew[i] = vis > 0 ? std::max(mOld, reduceMax16(mx)) : mOld;
    diff[i] = vis > 0 ? mOld - mNew[i] : 0.0f;
  }
  _mm512_storeu_ps(alpha, exp512<kExpCephes>(_mm512_load_ps(diff)));

  for (int i = 0; i < R; ++i) {
    int vis = g.visible[i];
    __m512 mi = _mm512_set1_ps(mNew[i]);
    __m512 sum = _mm512_setzero_ps();
    for (int c = 0; c < NV; ++c) {
      __m512 e =
          _mm512_maskz_mov_ps(firstLanes16(vis - 16 * c),
                              exp512<kExpCephes>(_mm512_sub_ps(s[i][c], mi)));
      _mm512_store_ps(p[i] + 16 * c, e);
      sum = c == 0 ? e : _mm512_add_ps(sum, e);
    }
    g.l[i] = std::fma(g.l[i], alpha[i], reduceAdd16(sum));
    g.m[i] = mNew[i];
  }
}

/// acc[:, x0 : x0 + width) = acc * alpha + P V for R rows, NV zmm of width.
template <int R, int NV>
KILN_AVX512_TARGET void accumulate512(const RowGroup &g, const float (*p)[kBK],
                                      const float *alpha, int64_t x0,
                                      int64_t width) {
  __mmask16 tail = firstLanes16(width - 16 * (NV - 1));
  __m512 acc[R][NV];
  for (int i = 0; i < R; ++i) {
    const float *a = g.acc + i * g.accStride + x0;
    __m512 ai = _mm512_set1_ps(alpha[i]);
    for (int c = 0; c < NV; ++c)
      acc[i][c] =
          _mm512_mul_ps(c < NV - 1 ? _mm512_loadu_ps(a + 16 * c)
                                   : _mm512_maskz_loadu_ps(tail, a + 16 * c),
                        ai);
  }
  for (int j = 0; j < g.keys; ++j) {
    const float *vj = g.v + j * g.rsV + x0;
    __m512 vv[NV];
    for (int c = 0; c < NV; ++c)
      vv[c] = c < NV - 1 ? _mm512_loadu_ps(vj + 16 * c)
                         : _mm512_maskz_loadu_ps(tail, vj + 16 * c);
    for (int i = 0; i < R; ++i) {
      __m512 pij = _mm512_set1_ps(p[i][j]);
      for (int c = 0; c < NV; ++c)
        acc[i][c] = _mm512_fmadd_ps(pij, vv[c], acc[i][c]);
    }
  }
  for (int i = 0; i < R; ++i) {
    float *a = g.acc + i * g.accStride + x0;
    for (int c = 0; c < NV - 1; ++c)
      _mm512_storeu_ps(a + 16 * c, acc[i][c]);
    _mm512_mask_storeu_ps(a + 16 * (NV - 1), tail, acc[i][NV - 1]);
  }
}

template <int R> KILN_AVX512_TARGET void rowGroup512(const RowGroup &g) {
  alignas(64) float p[R][kBK];
  alignas(64) float alpha[16];
  switch ((g.keys + 15) / 16) {
  case 1:
    softmax512<R, 1>(g, p, alpha);
    break;
  case 2:
    softmax512<R, 2>(g, p, alpha);
    break;
  case 3:
    softmax512<R, 3>(g, p, alpha);
    break;
  default:
    softmax512<R, 4>(g, p, alpha);
    break;
  }
  for (int64_t x0 = 0; x0 < g.dv; x0 += 64) {
    int64_t width = std::min<int64_t>(64, g.dv - x0);
    switch ((width + 15) / 16) {
    case 1:
      accumulate512<R, 1>(g, p, alpha, x0, width);
      break;
    case 2:
      accumulate512<R, 2>(g, p, alpha, x0, width);
      break;
    case 3:
      accumulate512<R, 3>(g, p, alpha, x0, width);
      break;
    default:
      accumulate512<R, 4>(g, p, alpha, x0, width);
      break;
    }
  }
}

struct Avx512Kernels {
  static constexpr const char *name = "avx512";
  KILN_AVX512_TARGET static void rowGroup(const RowGroup &g) {
    switch (g.rows) {
    case 1:
      return rowGroup512<1>(g);
    case 2:
      return rowGroup512<2>(g);
    case 3:
      return rowGroup512<3>(g);
    case 4:
      return rowGroup512<4>(g);
    case 5:
      return rowGroup512<5>(g);
    default:
      return rowGroup512<6>(g);
    }
  }
};

KILN_END_AVX512_CODE

#else // !KILN_KERNELS_AVX2

//===----------------------------------------------------------------------===//
// Portable row-group kernel
//===----------------------------------------------------------------------===//

float expScalar(float x) {
  if (x < kExpLow)
    return 0.0f;
  x = std::min(kExpHigh, x);
  float n = std::nearbyint(x * kLog2e);
  float r = std::fma(-n, kLn2Hi, x);
  r = std::fma(-n, kLn2Lo, r);
  float y = kExpCephes.c[5];
  for (int i = 4; i >= 0; --i)
    y = std::fma(y, r, kExpCephes.c[i]);
  y = std::fma(y, r * r, r) + 1.0f;
  return std::ldexp(y, static_cast<int>(n));
}

struct ScalarKernels {
  static constexpr const char *name = "scalar";
  static void rowGroup(const RowGroup &g) {
    float p[kBK];
    for (int i = 0; i < g.rows; ++i) {
      int vis = g.visible[i];
      if (vis == 0)
        continue;
      const float *q = g.q + i * g.qStride;
      const float *bias = g.bias ? g.bias + i * g.biasStride : nullptr;
      float mx = -INFINITY;
      for (int j = 0; j < vis; ++j) {
        float s = 0.0f;
        for (int64_t x = 0; x < g.d; ++x)
          s = std::fma(q[x], g.kt[x * kBK + j], s);
        p[j] = bias ? std::fma(s, g.scale, bias[j]) : s * g.scale;
        mx = std::max(mx, p[j]);
      }
      float mNew = std::max(g.m[i], mx);
      float alpha = expScalar(g.m[i] - mNew);
      float sum = 0.0f;
      for (int j = 0; j < vis; ++j)
        sum += p[j] = expScalar(p[j] - mNew);
      g.l[i] = std::fma(g.l[i], alpha, sum);
      g.m[i] = mNew;
      float *acc = g.acc + i * g.accStride;
      for (int64_t x = 0; x < g.dv; ++x) {
        float a = acc[x] * alpha;
        for (int j = 0; j < vis; ++j)
          a = std::fma(p[j], g.v[j * g.rsV + x], a);
        acc[x] = a;
      }
    }
  }
};

#endif // KILN_KERNELS_AVX2

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

/// The kernel's instruction set (AVX-512 where the CPU has it).
IsaChoice isa;

thread_local ScratchBuffer scratch(kiln::contract::kAttentionKernel);

/// One call: shapes, base pointers, strides (in elements), bias, mask.
struct Problem {
  int64_t batch, heads, sq, sk, d, dv;
  const float *q, *k, *v;
  float *out;
  const int64_t *qs, *ks, *vs, *os; // strides [4]
  const float *bias;                // null: none
  int64_t bs[4];                    // the bias's strides, 0 to broadcast
  AttentionMask mask;
  const int64_t *lengths;
  int64_t lengthsStride;
  float scale;

  /// Keys visible to the rows of batch item b (padding: min(lengths, sk)).
  int64_t keysOf(int64_t b) const {
    if (mask != AttentionMask::Padding)
      return sk;
    return std::min(lengths[b * lengthsStride], sk);
  }
};

/// Offsets (in floats, multiples of 16) of a work item's scratch: its query
/// rows and value tile (only when their rows are not contiguous), the packed
/// key tile, the output accumulator, the running max and sum.
struct ScratchLayout {
  int64_t kt, vTile, acc, m, l, total;
  ScratchLayout(int64_t d, int64_t dv, int64_t rows, bool packQ, bool packV) {
    kt = packQ ? roundUp16(rows * d) : 0;
    vTile = kt + d * kBK;
    acc = vTile + (packV ? kBK * roundUp16(dv) : 0);
    m = acc + rows * roundUp16(dv);
    l = m + kBQ;
    total = l + kBQ;
  }
};

/// Packs keys [0, nk) of a tile transposed, kt[x * kBK + j] = K(j, x), and
/// zeroes keys [nk, round up to 16): the kernels read whole 16-key chunks.
void packKeys(const float *k, int64_t rsK, int64_t csK, int64_t nk, int64_t d,
              float *kt) {
  int64_t done = 0;
#if KILN_KERNELS_AVX2
  if (csK == 1)
    done = packKeys256(k, rsK, nk, d, kt);
#endif
  int64_t padded = roundUp16(nk);
  for (int64_t x = 0; x < d; ++x)
    for (int64_t j = done; j < padded; ++j)
      kt[x * kBK + j] = j < nk ? k[j * rsK + x * csK] : 0.0f;
}

/// Output rows [i0, i0 + nq) of (b, h) when no key is visible: the mean of
/// V over all keys (zeros if there are none), as the lowest-float mask gives.
void meanOfValues(const Problem &p, const float *v, float *out, int64_t i0,
                  int64_t nq) {
  for (int64_t x = 0; x < p.dv; ++x) {
    double sum = 0.0;
    for (int64_t j = 0; j < p.sk; ++j)
      sum += v[j * p.vs[2] + x * p.vs[3]];
    float mean = p.sk > 0 ? static_cast<float>(sum / double(p.sk)) : 0.0f;
    for (int64_t i = i0; i < i0 + nq; ++i)
      out[i * p.os[2] + x * p.os[3]] = mean;
  }
}

/// One work item: query rows [i0, i0 + nq) of batch b, head h.
template <typename Kernels>
void runBlock(const Problem &p, int64_t b, int64_t h, int64_t i0, int64_t nq) {
  const float *q = p.q + b * p.qs[0] + h * p.qs[1];
  const float *k = p.k + b * p.ks[0] + h * p.ks[1];
  const float *v = p.v + b * p.vs[0] + h * p.vs[1];
  float *out = p.out + b * p.os[0] + h * p.os[1];
  const float *bias = p.bias ? p.bias + b * p.bs[0] + h * p.bs[1] : nullptr;

  // Keys [0, limit) are visible to some row of the block. Causal: row i sees
  // keys j <= i + diagonal.
  int64_t diagonal = p.sk - p.sq;
  int64_t limit = p.keysOf(b);
  if (p.mask == AttentionMask::Causal)
    limit = std::min(limit, i0 + nq + diagonal);
  if (limit <= 0)
    return meanOfValues(p, v, out, i0, nq);

  int64_t dvPad = roundUp16(p.dv);
  bool packQ = p.qs[3] != 1, packV = p.vs[3] != 1;
  ScratchLayout layout(p.d, p.dv, nq, packQ, packV);
  float *base = scratch.get(layout.total);
  float *kt = base + layout.kt;
  float *vTile = base + layout.vTile;
  float *acc = base + layout.acc;
  float *m = base + layout.m;
  float *l = base + layout.l;

  // Query rows are read in place unless their elements are strided.
  const float *qRows = q + i0 * p.qs[2];
  int64_t qStride = p.qs[2];
  if (packQ) {
    for (int64_t i = 0; i < nq; ++i)
      for (int64_t x = 0; x < p.d; ++x)
        base[i * p.d + x] = qRows[i * p.qs[2] + x * p.qs[3]];
    qRows = base;
    qStride = p.d;
  }
  std::fill(m, m + nq, -INFINITY);
  std::fill(l, l + nq, 0.0f);
  std::fill(acc, acc + nq * dvPad, 0.0f);

  RowGroup g;
  g.qStride = qStride;
  g.d = p.d;
  g.kt = kt;
  g.dv = p.dv;
  g.scale = p.scale;
  g.accStride = dvPad;
  g.bias = nullptr;
  g.biasStride = 0;
  // A row group's bias when its keys are not contiguous (broadcast over the
  // keys, or a transposed view): gathered per group and tile.
  alignas(64) float biasTile[kRows * kBK];
  for (int64_t k0 = 0; k0 < limit; k0 += kBK) {
    int64_t nk = std::min(kBK, limit - k0);
    packKeys(k + k0 * p.ks[2], p.ks[2], p.ks[3], nk, p.d, kt);
    if (packV) {
      for (int64_t j = 0; j < nk; ++j)
        for (int64_t x = 0; x < p.dv; ++x)
          vTile[j * dvPad + x] = v[(k0 + j) * p.vs[2] + x * p.vs[3]];
      g.v = vTile;
      g.rsV = dvPad;
    } else {
      g.v = v + k0 * p.vs[2];
      g.rsV = p.vs[2];
    }
    for (int64_t r0 = 0; r0 < nq; r0 += kRows) {
      g.rows = static_cast<int>(std::min<int64_t>(kRows, nq - r0));
      g.keys = 0;
      for (int i = 0; i < g.rows; ++i) {
        int64_t visible = nk;
        if (p.mask == AttentionMask::Causal)
          visible = std::clamp<int64_t>(i0 + r0 + i + diagonal + 1 - k0, 0, nk);
        g.visible[i] = static_cast<int>(visible);
        g.keys = std::max(g.keys, g.visible[i]);
      }
      if (g.keys == 0)
        continue; // the whole group is before this tile
      g.q = qRows + r0 * qStride;
      if (bias) {
        const float *rows = bias + (i0 + r0) * p.bs[2] + k0 * p.bs[3];
        if (p.bs[3] == 1) {
          g.bias = rows;
          g.biasStride = p.bs[2];
        } else {
          for (int i = 0; i < g.rows; ++i)
            for (int j = 0; j < g.visible[i]; ++j)
              biasTile[i * kBK + j] = rows[i * p.bs[2] + j * p.bs[3]];
          g.bias = biasTile;
          g.biasStride = kBK;
        }
      }
      g.m = m + r0;
      g.l = l + r0;
      g.acc = acc + r0 * dvPad;
      Kernels::rowGroup(g);
    }
  }

  for (int64_t i = 0; i < nq; ++i) {
    const float *a = acc + i * dvPad;
    float *o = out + (i0 + i) * p.os[2];
    float li = l[i];
    if (p.os[3] == 1)
      for (int64_t x = 0; x < p.dv; ++x)
        o[x] = a[x] / li;
    else
      for (int64_t x = 0; x < p.dv; ++x)
        o[x * p.os[3]] = a[x] / li;
  }
}

template <typename Kernels> void run(const Problem &p, int maxThreads) {
  int64_t blocks = (p.sq + kBQ - 1) / kBQ;
  int64_t pairs = p.batch * p.heads;
  int64_t items = pairs * blocks;
  // Multiply-adds: (d + dv) per visible (query, key) pair.
  int64_t pairsSeen = 0;
  for (int64_t b = 0; b < p.batch; ++b) {
    int64_t keys = std::max<int64_t>(p.keysOf(b), 0);
    if (p.mask == AttentionMask::Causal)
      pairsSeen += p.sq * (p.sk - p.sq) + p.sq * (p.sq + 1) / 2;
    else
      pairsSeen += p.sq * keys;
  }
  int threads = teamSize(pairsSeen * p.heads * (p.d + p.dv), kMinWorkPerThread,
                         items, maxThreads);
  // Item t: the last query blocks first (causal: the most keys), so that
  // threads taking items in turn finish together.
  auto item = [&](int64_t t) {
    int64_t block = blocks - 1 - t / pairs, pair = t % pairs;
    int64_t i0 = block * kBQ;
    runBlock<Kernels>(p, pair / p.heads, pair % p.heads, i0,
                      std::min(kBQ, p.sq - i0));
  };
  if (threads <= 1) {
    for (int64_t t = 0; t < items; ++t)
      item(t);
    return;
  }
  std::atomic<int64_t> next{0};
  ThreadPool::global().run(threads, [&](int, int) {
    for (int64_t t = next.fetch_add(1); t < items; t = next.fetch_add(1))
      item(t);
  });
}

void attentionChecked(const char *function, const Problem &p, int maxThreads) {
  if (p.mask == AttentionMask::Causal && p.sq > p.sk) {
    char message[160];
    std::snprintf(message, sizeof(message),
                  "causal attention needs no more queries than keys (Sq %lld, "
                  "Sk %lld)",
                  static_cast<long long>(p.sq), static_cast<long long>(p.sk));
    failKernel(function, message);
  }
  if (p.mask == AttentionMask::Padding && !p.lengths && p.batch > 0)
    failKernel(function, "padding mask without lengths");
  if (p.batch <= 0 || p.heads <= 0 || p.sq <= 0 || p.dv <= 0)
    return;
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

namespace kiln {
namespace kernels {

void attention(int64_t batch, int64_t heads, int64_t sq, int64_t sk, int64_t d,
               int64_t dv, const float *q, const int64_t qStrides[4],
               const float *k, const int64_t kStrides[4], const float *v,
               const int64_t vStrides[4], float *out,
               const int64_t outStrides[4], const float *bias,
               const int64_t biasStrides[4], AttentionMask mask,
               const int64_t *lengths, int64_t lengthsStride, float scale,
               int maxThreads) {
  Problem p{};
  p.batch = batch;
  p.heads = heads;
  p.sq = sq;
  p.sk = sk;
  p.d = d;
  p.dv = dv;
  p.q = q;
  p.k = k;
  p.v = v;
  p.out = out;
  p.qs = qStrides;
  p.ks = kStrides;
  p.vs = vStrides;
  p.os = outStrides;
  p.bias = bias;
  if (bias)
    std::copy(biasStrides, biasStrides + 4, p.bs);
  p.mask = mask;
  p.lengths = lengths;
  p.lengthsStride = lengthsStride;
  p.scale = scale;
  attentionChecked("attention", p, maxThreads);
}

void attention(int64_t batch, int64_t heads, int64_t sq, int64_t sk, int64_t d,
               int64_t dv, const float *q, const int64_t qStrides[4],
               const float *k, const int64_t kStrides[4], const float *v,
               const int64_t vStrides[4], float *out,
               const int64_t outStrides[4], AttentionMask mask,
               const int64_t *lengths, int64_t lengthsStride, float scale,
               int maxThreads) {
  attention(batch, heads, sq, sk, d, dv, q, qStrides, k, kStrides, v, vStrides,
            out, outStrides, nullptr, nullptr, mask, lengths, lengthsStride,
            scale, maxThreads);
}

int64_t attentionScratchBytes(int64_t d, int64_t dv) {
  return ScratchLayout(d, dv, kBQ, true, true).total * int64_t(sizeof(float));
}

bool detail::reserveAttentionScratch(const ScratchSizes &sizes) {
  if (sizes.headDim <= 0)
    return true;
  return scratch.reserve(attentionScratchBytes(sizes.headDim, sizes.headDim) /
                         int64_t(sizeof(float)));
}

void setAttentionIsaForTesting(GemmIsa choice) { isa.set(choice); }

const char *attentionIsaName() {
#if KILN_KERNELS_AVX2
  return isa.useAvx512() ? Avx512Kernels::name : Avx2Kernels::name;
#else
  return ScalarKernels::name;
#endif
}

} // namespace kernels
} // namespace kiln

namespace {

/// "[s0, s1, s2, s3]" of a descriptor's sizes.
void formatSizes(const KilnMemRef<4> *t, char *buffer, size_t size) {
  std::snprintf(
      buffer, size, "[%lld, %lld, %lld, %lld]",
      static_cast<long long>(t->sizes[0]), static_cast<long long>(t->sizes[1]),
      static_cast<long long>(t->sizes[2]), static_cast<long long>(t->sizes[3]));
}

/// The problem of four descriptors, or an abort naming the mismatch.
Problem checkedProblem(const char *function, const KilnMemRef<4> *q,
                       const KilnMemRef<4> *k, const KilnMemRef<4> *v,
                       const KilnMemRef<4> *out, float scale) {
  if (!q || !k || !v || !out)
    failKernel(function, "null memref descriptor");
  const char *mismatch = nullptr;
  if (q->sizes[0] != k->sizes[0] || q->sizes[0] != v->sizes[0] ||
      q->sizes[0] != out->sizes[0])
    mismatch = "batch sizes differ";
  else if (q->sizes[1] != k->sizes[1] || q->sizes[1] != v->sizes[1] ||
           q->sizes[1] != out->sizes[1])
    mismatch = "head counts differ";
  else if (k->sizes[2] != v->sizes[2])
    mismatch = "key counts of K and V differ";
  else if (q->sizes[2] != out->sizes[2])
    mismatch = "query counts of Q and out differ";
  else if (q->sizes[3] != k->sizes[3])
    mismatch = "head dims of Q and K differ";
  else if (v->sizes[3] != out->sizes[3])
    mismatch = "value dims of V and out differ";
  else
    for (const KilnMemRef<4> *t : {q, k, v, out})
      for (int64_t size : t->sizes)
        if (size < 0)
          mismatch = "negative size";
  if (mismatch) {
    char shapes[4][96], message[512];
    formatSizes(q, shapes[0], sizeof(shapes[0]));
    formatSizes(k, shapes[1], sizeof(shapes[1]));
    formatSizes(v, shapes[2], sizeof(shapes[2]));
    formatSizes(out, shapes[3], sizeof(shapes[3]));
    std::snprintf(message, sizeof(message),
                  "shapes do not agree: %s: Q %s, K %s, V %s, out %s", mismatch,
                  shapes[0], shapes[1], shapes[2], shapes[3]);
    failKernel(function, message);
  }
  Problem p{};
  p.batch = q->sizes[0];
  p.heads = q->sizes[1];
  p.sq = q->sizes[2];
  p.sk = k->sizes[2];
  p.d = q->sizes[3];
  p.dv = v->sizes[3];
  bool empty = p.batch == 0 || p.heads == 0 || p.sq == 0 || p.dv == 0;
  bool readsKeys = !empty && p.sk > 0;
  if ((!empty && (!q->aligned || !out->aligned)) ||
      (readsKeys && (!k->aligned || !v->aligned)))
    failKernel(function, "null data pointer");
  p.q = q->aligned + q->offset;
  p.k = k->aligned + k->offset;
  p.v = v->aligned + v->offset;
  p.out = out->aligned + out->offset;
  p.qs = q->strides;
  p.ks = k->strides;
  p.vs = v->strides;
  p.os = out->strides;
  p.scale = scale;
  return p;
}

/// Sets the mask of `p` from kiln_attention_f32's `mask` operand.
void setMaskCode(const char *function, Problem &p, int64_t mask) {
  if (mask != static_cast<int64_t>(AttentionMask::None) &&
      mask != static_cast<int64_t>(AttentionMask::Causal)) {
    char message[96];
    std::snprintf(message, sizeof(message),
                  "unknown mask kind %lld (0 none, 1 causal)",
                  static_cast<long long>(mask));
    failKernel(function, message);
  }
  p.mask = static_cast<AttentionMask>(mask);
}

/// Sets the padding mask of `p` from a lengths descriptor.
void setLengths(const char *function, Problem &p,
                const KilnIndexMemRef1 *lengths) {
  if (!lengths)
    failKernel(function, "null memref descriptor");
  if (lengths->sizes[0] != p.batch) {
    char message[128];
    std::snprintf(message, sizeof(message),
                  "lengths has %lld entries for a batch of %lld",
                  static_cast<long long>(lengths->sizes[0]),
                  static_cast<long long>(p.batch));
    failKernel(function, message);
  }
  if (p.batch > 0 && !lengths->aligned)
    failKernel(function, "null data pointer");
  p.mask = AttentionMask::Padding;
  p.lengths = lengths->aligned + lengths->offset;
  p.lengthsStride = lengths->strides[0];
}

/// Sets the bias of `p` from a descriptor whose axes each have the scores'
/// size or size 1 (broadcast: stride 0 whatever the descriptor says).
void setBias(const char *function, Problem &p, const KilnMemRef<4> *bias) {
  if (!bias)
    failKernel(function, "null memref descriptor");
  const int64_t scores[4] = {p.batch, p.heads, p.sq, p.sk};
  for (int axis = 0; axis < 4; ++axis) {
    int64_t size = bias->sizes[axis];
    if (size != scores[axis] && size != 1) {
      char sizes[96], message[256];
      formatSizes(bias, sizes, sizeof(sizes));
      std::snprintf(message, sizeof(message),
                    "bias %s does not broadcast to the scores [%lld, %lld, "
                    "%lld, %lld]",
                    sizes, static_cast<long long>(scores[0]),
                    static_cast<long long>(scores[1]),
                    static_cast<long long>(scores[2]),
                    static_cast<long long>(scores[3]));
      failKernel(function, message);
    }
    p.bs[axis] = size == 1 ? 0 : bias->strides[axis];
  }
  bool readsBias =
      p.batch > 0 && p.heads > 0 && p.sq > 0 && p.sk > 0 && p.dv > 0;
  if (readsBias && !bias->aligned)
    failKernel(function, "null data pointer");
  p.bias = bias->aligned + bias->offset;
}

} // namespace

extern "C" void _mlir_ciface_kiln_attention_f32(KilnMemRef<4> *q,
                                                KilnMemRef<4> *k,
                                                KilnMemRef<4> *v,
                                                KilnMemRef<4> *out,
                                                int64_t mask, float scale) {
  const char *function = kiln::contract::kAttentionKernel;
  Problem p = checkedProblem(function, q, k, v, out, scale);
  setMaskCode(function, p, mask);
  attentionChecked(function, p, 0);
}

extern "C" void _mlir_ciface_kiln_attention_lengths_f32(
    KilnMemRef<4> *q, KilnMemRef<4> *k, KilnMemRef<4> *v,
    KilnIndexMemRef1 *lengths, KilnMemRef<4> *out, float scale) {
  const char *function = kiln::contract::kAttentionLengthsKernel;
  Problem p = checkedProblem(function, q, k, v, out, scale);
  setLengths(function, p, lengths);
  attentionChecked(function, p, 0);
}

extern "C" void _mlir_ciface_kiln_attention_bias_f32(
    KilnMemRef<4> *q, KilnMemRef<4> *k, KilnMemRef<4> *v, KilnMemRef<4> *bias,
    KilnMemRef<4> *out, int64_t mask, float scale) {
  const char *function = kiln::contract::kAttentionBiasKernel;
  Problem p = checkedProblem(function, q, k, v, out, scale);
  setBias(function, p, bias);
  setMaskCode(function, p, mask);
  attentionChecked(function, p, 0);
}

extern "C" void _mlir_ciface_kiln_attention_bias_lengths_f32(
    KilnMemRef<4> *q, KilnMemRef<4> *k, KilnMemRef<4> *v, KilnMemRef<4> *bias,
    KilnIndexMemRef1 *lengths, KilnMemRef<4> *out, float scale) {
  const char *function = kiln::contract::kAttentionBiasLengthsKernel;
  Problem p = checkedProblem(function, q, k, v, out, scale);
  setBias(function, p, bias);
  setLengths(function, p, lengths);
  attentionChecked(function, p, 0);
}
