//===- Tune.h - Timing a kernel spec on both backends -----------*- C++ -*-===//
//
// `kiln-halide tune SPEC.json` times the spec's Halide kernel (JIT-compiled
// for this CPU, its parallel loops on Kiln's thread pool, as in a generated
// executable) and, where the LLVM path computes the op with one hand-written
// runtime kernel, that kernel, at the spec's real shapes. `kiln compile
// --backend auto --tune` picks the faster one per kernel.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_HALIDE_GENERATOR_TUNE_H
#define KILN_CODEGEN_HALIDE_GENERATOR_TUNE_H

#include "codegen/halide/KernelSpec.h"

#include <optional>

namespace kiln::halide {

struct TuneResult {
  double halideMs = 0;
  /// Absent where the LLVM path is not one runtime kernel call (it is then
  /// generated loops, which this process cannot run).
  std::optional<double> llvmMs;
};

/// Times both candidates of `spec`, median of repeated runs after warm-up,
/// on `threads` threads (0: the pool's default).
Expected<TuneResult> tuneKernel(const KernelSpec &spec, int threads);

} // namespace kiln::halide

#endif // KILN_CODEGEN_HALIDE_GENERATOR_TUNE_H
