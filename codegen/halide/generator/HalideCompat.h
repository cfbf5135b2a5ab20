//===- HalideCompat.h - Everything that depends on the Halide version -*- C++
//-*-===//
//
// Target strings, output kinds and the runtime's compilation change between
// Halide releases; the rest of the generator calls them through here, so a
// Halide upgrade is a change to HalideCompat.cpp (and to the schedules, when
// scheduling calls change).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_HALIDE_GENERATOR_HALIDECOMPAT_H
#define KILN_CODEGEN_HALIDE_GENERATOR_HALIDECOMPAT_H

#include "codegen/halide/KernelSpec.h"
#include "codegen/halide/generator/Kernels.h"

#include <string>

namespace kiln::halide {

/// "21.0.0": part of every cache key.
std::string halideVersion();

/// Halide's target for `target`'s features. Kernels are compiled without a
/// runtime of their own (`no_runtime`): an executable links one runtime,
/// compiled by compileRuntime.
Expected<Halide::Target> makeTarget(const KernelTarget &target,
                                    bool withRuntime);

/// Where compileKernel writes; empty paths are skipped.
struct KernelOutputs {
  std::string object;
  std::string header;
  std::string stmt;     ///< the lowered statement, as text
  std::string stmtHtml; ///< Halide's lowering report
};

/// Compiles `kernel` as function `name`.
Error compileKernel(const BuiltKernel &kernel, const std::string &name,
                    const Halide::Target &target, const KernelOutputs &outputs);

/// The Halide runtime for `target`, as one object.
Error compileRuntime(const Halide::Target &target, const std::string &object);

} // namespace kiln::halide

#endif // KILN_CODEGEN_HALIDE_GENERATOR_HALIDECOMPAT_H
