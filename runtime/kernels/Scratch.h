//===- Scratch.h - The kernels' per-thread scratch buffers ------*- C++ -*-===//
//
// The kernels pack operands into per-thread scratch buffers. They are called
// from generated code, which has no way to report an error, so a session
// allocates every thread's buffers when it is created, for the largest calls
// of its model (recorded by the compiler in the signature, see
// Signature.h): running the model then allocates nothing, and a lack of
// memory is an error of Session::create. A call larger than what was
// reserved (direct callers of the kernels, a thread the session did not
// know) grows the buffers; if that fails, the process ends with one line on
// stderr and exit status 1.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_KERNELS_SCRATCH_H
#define KILN_RUNTIME_KERNELS_SCRATCH_H

#include <cstdint>

namespace kiln {
namespace kernels {

/// The largest operand sizes among a model's kernel calls; 0 where it makes
/// no such call.
struct ScratchSizes {
  /// K of matrix products and linear layers.
  int64_t gemmDepth = 0;
  /// The larger of M and N of matrix products and linear layers.
  int64_t gemmWidth = 0;
  /// D of layer and RMS norms.
  int64_t normWidth = 0;
  /// The head dims (d, dv) of attention.
  int64_t headDim = 0;

  bool empty() const {
    return gemmDepth <= 0 && gemmWidth <= 0 && normWidth <= 0 && headDim <= 0;
  }
};

/// Allocates the scratch buffers of the calling thread and of the workers
/// that the global thread pool's teams of `threads` use (starting them), for
/// calls within `sizes`. False when memory ran out.
bool reserveScratch(const ScratchSizes &sizes, int threads);

/// Internal, for tests: the scratch allocations the kernels have made so
/// far, reservations included.
int64_t scratchAllocationsForTesting();

} // namespace kernels
} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_SCRATCH_H
