//===- Norm.h - Row-wise fp32 normalization kernels -------------*- C++ -*-===//
//
// The runtime's LayerNorm (with an optional fused residual add) and RMSNorm
// over the last axis of a [R, D] tensor:
//
//   v[r, :]   = x[r, :] + residual[r, :]   (or x[r, :] without a residual)
//   LN:  out[r, :] = (v - mean(v)) / sqrt(var(v) + eps) * gamma + beta
//   RMS: out[r, :] = x / sqrt(mean(x^2) + eps) * gamma
//
// with the biased variance (/ D) of torch.nn.LayerNorm, computed in two passes
// (the mean, then the sum of squared deviations). Every operand is a strided
// view (any strides, an offset); out may alias x or residual exactly (in
// place). Each row is normalized on its own and stays in L1 between the
// passes, instead of the three whole-tensor passes of the generic lowering.
//
// Numerics. The residual add is one float add per element, as in the model.
// The LN mean is summed in double, so that rows with a large mean (1000 +
// noise) lose nothing to cancellation; the deviations (v - mean) are then
// exact up to one float rounding (the double mean is split into two floats),
// and their squares are summed in float. RMSNorm sums x^2 in float. Results
// match a double-precision reference to about 1e-6 relative.
//
// Summation order. Float sums run over 64 lanes (element i into lane i % 64,
// in increasing i) and double sums over 32; the lanes are then added in a
// fixed halving tree (lane j += lane j + W/2 for W = 64, 32, ..., 2). The
// order depends only on D: results are bit-identical for any thread count,
// and for the AVX2 and AVX-512 paths (the latter chosen at run time, see
// Gemm.h; KILN_GEMM_ISA=avx2 forces AVX2 here too), which share the lane
// structure (64 float lanes: 8 ymm or 4 zmm).
//
// Rows are split over ThreadPool::global() when there are enough elements
// (32K per thread); called from inside a parallel region, the kernels run
// serially on the calling thread.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_KERNELS_NORM_H
#define KILN_RUNTIME_KERNELS_NORM_H

#include "runtime/kernels/Gemm.h"

#include <cstdint>

extern "C" {
/// out = LN(x + residual) if hasResidual else LN(x); x, residual, out
/// [R, D], gamma and beta [D]. With hasResidual 0 the residual descriptor is
/// ignored (it may be null or alias x). Aborts with a message if the shapes
/// do not agree or hasResidual is not 0 or 1.
void _mlir_ciface_kiln_layer_norm_f32(KilnMemRef<2> *x, KilnMemRef<2> *residual,
                                      KilnMemRef<1> *gamma, KilnMemRef<1> *beta,
                                      KilnMemRef<2> *out, float epsilon,
                                      int64_t hasResidual);
/// out = RMSNorm(x) (T5 / LLaMA); x and out [R, D], gamma [D].
void _mlir_ciface_kiln_rms_norm_f32(KilnMemRef<2> *x, KilnMemRef<1> *gamma,
                                    KilnMemRef<2> *out, float epsilon);
}

namespace kiln {
namespace kernels {

/// LayerNorm on strided views: x(r, j) = x[r * rsX + j * csX], likewise
/// residual (null: no residual) and out; gamma(j) = gamma[j * gammaStride],
/// beta(j) = beta[j * betaStride]. `maxThreads` bounds the team (<= 0: the
/// global pool's size; 1: serial).
void layerNorm(int64_t rows, int64_t d, const float *x, int64_t rsX,
               int64_t csX, const float *residual, int64_t rsR, int64_t csR,
               const float *gamma, int64_t gammaStride, const float *beta,
               int64_t betaStride, float *out, int64_t rsO, int64_t csO,
               float epsilon, int maxThreads = 0);

/// RMSNorm on strided views, as layerNorm.
void rmsNorm(int64_t rows, int64_t d, const float *x, int64_t rsX, int64_t csX,
             const float *gamma, int64_t gammaStride, float *out, int64_t rsO,
             int64_t csO, float epsilon, int maxThreads = 0);

/// Internal, for tests and benchmarks: the instruction set of the norm
/// kernels (Auto: KILN_GEMM_ISA / the best available; Avx512 on a CPU without
/// AVX-512 selects Avx2). Not thread-safe against running kernels.
void setNormIsaForTesting(GemmIsa isa);

/// "avx512", "avx2" or "scalar": the norm path in use.
const char *normIsaName();

} // namespace kernels
} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_NORM_H
