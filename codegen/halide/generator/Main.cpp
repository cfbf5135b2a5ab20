//===- Main.cpp - kiln-halide, the Halide generator process ---------------===//
//
//   kiln-halide --version
//       the Halide version and a hash of this executable
//   kiln-halide compile SPEC.json -o DIR [--stmt-html]
//       writes DIR/<name>.o, <name>.h, <name>.stmt and <name>.schedule.txt
//       (and <name>.stmt.html), <name> being the spec's function name;
//       prints <name>
//   kiln-halide tune SPEC.json [--threads N]
//       times the Halide kernel and the hand-written one the LLVM path
//       calls, if any; prints {"halide_ms": H, "llvm_ms": L or null}
//   kiln-halide runtime --features F1+F2+... -o FILE.o
//       the one Halide runtime an executable links
//
// The compiler runs this process for every kernel spec (DESIGN.md: Halide
// links an LLVM of its own, so it never shares a process with MLIR's).
// Errors are one line on stderr and exit code 1.
//
//===----------------------------------------------------------------------===//

#include "codegen/halide/KernelSpec.h"
#include "codegen/halide/generator/HalideCompat.h"
#include "codegen/halide/generator/Kernels.h"
#include "codegen/halide/generator/Tune.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace kiln;
using namespace kiln::halide;

// In a sanitized build (make test-sanitize), LeakSanitizer would fail every
// run at exit on libHalide's global state, which it never frees; the leak
// check is for Kiln's own code, which the other tools cover.
#if defined(__SANITIZE_ADDRESS__)
extern "C" int __lsan_is_turned_off() { return 1; }
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
extern "C" int __lsan_is_turned_off() { return 1; }
#endif
#endif

namespace {

int fail(const std::string &message) {
  std::cerr << "kiln-halide: error: " << message << "\n";
  return 1;
}

Expected<std::string> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return makeError(path, ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Error writeFile(const std::string &path, const std::string &text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out)
    return makeError(path, ": cannot write");
  return Error::success();
}

/// The checked spec in `specPath`; errors name the file.
Expected<KernelSpec> loadSpec(const std::string &specPath) {
  Expected<std::string> text = readFile(specPath);
  if (!text)
    return text.takeError();
  Expected<KernelSpec> spec = KernelSpec::fromJson(*text);
  if (!spec)
    return makeError(specPath, ": ", spec.message());
  return spec;
}

int compileSpec(const std::string &specPath, const std::string &dir,
                bool stmtHtml) {
  Expected<KernelSpec> spec = loadSpec(specPath);
  if (!spec)
    return fail(spec.message());
  Expected<Halide::Target> target = makeTarget(spec->target, false);
  if (!target)
    return fail(specPath + ": " + target.message());
  Expected<BuiltKernel> kernel = buildKernel(*spec, *target);
  if (!kernel)
    return fail(specPath + ": " + kernel.message());
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return fail(dir + ": cannot create: " + ec.message());
  std::string name = spec->functionName();
  std::string base = dir + "/" + name;
  KernelOutputs outputs{base + ".o", base + ".h", base + ".stmt",
                        stmtHtml ? base + ".stmt.html" : ""};
  if (Error error = compileKernel(*kernel, name, *target, outputs))
    return fail(specPath + ": " + error.message());
  if (Error error =
          writeFile(base + ".schedule.txt",
                    "target: " + target->to_string() +
                        "\nschedule: " + kernel->scheduleSummary + "\n"))
    return fail(error.message());
  std::cout << name << "\n";
  return 0;
}

int compileRuntimeObject(const std::string &features,
                         const std::string &output) {
  KernelTarget spec;
  std::stringstream list(features);
  for (std::string feature; std::getline(list, feature, '+');)
    if (!feature.empty())
      spec.features.push_back(feature);
  Expected<Halide::Target> target = makeTarget(spec, true);
  if (!target)
    return fail(target.message());
  if (Error error = compileRuntime(*target, output))
    return fail(error.message());
  return 0;
}

/// A hash of this executable: the algorithms and schedules are compiled
/// into it, so the compiler's kernel cache keys on it (with the Halide
/// version), and a rebuilt generator never reuses stale kernels.
std::string buildId() {
  Expected<std::string> bytes = readFile("/proc/self/exe");
  return bytes ? hashHex(*bytes) : "unknown";
}

int tuneSpec(const std::string &specPath, int threads) {
  Expected<KernelSpec> spec = loadSpec(specPath);
  if (!spec)
    return fail(spec.message());
  Expected<TuneResult> result = tuneKernel(*spec, threads);
  if (!result)
    return fail(specPath + ": " + result.message());
  nlohmann::json line = {{"halide_ms", result->halideMs},
                         {"llvm_ms", result->llvmMs
                                         ? nlohmann::json(*result->llvmMs)
                                         : nlohmann::json()}};
  std::cout << line.dump() << "\n";
  return 0;
}

constexpr const char *kUsage =
    "usage: kiln-halide --version\n"
    "       kiln-halide compile SPEC.json -o DIR [--stmt-html]\n"
    "       kiln-halide tune SPEC.json [--threads N]\n"
    "       kiln-halide runtime --features F1+F2+... -o FILE.o\n";

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && args[0] == "--version") {
    std::cout << "kiln-halide (Halide " << halideVersion() << ") build "
              << buildId() << "\n";
    return 0;
  }
  if (args.empty()) {
    std::cerr << kUsage;
    return 1;
  }
  std::string command = args[0], input, output, features, threads;
  bool stmtHtml = false;
  for (size_t i = 1; i < args.size(); ++i) {
    auto value = [&](const char *flag) -> const std::string * {
      if (args[i] != flag)
        return nullptr;
      if (i + 1 == args.size())
        return nullptr;
      return &args[++i];
    };
    if (const std::string *v = value("-o"))
      output = *v;
    else if (const std::string *v = value("--features"))
      features = *v;
    else if (const std::string *v = value("--threads"))
      threads = *v;
    else if (args[i] == "--stmt-html")
      stmtHtml = true;
    else if (args[i][0] != '-' && input.empty())
      input = args[i];
    else
      return fail("unexpected argument '" + args[i] + "'\n" + kUsage);
  }
  try {
    if (command == "compile" && !input.empty() && !output.empty())
      return compileSpec(input, output, stmtHtml);
    if (command == "runtime" && input.empty() && !output.empty())
      return compileRuntimeObject(features, output);
    if (command == "tune" && !input.empty() && output.empty())
      return tuneSpec(input, threads.empty() ? 0 : std::stoi(threads));
  } catch (const Halide::Error &error) {
    return fail(std::string("Halide: ") + error.what());
  } catch (const std::exception &error) {
    return fail(std::string("internal error: ") + error.what());
  }
  std::cerr << kUsage;
  return 1;
}
