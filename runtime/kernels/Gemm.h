//===- Gemm.h - fp32 matrix-product micro-kernels ---------------*- C++ -*-===//
//
// The runtime's fp32 GEMM, in the spirit of IREE's ukernels: generated code
// calls it for every matrix product instead of code-generating its own loops.
//
//   C[m][n] += sum_k A'[m][k] * B'[k][n]
//
// It accumulates into C (which holds zeros or a broadcast bias). A' is A or
// A^T, B' is B or B^T; every operand is a strided view (any row and column
// strides, an offset), so slices of bigger buffers need no copy.
//
// Large products use the packed, cache-blocked GotoBLAS/BLIS scheme: B is
// packed into K x 16 column panels, A into 6 x K row panels and a 6 x 16
// register-blocked AVX2/FMA micro-kernel updates C. Products with at most
// four rows (or four columns) are bandwidth bound (decode is M = 1) and use a
// streaming kernel that reads B once without packing. Work is split over the
// runtime's one thread pool (ThreadPool::global()); called from inside a
// parallel region, it runs serially on the calling thread.
//
// Every element of C is computed in an order that depends only on the shape
// and layout of the problem, never on the number of threads: results are
// bit-identical whatever the team size.
//
// Gemm.cpp is compiled with -mavx2 -mfma on x86-64; elsewhere (or without
// those flags) a portable scalar path is used. On CPUs with AVX-512
// (F/BW/DQ/VL, checked once at run time) the packed path uses a 512-bit
// micro-kernel instead (register block MR x 32, B packed in K x 32 panels);
// its code is compiled for AVX-512 through target attributes, so the library
// still runs on AVX2-only CPUs. Both micro-kernels compute every element in
// the same order (an fma chain per k block, then one add into C).
//
// The environment variable KILN_GEMM_ISA forces a path, read once at the first
// call: KILN_GEMM_ISA=avx2 uses the AVX2 kernel; KILN_GEMM_ISA=avx512 the
// AVX-512 one (only if the CPU has it; else AVX2). Unset: the best available.
// Products with at most four rows (or columns) use the AVX2 streaming kernels
// either way.
//
// Constant operands (weights) can be packed once, ahead of time, into column
// panels: sgemmPanels / kiln_matmul_panels_f32 take B' as P = ceil(N / W)
// panels of K x W floats (row-major, zero columns past N in the last one).
// With W = 16 (AVX2) or 32 (AVX-512), the width the compiler picks for the
// target, the packed path reads the panels in place: it packs no B (the AVX2
// kernel also reads 32-wide panels in place, as two 16-wide halves). Results
// are bit-identical to sgemm on the unpacked B' with the same micro-kernel;
// so are those of products with at most four rows, which stream over the
// panels (against sgemm on an unpacked B [K, N]). Other widths give the same
// bits through a slower path that re-packs B (as sgemm does).
//
// A transformer's linear layer, out = act(A' * B' + bias) with B' in panels,
// is one call (linearPanels / kiln_linear_panels_f32) instead of three passes
// over the output (bias broadcast, product, activation): each tile of the
// output starts its accumulation from the bias (or zeros) and gets the
// activation right after its last k block, while it is in L1.
// The activations use vectorized exp, erf and tanh (see VectorMath.h for their
// accuracy) whose AVX2 and AVX-512 versions give the same bits, so the
// results are the bits of sgemmPanels on an output filled with the broadcast
// bias, followed by applyActivation, whatever the ISA and the thread count.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_KERNELS_GEMM_H
#define KILN_RUNTIME_KERNELS_GEMM_H

#include "runtime/Contract.h"

#include <cstdint>

/// An MLIR strided memref descriptor of rank R: element (i, j) of a rank-2
/// one is at aligned[offset + i * strides[0] + j * strides[1]].
template <int R> struct KilnMemRef {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[R];
  int64_t strides[R];
};

extern "C" {
/// C += A' * B' with C [M, N]; A is [K, M] if transposeA else [M, K]; B is
/// [N, K] if transposeB else [K, N]. Aborts with a message if the sizes do not
/// agree (a programming error of the caller).
void _mlir_ciface_kiln_matmul_f32(KilnMemRef<2> *a, KilnMemRef<2> *b,
                                  KilnMemRef<2> *c, int64_t transposeA,
                                  int64_t transposeB);
/// The same on a leading batch axis of all three operands (strides[0] is the
/// batch stride; the batch sizes must agree).
void _mlir_ciface_kiln_batch_matmul_f32(KilnMemRef<3> *a, KilnMemRef<3> *b,
                                        KilnMemRef<3> *c, int64_t transposeA,
                                        int64_t transposeB);
/// C [M, N] += A' [M, K] * B' [K, N] with B' pre-packed in column panels:
/// bPanels is [P, K, W] and B'(k, n) = bPanels[n / W][k][n % W]; A is [K, M]
/// if transposeA else [M, K]. N is c->sizes[1], and P must be ceil(N / W)
/// (aborts with a message on any size mismatch). Panels with strides
/// [>= K * W, W, 1] are read in place; other strides take a slower path.
void _mlir_ciface_kiln_matmul_panels_f32(KilnMemRef<2> *a,
                                         KilnMemRef<3> *bPanels,
                                         KilnMemRef<2> *c, int64_t transposeA);
/// Lays a linear layer's weight out in panels: panels[p][k][j] = B'(k, p*W +
/// j), zero past N, with B' = weight ([K, N]) if inOut else weight^T
/// (weight [N, K]) and W = panels->sizes[2]. The panels' innermost stride
/// must be 1. Runs once per weight, at load (the compiler's prepare_weights).
void _mlir_ciface_kiln_pack_panels_f32(KilnMemRef<2> *weight,
                                       KilnMemRef<3> *panels, int64_t inOut);
/// A linear layer: out [M, N] = act(A' [M, K] * B' [K, N] + bias [N]), B' in
/// panels as for kiln_matmul_panels_f32. `out` is written, not accumulated
/// (it may hold garbage on entry). hasBias 0: no bias (the bias descriptor is
/// then ignored). `activation` is a kiln::contract::Activation code. Aborts
/// with a message on any size mismatch or an unknown activation code.
void _mlir_ciface_kiln_linear_panels_f32(KilnMemRef<2> *a,
                                         KilnMemRef<3> *bPanels,
                                         KilnMemRef<1> *bias,
                                         KilnMemRef<2> *out, int64_t transposeA,
                                         int64_t hasBias, int64_t activation);
}

