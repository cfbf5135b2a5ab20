//===- KernelGenerator.h - Running kiln-halide, with a kernel cache -*- C++
//-*-===//
//
// The compiler's side of the Halide path: the specs that
// kiln-convert-to-halide-calls attached to kernel declarations are handed to
// the kiln-halide process, several at a time, and the objects are cached on
// disk by (spec, generator), where the generator's identity covers the
// Halide version, the target and the schedules (a hash of kiln-halide
// itself). Identical layers therefore compile once per machine. A cache
// entry whose files do not match its manifest is rebuilt, never linked.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_HALIDE_KERNELGENERATOR_H
#define KILN_CODEGEN_HALIDE_KERNELGENERATOR_H

#include "runtime/support/Error.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <string>
#include <vector>

namespace kiln {

/// The specs (JSON) of the Halide kernels `module` declares, in module
/// order, each once.
std::vector<std::string> collectHalideSpecs(mlir::ModuleOp module);

struct HalideGeneratorOptions {
  /// kiln-halide's path.
  std::string generator;
  /// The cache folder.
  std::string cacheDir;
  /// With --dump-ir: a folder to copy each kernel's spec, schedule and
  /// lowered statement into.
  std::string dumpDir;
  /// Target features for the Halide runtime object (joined by '+').
  std::string runtimeFeatures;
  /// kiln-halide processes at a time.
  unsigned jobs = 1;
};

/// The objects to link for `specs`: one per kernel, then the Halide runtime.
/// Empty when `specs` is.
Expected<std::vector<std::string>>
generateHalideKernels(const std::vector<std::string> &specs,
                      const HalideGeneratorOptions &options);

/// For `kiln compile --tune`: times each spec's Halide kernel and the
/// hand-written kernel of the LLVM path (`kiln-halide tune`, one at a time,
/// results cached like kernels) and returns, by kernel function name,
/// "halide" or "llvm", whichever was faster. Specs whose LLVM path is not
/// one kernel (generated loops) are left out: the rule decides those. Each
/// measurement is reported on `log`.
Expected<std::map<std::string, std::string>>
tuneHalideKernels(const std::vector<std::string> &specs,
                  const HalideGeneratorOptions &options,
                  llvm::raw_ostream &log);

/// kiln-halide's path: $KILN_HALIDE, else next to the running `kiln`.
std::string findHalideGenerator(const char *argv0);

/// The cache folder: $KILN_HALIDE_CACHE, else $XDG_CACHE_HOME/kiln/halide,
/// else ~/.cache/kiln/halide.
std::string defaultHalideCacheDir();

} // namespace kiln

#endif // KILN_CODEGEN_HALIDE_KERNELGENERATOR_H
