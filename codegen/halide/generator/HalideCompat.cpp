//===- HalideCompat.cpp - Everything that depends on the Halide version ---===//

#include "codegen/halide/generator/HalideCompat.h"

#include <map>

namespace kiln::halide {

using namespace Halide;

std::string halideVersion() {
  return std::to_string(HALIDE_VERSION_MAJOR) + "." +
         std::to_string(HALIDE_VERSION_MINOR) + "." +
         std::to_string(HALIDE_VERSION_PATCH);
}

Expected<Target> makeTarget(const KernelTarget &spec, bool withRuntime) {
  if (spec.arch != "x86-64")
    return makeError("kernel spec: target.arch: unsupported '", spec.arch,
                     "' (x86-64)");
  Target target(Target::Linux, Target::X86, 64);
  auto has = [&](const char *feature) {
    for (const std::string &f : spec.features)
      if (f == feature)
        return true;
    return false;
  };
  for (const std::string &feature : spec.features) {
    static const char *known[] = {"avx2", "fma", "avx512", "avx512_bf16",
                                  "avx512_vnni"};
    bool ok = false;
    for (const char *k : known)
      ok |= feature == k;
    if (!ok)
      return makeError("kernel spec: target.features: unknown '", feature, "'");
  }
  // x86-64-v3 is Halide's avx2 + fma + f16c + sse41; v4 adds its
  // avx512_skylake set. BF16 and VNNI arrive with Halide's Zen 4 feature
  // set (avx512_zen4 implies both), which the precision work will use.
  if (has("avx2"))
    target = target.with_feature(Target::SSE41)
                 .with_feature(Target::AVX)
                 .with_feature(Target::AVX2)
                 .with_feature(Target::F16C);
  if (has("fma"))
    target = target.with_feature(Target::FMA);
  if (has("avx512"))
    target = target.with_feature(Target::AVX512)
                 .with_feature(Target::AVX512_Skylake);
  if (has("avx512_bf16") && has("avx512_vnni"))
    target = target.with_feature(Target::AVX512_Cannonlake)
                 .with_feature(Target::AVX512_Zen4);
  if (!withRuntime)
    target = target.with_feature(Target::NoRuntime);
  return target;
}

Error compileKernel(const BuiltKernel &kernel, const std::string &name,
                    const Target &target, const KernelOutputs &outputs) {
  std::map<OutputFileType, std::string> files;
  if (!outputs.object.empty())
    files[OutputFileType::object] = outputs.object;
  if (!outputs.header.empty())
    files[OutputFileType::c_header] = outputs.header;
  if (!outputs.stmt.empty())
    files[OutputFileType::stmt] = outputs.stmt;
  if (!outputs.stmtHtml.empty())
    files[OutputFileType::stmt_html] = outputs.stmtHtml;
  try {
    kernel.pipeline().compile_to(files, kernel.arguments(), name, target);
  } catch (const Halide::Error &error) {
    return makeError("Halide could not compile kernel ", name, ": ",
                     error.what());
  }
  return Error::success();
}

Error compileRuntime(const Target &target, const std::string &object) {
  try {
    compile_standalone_runtime(object, target);
  } catch (const Halide::Error &error) {
    return makeError("Halide could not compile its runtime: ", error.what());
  }
  return Error::success();
}

} // namespace kiln::halide