namespace kiln {
namespace kernels {

/// C += A' * B' on strided views: A'(m, k) = a[m * rsA + k * csA],
/// B'(k, n) = b[k * rsB + n * csB], C(m, n) = c[m * rsC + n * csC].
/// `maxThreads` bounds the team (<= 0: the global pool's size; 1: serial).
void sgemm(int64_t m, int64_t n, int64_t k, const float *a, int64_t rsA,
           int64_t csA, const float *b, int64_t rsB, int64_t csB, float *c,
           int64_t rsC, int64_t csC, int maxThreads = 0);

/// `batch` products: operand i starts at a + i * bsA (and so on).
void sgemmBatched(int64_t batch, int64_t m, int64_t n, int64_t k,
                  const float *a, int64_t bsA, int64_t rsA, int64_t csA,
                  const float *b, int64_t bsB, int64_t rsB, int64_t csB,
                  float *c, int64_t bsC, int64_t rsC, int64_t csC,
                  int maxThreads = 0);

/// C += A' * B' with B' in column panels of width `panelWidth` (>= 1):
/// B'(k, n) = panels[(n / W) * panelStride + k * W + n % W], W = panelWidth.
/// `panelStride` (floats between consecutive panels) is normally k * W.
/// Panels aligned to 64 bytes are read fastest.
void sgemmPanels(int64_t m, int64_t n, int64_t k, const float *a, int64_t rsA,
                 int64_t csA, const float *panels, int64_t panelWidth,
                 int64_t panelStride, float *c, int64_t rsC, int64_t csC,
                 int maxThreads = 0);

/// panels[p * panelStride + k * rowStride + j] = B'(k, p * W + j), 0 past
/// N, with B'(k, n) = b[k * rsB + n * csB] and W = panelWidth; parallel over
/// panels on the global pool.
void packPanels(int64_t k, int64_t n, const float *b, int64_t rsB, int64_t csB,
                int64_t panelWidth, float *panels, int64_t panelStride,
                int64_t rowStride);

/// The pointwise activation of a linear layer; its values are the codes
/// kiln_linear_panels_f32 takes (runtime/Contract.h).
using Activation = contract::Activation;

/// out = act(A' * B' + bias) with B' in panels as for sgemmPanels (same
/// arguments): `out` (strides rsOut, csOut) is written, not accumulated, and
/// may hold garbage on entry; `bias` holds N floats, or is null for none.
/// The same bits as sgemmPanels on an `out` filled with the broadcast bias
/// (zeros without one), followed by applyActivation on every element.
void linearPanels(int64_t m, int64_t n, int64_t k, const float *a, int64_t rsA,
                  int64_t csA, const float *panels, int64_t panelWidth,
                  int64_t panelStride, const float *bias, Activation act,
                  float *out, int64_t rsOut, int64_t csOut, int maxThreads = 0);

/// x[i] = act(x[i]) for i in [0, n), with the vectorized math of
/// linearPanels (the same bits).
void applyActivation(Activation act, float *x, int64_t n);

/// Internal, for tests: y[i] = f(x[i]) for i in [0, n) by the vector math of
/// the activations, with the active ISA's vectors (see setIsaForTesting).
/// exp is for x <= 88 (larger x give exp(88)); results below FLT_MIN are 0.
enum class VectorFunction { Exp, Erf, Tanh };
void vectorMathForTesting(VectorFunction f, const float *x, float *y,
                          int64_t n);

/// The packed path's instruction set.
enum class GemmIsa { Auto, Avx2, Avx512 };

/// Internal, for tests and benchmarks: overrides the KILN_GEMM_ISA choice
/// (Auto: back to KILN_GEMM_ISA / the best available). Avx512 on a CPU
/// without AVX-512 selects Avx2. Not thread-safe against running products.
void setIsaForTesting(GemmIsa isa);

/// Whether this CPU can run the AVX-512 kernel.
bool avx512Available();

/// "avx512", "avx2" or "scalar": the packed path in use.
const char *activeIsaName();

} // namespace kernels
} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_GEMM_H
