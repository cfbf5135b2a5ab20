//===- KernelGenerator.cpp - Running kiln-halide, with a kernel cache -----===//

#include "codegen/halide/KernelGenerator.h"

#include "codegen/Passes.h"
#include "codegen/halide/KernelSpec.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

using namespace llvm;

namespace kiln {

std::vector<std::string> collectHalideSpecs(mlir::ModuleOp module) {
  std::vector<std::string> specs;
  for (auto func : module.getOps<mlir::func::FuncOp>())
    if (auto spec = func->getAttrOfType<mlir::StringAttr>(kHalideSpecAttr))
      specs.push_back(spec.getValue().str());
  return specs;
}

std::string findHalideGenerator(const char *argv0) {
  if (const char *path = std::getenv("KILN_HALIDE"))
    return path;
  static int anchor;
  std::string executable = sys::fs::getMainExecutable(argv0, &anchor);
  SmallString<256> path(sys::path::parent_path(executable));
  sys::path::append(path, "kiln-halide");
  return std::string(path);
}

std::string defaultHalideCacheDir() {
  if (const char *dir = std::getenv("KILN_HALIDE_CACHE"))
    return dir;
  SmallString<256> path;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    path = xdg;
  else if (!sys::path::cache_directory(path))
    path = "/tmp";
  sys::path::append(path, "kiln", "halide");
  return std::string(path);
}

namespace {

std::string hex64(uint64_t value) {
  char text[17];
  snprintf(text, sizeof(text), "%016llx",
           static_cast<unsigned long long>(value));
  return text;
}

Expected<std::string> readText(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(path.str(), ": ", buffer.getError().message());
  return (*buffer)->getBuffer().str();
}

Error writeText(StringRef path, StringRef text) {
  std::error_code ec;
  raw_fd_ostream os(path, ec);
  if (ec)
    return makeError("cannot write '", path.str(), "': ", ec.message());
  os << text;
  os.close();
  if (os.has_error())
    return makeError("cannot write '", path.str(), "'");
  return Error::success();
}

std::string pathJoin(StringRef a, StringRef b) {
  SmallString<256> path(a);
  sys::path::append(path, b);
  return std::string(path);
}

/// What identifies the generator: its --version line, which names its Halide
/// and a hash of its own executable (schedules and algorithms are compiled
/// into it).
Expected<std::string> generatorIdentity(const std::string &generator) {
  if (!sys::fs::can_execute(generator))
    return makeError("kiln-halide not found at '", generator,
                     "' (it is built with kiln; set KILN_HALIDE to its path)");
  SmallString<256> versionFile;
  if (std::error_code ec = sys::fs::createTemporaryFile("kiln-halide-version",
                                                        "txt", versionFile))
    return makeError("cannot create a temporary file: ", ec.message());
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(versionFile),
                                          StringRef(versionFile)};
  std::string message;
  int status = sys::ExecuteAndWait(generator, {generator, "--version"},
                                   std::nullopt, redirects, 0, 0, &message);
  Expected<std::string> version = readText(versionFile);
  sys::fs::remove(versionFile);
  if (status != 0 || !version || StringRef(*version).trim().empty())
    return makeError("'", generator, " --version' failed",
                     message.empty() ? "" : ": " + message);
  return StringRef(*version).trim().str();
}

/// One cache entry: a folder named after the key, holding the generator's
/// outputs and a manifest written last.
struct CacheEntry {
  std::string dir;
  /// The function name (kiln-halide prints it), "runtime" for the runtime.
  std::string name;

  static constexpr const char *kManifest = "manifest.json";

  std::string object() const { return pathJoin(dir, name + ".o"); }

  /// Reads the manifest: true when it names `identity` and `request` and
  /// the object's hash matches it.
  bool load(StringRef identity, StringRef request) {
    Expected<std::string> text = readText(pathJoin(dir, kManifest));
    if (!text)
      return false;
    nlohmann::json manifest =
        nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!manifest.is_object() || manifest.value("generator", "") != identity ||
        manifest.value("request", "") != request ||
        !manifest.contains("name") || !manifest["name"].is_string())
      return false;
    name = manifest["name"].get<std::string>();
    Expected<std::string> bytes = readText(object());
    return bytes &&
           manifest.value("object_xxh3", "") == hex64(xxh3_64bits(*bytes));
  }
};

class Generator {
public:
  Generator(const HalideGeneratorOptions &options, std::string identity)
      : options(options), identity(std::move(identity)) {}

