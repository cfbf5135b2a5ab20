//===- Attention.h - Fused fp32 attention kernel ----------------*- C++ -*-===//
//
// The runtime's fused scaled-dot-product attention, FlashAttention-2 style:
//
//   S[b,h,i,j] = scale * dot(Q[b,h,i,:], K[b,h,j,:]) + bias[b,h,i,j]
//                + M[b,i,j]
//   O[b,h,i,:] = sum_j softmax_j(S[b,h,i,:]) * V[b,h,j,:]
//
// with Q [B,H,Sq,D], K [B,H,Sk,D], V [B,H,Sk,Dv], O [B,H,Sq,Dv], all strided
// views (any strides, an offset). The mask M is one of
//   - none:    M = 0;
//   - causal:  key j is visible to query i iff j <= i + (Sk - Sq) (queries
//              are the last Sq positions; requires Sq <= Sk);
//   - padding: key j is visible iff j < lengths[b] (lengths above Sk act as
//              Sk). A batch item with lengths[b] <= 0 sees no key: as in the
//              reference, which adds the lowest finite float to every score,
//              all scores are then equal and its rows are the mean of V over
//              all Sk keys (the bias is not read: the lowest float absorbs
//              any bias of ordinary size).
// Invisible keys get exactly zero weight, whatever their bias.
//
// The bias (optional: relative position biases, ALiBi, float masks) is a
// strided [B,H,Sq,Sk] view too, in which a stride of 0 broadcasts an axis:
// [1,H,Sq,Sk] shared by the batch, [B,1,1,Sk] per item, and so on. It may
// hold any finite float, the lowest included: a row whose visible keys all
// have the lowest float as bias has equal scores (the lowest float absorbs
// the dot products), hence uniform weights over those keys, as the unfused
// softmax gives, not NaN. (Only scores that overflow to infinity, which the
// unfused form does not survive either, give NaN.) A biased score is
// fma(dot, scale, bias), rounded once where the unfused form rounds twice.
//
// The Sq x Sk score matrix is never built: blocks of queries run over tiles
// of keys keeping a running maximum, a running sum and an output accumulator
// per row (online softmax), and divide by the sum at the end; the bias is
// read tile by tile, in place when its keys have unit stride. Key tiles that
// no query of a block can see (past the causal diagonal or past lengths[b])
// are neither computed nor read, bias included, so decoding (Sq = 1) costs
// in proportion to the visible length. Extra memory is a per-thread scratch
// buffer of a few tiles, independent of Sq and Sk.
//
// Work is split over ThreadPool::global() by (batch, head, query block);
// called from inside a parallel region, the kernel runs serially on the
// calling thread. Every output element is computed in an order that depends
// only on the problem's shape and mask, never on the thread count, so results
// are bit-identical whatever the team size. The AVX2 and AVX-512 paths (the
// latter chosen at run time, see Gemm.h; KILN_GEMM_ISA=avx2 forces AVX2 here
// too) also give the same bits.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_KERNELS_ATTENTION_H
#define KILN_RUNTIME_KERNELS_ATTENTION_H

#include "runtime/kernels/Gemm.h"

#include <cstdint>

/// An MLIR strided memref descriptor of rank 1 of int64 (MLIR `index` or
/// `i64` elements): element i is at aligned[offset + i * strides[0]].
struct KilnIndexMemRef1 {
  int64_t *allocated;
  int64_t *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
};

extern "C" {
/// O = attention(Q, K, V) with `mask` a kiln::contract::AttentionMask code,
/// None or Causal. Aborts with a message if the shapes do not agree.
void _mlir_ciface_kiln_attention_f32(KilnMemRef<4> *q, KilnMemRef<4> *k,
                                     KilnMemRef<4> *v, KilnMemRef<4> *out,
                                     int64_t mask, float scale);
/// O = attention(Q, K, V) with the padding mask of `lengths` [B].
void _mlir_ciface_kiln_attention_lengths_f32(KilnMemRef<4> *q, KilnMemRef<4> *k,
                                             KilnMemRef<4> *v,
                                             KilnIndexMemRef1 *lengths,
                                             KilnMemRef<4> *out, float scale);
/// The two above with an additive bias. Each axis of `bias` has the size of
/// the scores' [B, H, Sq, Sk] or size 1 (broadcast; its stride is then not
/// read); a broadcast axis may also keep the full size with stride 0.
void _mlir_ciface_kiln_attention_bias_f32(KilnMemRef<4> *q, KilnMemRef<4> *k,
                                          KilnMemRef<4> *v, KilnMemRef<4> *bias,
                                          KilnMemRef<4> *out, int64_t mask,
                                          float scale);
void _mlir_ciface_kiln_attention_bias_lengths_f32(
    KilnMemRef<4> *q, KilnMemRef<4> *k, KilnMemRef<4> *v, KilnMemRef<4> *bias,
    KilnIndexMemRef1 *lengths, KilnMemRef<4> *out, float scale);
}

namespace kiln {
namespace kernels {

/// The mask codes of runtime/Contract.h.
using AttentionMask = contract::AttentionMask;

/// Attention on strided views: element (b, h, s, x) of q is at
/// q[b * qStrides[0] + h * qStrides[1] + s * qStrides[2] + x * qStrides[3]],
/// and likewise for k, v and out (strides in elements). `lengths` (element b
/// at lengths[b * lengthsStride]) is read only for AttentionMask::Padding.
/// `maxThreads` bounds the team (<= 0: the global pool's size; 1: serial).
/// Aborts if mask is Causal and sq > sk, or Padding without lengths.
void attention(int64_t batch, int64_t heads, int64_t sq, int64_t sk, int64_t d,
               int64_t dv, const float *q, const int64_t qStrides[4],
               const float *k, const int64_t kStrides[4], const float *v,
               const int64_t vStrides[4], float *out,
               const int64_t outStrides[4], AttentionMask mask,
               const int64_t *lengths, int64_t lengthsStride, float scale,
               int maxThreads = 0);

/// The same with an additive bias: element (b, h, i, j) of the scores gets
/// bias[b * biasStrides[0] + h * biasStrides[1] + i * biasStrides[2] +
/// j * biasStrides[3]] (a stride of 0 broadcasts that axis). A null `bias`
/// adds nothing.
void attention(int64_t batch, int64_t heads, int64_t sq, int64_t sk, int64_t d,
               int64_t dv, const float *q, const int64_t qStrides[4],
               const float *k, const int64_t kStrides[4], const float *v,
               const int64_t vStrides[4], float *out,
               const int64_t outStrides[4], const float *bias,
               const int64_t biasStrides[4], AttentionMask mask,
               const int64_t *lengths, int64_t lengthsStride, float scale,
               int maxThreads = 0);

/// Bytes of one thread's scratch buffer for head dims d and dv, at most (the
/// query rows of a block, a packed key tile, a value tile when V rows are not
/// contiguous, the output accumulator): independent of Sq and Sk.
int64_t attentionScratchBytes(int64_t d, int64_t dv);

/// Internal, for tests and benchmarks: the instruction set of the attention
/// kernel (Auto: KILN_GEMM_ISA / the best available; Avx512 on a CPU without
/// AVX-512 selects Avx2). Not thread-safe against running kernels.
void setAttentionIsaForTesting(GemmIsa isa);

/// "avx512", "avx2" or "scalar": the attention path in use.
const char *attentionIsaName();

} // namespace kernels
} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_ATTENTION_H