  /// The object for `request` (a spec, or the runtime's features), from the
  /// cache or built now.
  Expected<std::string> objectFor(const std::string &request, bool runtime) {
    std::string key = hex64(xxh3_64bits(request + "\n" + identity));
    CacheEntry entry{pathJoin(options.cacheDir, key), ""};
    if (sys::fs::exists(entry.dir)) {
      if (entry.load(identity, request)) {
        dump(entry);
        return entry.object();
      }
      errs() << "note: rebuilding the damaged Halide kernel cache entry '"
             << entry.dir << "'\n";
      sys::fs::remove_directories(entry.dir);
    }
    if (Error error = build(entry, request, runtime))
      return error;
    dump(entry);
    return entry.object();
  }

private:
  Error build(CacheEntry &entry, const std::string &request, bool runtime) {
    // Built in a private folder, renamed into place when complete: a
    // concurrent or interrupted compile never leaves a partial entry.
    SmallString<256> scratch;
    if (std::error_code ec = sys::fs::createUniqueDirectory(
            pathJoin(options.cacheDir, "build"), scratch))
      return makeError("cannot create a folder in '", options.cacheDir,
                       "': ", ec.message());
    std::string log = pathJoin(scratch, "log.txt");
    std::vector<std::string> args = {options.generator};
    if (runtime) {
      args.insert(args.end(), {"runtime", "--features", request, "-o",
                               pathJoin(scratch, "runtime.o")});
    } else {
      std::string specPath = pathJoin(scratch, "spec.json");
      if (Error error = writeText(specPath, request))
        return error;
      args.insert(args.end(),
                  {"compile", specPath, "-o", std::string(scratch)});
    }
    SmallVector<StringRef> argRefs(args.begin(), args.end());
    std::optional<StringRef> redirects[] = {std::nullopt, StringRef(log),
                                            StringRef(log)};
    std::string message;
    int status = sys::ExecuteAndWait(options.generator, argRefs, std::nullopt,
                                     redirects, 0, 0, &message);
    Expected<std::string> output = readText(log);
    std::string printed = output ? StringRef(*output).trim().str() : "";
    std::string what = runtime ? std::string("the runtime")
                               : "a " + specSummary(request) + " kernel";
    if (status != 0) {
      sys::fs::remove_directories(scratch);
      // kiln-halide's own message is one line; a crash leaves Halide's.
      std::string reason = printed.empty() ? message : printed;
      return makeError("kiln-halide failed to generate ", what, ": ",
                       StringRef(reason).split('\n').first.str());
    }
    // kiln-halide prints the function name last.
    entry.name =
        runtime ? "runtime" : StringRef(printed).rsplit('\n').second.str();
    if (!runtime && entry.name.empty())
      entry.name = printed;
    std::string object = pathJoin(scratch, entry.name + ".o");
    Expected<std::string> bytes = readText(object);
    if (!bytes || bytes->empty()) {
      sys::fs::remove_directories(scratch);
      return makeError("kiln-halide wrote no object for ", what);
    }
    sys::fs::remove(log);
    nlohmann::json manifest = {{"generator", identity},
                               {"request", request},
                               {"name", entry.name},
                               {"object_xxh3", hex64(xxh3_64bits(*bytes))}};
    if (Error error = writeText(pathJoin(scratch, CacheEntry::kManifest),
                                manifest.dump(2)))
      return error;
    if (std::error_code ec = sys::fs::rename(scratch, entry.dir)) {
      // Another compile finished the same entry first: use it.
      sys::fs::remove_directories(scratch);
      if (!entry.load(identity, request))
        return makeError("cannot move '", std::string(scratch), "' to '",
                         entry.dir, "': ", ec.message());
    }
    return Error::success();
  }

  static std::string specSummary(const std::string &spec) {
    nlohmann::json root =
        nlohmann::json::parse(spec, nullptr, /*allow_exceptions=*/false);
    if (!root.is_object())
      return "spec";
    std::string summary = root.value("op", "?");
    if (root.contains("args") && root["args"].is_array())
      for (const nlohmann::json &arg : root["args"])
        if (arg.is_object() && arg.contains("shape"))
          summary += " " + arg["shape"].dump();
    return summary;
  }

  /// With --dump-ir: the entry's spec, schedule and lowered statement.
  void dump(const CacheEntry &entry) {
    const std::string &name = entry.name;
    if (options.dumpDir.empty() || name == "runtime")
      return;
    std::string dir = pathJoin(options.dumpDir, "halide");
    std::lock_guard<std::mutex> lock(dumpMutex);
    if (sys::fs::create_directories(dir))
      return;
    for (const char *suffix : {".schedule.txt", ".stmt", ".h"}) {
      std::string file = name + suffix;
      sys::fs::copy_file(pathJoin(entry.dir, file), pathJoin(dir, file));
    }
    sys::fs::copy_file(pathJoin(entry.dir, "spec.json"),
                       pathJoin(dir, name + ".spec.json"));
  }

  const HalideGeneratorOptions &options;
  std::string identity;
  std::mutex dumpMutex;
};

} // namespace

Expected<std::vector<std::string>>
generateHalideKernels(const std::vector<std::string> &specs,
                      const HalideGeneratorOptions &options) {
  std::vector<std::string> unique;
  llvm::StringSet<> seen;
  for (const std::string &spec : specs)
    if (seen.insert(spec).second)
      unique.push_back(spec);
  if (unique.empty())
    return std::vector<std::string>();
  if (std::error_code ec = sys::fs::create_directories(options.cacheDir))
    return makeError("cannot create the Halide kernel cache '",
                     options.cacheDir, "': ", ec.message());
  Expected<std::string> identity = generatorIdentity(options.generator);
  if (!identity)
    return identity.takeError();
  Generator generator(options, *identity);

  // Requests: every kernel, then the runtime.
  std::vector<std::pair<std::string, bool>> requests;
  for (const std::string &spec : unique)
    requests.push_back({spec, false});
  requests.push_back({options.runtimeFeatures, true});
  std::vector<std::string> objects(requests.size());
  std::vector<Error> errors(requests.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < requests.size(); i = next++) {
      Expected<std::string> object =
          generator.objectFor(requests[i].first, requests[i].second);
      if (object)
        objects[i] = *object;
      else
        errors[i] = object.takeError();
    }
  };
  unsigned jobs =
      std::max(1u, std::min<unsigned>(options.jobs, requests.size()));
  std::vector<std::thread> threads;
  for (unsigned j = 1; j < jobs; ++j)
    threads.emplace_back(work);
  work();
  for (std::thread &thread : threads)
    thread.join();
  for (Error &error : errors)
    if (error)
      return error;
  return objects;
}

Expected<std::map<std::string, std::string>>
tuneHalideKernels(const std::vector<std::string> &specs,
                  const HalideGeneratorOptions &options, raw_ostream &log) {
  std::map<std::string, std::string> choices;
  if (specs.empty())
    return choices;
  Expected<std::string> identity = generatorIdentity(options.generator);
  if (!identity)
    return identity.takeError();
  std::string dir = pathJoin(options.cacheDir, "tune");
  if (std::error_code ec = sys::fs::create_directories(dir))
    return makeError("cannot create '", dir, "': ", ec.message());
  llvm::StringSet<> seen;
  // One at a time: measurements taken side by side would disturb each
  // other.
  for (const std::string &text : specs) {
    if (!seen.insert(text).second)
      continue;
    Expected<halide::KernelSpec> spec = halide::KernelSpec::fromJson(text);
    if (!spec)
      return makeError("internal error: ", spec.message());
    std::string key = hex64(xxh3_64bits(text + "\n" + *identity));
    std::string cached = pathJoin(dir, key + ".json");
    Expected<std::string> measured = readText(cached);
    nlohmann::json result =
        measured ? nlohmann::json::parse(*measured, nullptr, false)
                 : nlohmann::json();
    if (!result.is_object() || !result.contains("halide_ms")) {
      SmallString<256> specPath, outPath;
      if (sys::fs::createTemporaryFile("kiln-tune", "json", specPath) ||
          sys::fs::createTemporaryFile("kiln-tune", "out", outPath))
        return makeError("cannot create a temporary file");
      if (Error error = writeText(specPath, text))
        return error;
      std::optional<StringRef> redirects[] = {std::nullopt, StringRef(outPath),
                                              StringRef(outPath)};
      std::string message;
      int status = sys::ExecuteAndWait(
          options.generator, {options.generator, "tune", StringRef(specPath)},
          std::nullopt, redirects, 0, 0, &message);
      Expected<std::string> printed = readText(outPath);
      sys::fs::remove(specPath);
      sys::fs::remove(outPath);
      std::string output = printed ? StringRef(*printed).trim().str() : "";
      result = nlohmann::json::parse(
          StringRef(output).rsplit('\n').second.empty()
              ? output
              : StringRef(output).rsplit('\n').second.str(),
          nullptr, false);
      if (status != 0 || !result.is_object() || !result.contains("halide_ms"))
        return makeError("kiln-halide could not time a ", spec->op, " kernel: ",
                         StringRef(output.empty() ? message : output)
                             .split('\n')
                             .first.str());
      (void)writeText(cached, result.dump());
    }
    double halideMs = result["halide_ms"].get<double>();
    log << "tune: " << spec->functionName() << " (" << spec->op << "): halide "
        << format("%.4f", halideMs) << " ms";
    if (result["llvm_ms"].is_number()) {
      double llvmMs = result["llvm_ms"].get<double>();
      std::string choice = halideMs < llvmMs ? "halide" : "llvm";
      choices[spec->functionName()] = choice;
      log << ", llvm " << format("%.4f", llvmMs) << " ms: " << choice << "\n";
    } else {
      log << ", llvm not a single kernel: the rule decides\n";
    }
  }
  return choices;
}

} // namespace kiln
