//===- ModelMain.cpp - The command line of generated executables ----------===//

#include "runtime/apps/ModelMain.h"
#include "runtime/apps/CommandLine.h"
#include "runtime/support/FileUtil.h"
#include "runtime/support/MemRef.h"
#include "runtime/support/Npy.h"
#include "runtime/session/Session.h"
#include "runtime/session/Signature.h"
#include "runtime/support/Tensor.h"
#include "runtime/threads/ThreadPool.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kiln {

namespace {

/// Number of values shown per output when printing to stdout.
constexpr uint64_t kPrintedValues = 8;
constexpr int64_t kMaxBenchRuns = 1000000;

struct InputSpec {
  std::string name;
  std::string path;
};

struct Options {
  bool help = false;
  bool printSignature = false;
  std::optional<std::string> entry;
  std::vector<InputSpec> inputs;
  std::optional<std::string> outputDir;
  std::vector<std::string> weightsPaths;
  std::optional<int> threads;
  int64_t benchRuns = 0;
};

Expected<Options> parseOptions(int argc, char **argv) {
  Options options;
  ArgumentScanner args(argc, argv, /*positionals=*/false);
  while (args.next()) {
    const std::string &flag = args.flag();
    if (flag == "--help" || flag == "-h") {
      options.help = true;
    } else if (flag == "--signature") {
      options.printSignature = true;
    } else if (flag == "--entry") {
      if (Error e = args.takeValue())
        return e;
      if (args.value().empty())
        return makeError("--entry expects an entry name, got ''");
      options.entry = args.value();
    } else if (flag == "--input") {
      if (Error e = args.takeValue())
        return e;
      const std::string &value = args.value();
      size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == value.size())
        return makeError("--input expects NAME=FILE.npy, got '", value, "'");
      options.inputs.push_back({value.substr(0, eq), value.substr(eq + 1)});
    } else if (flag == "--output") {
      if (Error e = args.takeValue())
        return e;
      if (args.value().empty())
        return makeError("--output expects a directory, got ''");
      options.outputDir = args.value();
    } else if (flag == "--weights") {
      if (Error e = args.takeWeights(options.weightsPaths))
        return e;
    } else if (flag == "--threads") {
      if (Error e = args.takeThreads(options.threads))
        return e;
    } else if (flag == "--bench") {
      if (Error e = args.takeValue())
        return e;
      std::optional<int64_t> n = parseInteger(args.value(), 1, kMaxBenchRuns);
      if (!n)
        return makeError("--bench expects a number of runs from 1 to ",
                         kMaxBenchRuns, ", got '", args.value(), "'");
      options.benchRuns = *n;
    } else {
      return makeError("unknown argument '", args.arg(), "' (see --help)");
    }
  }
  return options;
}

/// A file name for an output: characters outside [A-Za-z0-9._-] become '_',
/// and no name is hidden, empty or a path component like "..".
std::string sanitizeFileName(const std::string &name) {
  std::string out;
  for (char c : name) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    out += safe ? c : '_';
  }
  if (out.empty() || out[0] == '.')
    out = "_" + out;
  return out;
}

std::string formatValue(DType type, const unsigned char *p) {
  char buf[64];
  switch (type) {
  case DType::F32:
  case DType::F64:
  case DType::F16:
  case DType::BF16: {
    double v;
    float f;
    if (type == DType::F64) {
      std::memcpy(&v, p, sizeof v);
    } else {
      (void)convertElements(type, p, DType::F32, &f, 1);
      v = f;
    }
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
  }
  case DType::I32: {
    int32_t v;
    std::memcpy(&v, p, sizeof v);
    return std::to_string(v);
  }
  case DType::I64: {
    int64_t v;
    std::memcpy(&v, p, sizeof v);
    return std::to_string(v);
  }
  case DType::I8:
    return std::to_string(static_cast<int8_t>(*p));
  case DType::U8:
    return std::to_string(*p);
  case DType::I1:
    return *p ? "true" : "false";
  }
  return "?";
}

void printOutput(const SignatureArg &arg, const void *data, std::ostream &out) {
  out << arg.name << ": " << formatType(arg.dtype, arg.shape) << " = ";
  uint64_t count = checkedNumElements(arg.shape).value_or(0);
  const auto *bytes = static_cast<const unsigned char *>(data);
  size_t size = dtypeSize(arg.dtype);
  if (arg.shape.empty()) {
    out << formatValue(arg.dtype, bytes) << "\n";
    return;
  }
  out << "[";
  for (uint64_t i = 0; i < count && i < kPrintedValues; ++i)
    out << (i ? ", " : "") << formatValue(arg.dtype, bytes + i * size);
  if (count > kPrintedValues)
    out << ", ...";
  out << "]\n";
}

/// "'x', 'lengths'", or "none".
std::string listNames(const EntrySignature &entry, ArgRole role) {
  std::string out;
  for (const SignatureArg &arg : entry.args) {
    if (arg.role != role)
      continue;
    if (!out.empty())
      out += ", ";
    out += "'" + arg.name + "'";
  }
  return out.empty() ? "none" : out;
}

/// "inputs: 'x', 'ids'", plus "; states: ..." when the entry has states.
std::string listSettable(const EntrySignature &entry) {
  std::string out = "inputs: " + listNames(entry, ArgRole::Input);
  if (entry.count(ArgRole::State))
    out += "; states: " + listNames(entry, ArgRole::State);
  return out;
}

/// "1.5 MB", "12 KB", "300 bytes".
std::string formatBytes(int64_t bytes) {
  char text[32];
  if (bytes >= (int64_t(1) << 20))
    std::snprintf(text, sizeof(text), "%.1f MB", bytes / 1048576.0);
  else if (bytes >= 1024)
    std::snprintf(text, sizeof(text), "%.1f KB", bytes / 1024.0);
  else
    std::snprintf(text, sizeof(text), "%lld bytes",
                  static_cast<long long>(bytes));
  return text;
}

/// Which entry the command line selects: --entry, or the only one.
Expected<const EntrySignature *> selectEntry(const Options &options,
                                             const ModelSignature &signature) {
  if (options.entry) {
    const EntrySignature *entry = signature.entry(*options.entry);
    if (!entry)
      return makeError("unknown entry '", *options.entry,
                       "' (entries: ", signature.entryNames(), ")");
    return entry;
  }
  std::vector<const EntrySignature *> entries = signature.userEntries();
  if (entries.size() == 1)
    return entries.front();
  return makeError(
      "the model has ", entries.size(),
      " entries; pass --entry NAME (entries: ", signature.entryNames(), ")");
}

void printArgs(const EntrySignature &entry, std::ostream &out) {
  size_t width = 0;
  for (const SignatureArg &arg : entry.args)
    if (arg.role != ArgRole::Weight && arg.role != ArgRole::Scratch)
      width = std::max(width, arg.name.size());
  for (ArgRole role : {ArgRole::Input, ArgRole::Output, ArgRole::State}) {
    bool any = entry.count(role) != 0;
    if (role == ArgRole::State && !any)
      continue;
    out << "\n"
        << (role == ArgRole::Input    ? "inputs:"
            : role == ArgRole::Output ? "outputs:"
                                      : "states:");
    for (const SignatureArg &arg : entry.args) {
      if (arg.role != role)
        continue;
      out << "\n  " << arg.name << std::string(width - arg.name.size() + 2, ' ')
          << formatType(arg.dtype, arg.shape);
    }
    out << (any ? "\n" : " none\n");
  }
}

void printUsage(const std::string &program, const ModelSignature &signature,
                const EntrySignature *entry, const ModelSymbols &model,
                std::ostream &out) {
  std::vector<const EntrySignature *> entries = signature.userEntries();
  bool several = entries.size() > 1;
  out << "usage: " << program << (several ? " --entry NAME" : " [--entry NAME]")
      << " [--input NAME=FILE.npy]... [--output DIR]\n"
         "       [--weights FILE.safetensors]... [--threads N] [--bench N]\n"
         "       [--signature] [--help]\n\n";
  if (entry)
    out << "Runs entry '" << entry->name << "' of the compiled model.\n\n";
  else
    out << "Runs one entry of the compiled model.\n\n";
  out << "options:\n"
         "  --entry NAME           the entry to run ("
      << (several ? "required: the model has " +
                        std::to_string(entries.size()) + " entries"
                  : "default: the only one")
      << ")\n"
         "  --input NAME=FILE.npy  value of input NAME (every input is "
         "required), or\n"
         "                         initial value of state NAME (default: "
         "zeros)\n"
         "  --output DIR           write each output and state to "
         "DIR/NAME.npy\n"
         "                         (default: print the first values of "
         "each)\n"
         "  --weights FILE         safetensors file holding the weights "
         "(repeat for\n"
         "                         sharded checkpoints)\n"
         "  --threads N            number of threads (default: "
      << ThreadPool::defaultNumThreads()
      << ")\n"
         "  --bench N              run N more times, report timings on "
         "stderr\n"
         "  --signature            print the model signature as JSON\n"
         "  --help                 print this help\n";

  if (entry) {
    printArgs(*entry, out);
    if (entry->temporaryBytes > 0)
      out << "\ntemporaries: " << formatBytes(entry->temporaryBytes)
          << " (planned at compile time)\n";
  } else {
    out << "\nentries (pass --entry NAME --help for details):\n";
    for (const EntrySignature *e : entries) {
      out << "  " << e->name << ": inputs " << listNames(*e, ArgRole::Input)
          << "; outputs " << listNames(*e, ArgRole::Output);
      if (e->temporaryBytes > 0)
        out << "; temporaries " << formatBytes(e->temporaryBytes);
      out << "\n";
    }
  }

  size_t numWeights = signature.checkpointWeights().size();
  out << "\nweights: " << numWeights << " tensor"
      << (numWeights == 1 ? "" : "s");
  if (numWeights)
    out << ", " << describeWeightsSource(model);
  out << "\n";
}

/// Reads `path` as the value of `arg` (an input or a state). `what` is
/// "input" or "state".
Expected<Tensor> readArgument(const SignatureArg &arg, const char *what,
                              const std::string &path) {
  Expected<Tensor> tensor = readNpy(path);
  if (!tensor)
    return makeError(what, " '", arg.name, "': ", tensor.message());
  // numpy has no bfloat16: bf16 values are given as f32 and rounded.
  bool bf16FromF32 = arg.dtype == DType::BF16 && tensor->dtype == DType::F32;
  if ((tensor->dtype != arg.dtype && !bf16FromF32) ||
      tensor->shape != arg.shape) {
    std::string hint;
    if (tensor->dtype != arg.dtype && !isFloatingPoint(arg.dtype) &&
        !isFloatingPoint(tensor->dtype) && arg.dtype != DType::I1)
      hint = std::string(" (integer ") + what +
             "s must have exactly this type; convert with .astype(np." +
             (arg.dtype == DType::I64 ? "int64" : "int32") + "))";
    else if (tensor->dtype != arg.dtype && arg.dtype == DType::BF16)
      hint = std::string(" (give bf16 ") + what + "s as f32)";
    return makeError(what, " '", arg.name, "' (", path, "): expected ",
                     formatType(arg.dtype, arg.shape), ", got ",
                     formatType(tensor->dtype, tensor->shape), hint);
  }
  if (arg.role == ArgRole::Input)
    if (Error e = checkIndexValues(arg, tensor->view()))
      return makeError(what, " '", arg.name, "' (", path, "): ", e.message());
  if (bf16FromF32) {
    Expected<Tensor> converted = Tensor::allocate(arg.dtype, arg.shape);
    if (!converted)
      return makeError(what, " '", arg.name, "': ", converted.message());
    if (Error e = convertElements(DType::F32, tensor->data(), DType::BF16,
                                  converted->data(), tensor->numElements()))
      return makeError(what, " '", arg.name, "': ", e.message());
    return converted;
  }
  return tensor;
}

/// The tensors given with --input, by argument name: every input of `entry`
/// and any of its states.
Expected<std::map<std::string, Tensor>>
loadInputs(const Options &options, const EntrySignature &entry) {
  std::map<std::string, std::string> given; // name -> path
  for (const InputSpec &spec : options.inputs) {
    const SignatureArg *arg = entry.find(spec.name);
    if (!arg)
      return makeError("unknown input '", spec.name, "' (", listSettable(entry),
                       ")");
    if (arg->role != ArgRole::Input && arg->role != ArgRole::State)
      return makeError("'", spec.name, "' is ",
                       arg->role == ArgRole::Weight    ? "a weight"
                       : arg->role == ArgRole::Scratch ? "scratch memory"
                                                       : "an output",
                       " of the model, not an input (", listSettable(entry),
                       ")");
    auto [it, inserted] = given.emplace(spec.name, spec.path);
    if (!inserted)
      return makeError(arg->role == ArgRole::State ? "state '" : "input '",
                       spec.name, "' given twice (", it->second, " and ",
                       spec.path, ")");
  }

  std::string missing;
  for (const SignatureArg &arg : entry.args) {
    if (arg.role != ArgRole::Input || given.count(arg.name))
      continue;
    if (!missing.empty())
      missing += ", ";
    missing += "'" + arg.name + "' (" + formatType(arg.dtype, arg.shape) + ")";
  }
  if (!missing.empty())
    return makeError("missing input ", missing,
                     "; pass each input as --input NAME=FILE.npy");

  std::map<std::string, Tensor> tensors;
  for (const SignatureArg &arg : entry.args) {
    auto it = given.find(arg.name);
    if (it == given.end())
      continue;
    Expected<Tensor> tensor = readArgument(
        arg, arg.role == ArgRole::State ? "state" : "input", it->second);
    if (!tensor)
      return tensor.takeError();
    tensors.emplace(arg.name, std::move(*tensor));
  }
  return tensors;
}

/// Writes each output and state of `entry` to DIR/NAME.npy.
Error writeResults(const std::string &dir, const EntrySignature &entry,
                   const std::map<std::string, TensorView> &results) {
  if (Error e = createDirectories(dir))
    return e;
  std::set<std::string> used;
  for (ArgRole role : {ArgRole::Output, ArgRole::State}) {
    for (const SignatureArg &arg : entry.args) {
      if (arg.role != role)
        continue;
      std::string base = sanitizeFileName(arg.name), fileName = base;
      for (int n = 2; used.count(fileName); ++n)
        fileName = base + "_" + std::to_string(n);
      used.insert(fileName);
      std::string path = dir + "/" + fileName + ".npy";

      TensorView view = results.at(arg.name);
      Expected<Tensor> widened = makeError("unused");
      if (!npyDescr(arg.dtype)) {
        // numpy cannot hold bf16 (or i8/u8 here): write f32 / i32 instead.
        DType wide = isFloatingPoint(arg.dtype) ? DType::F32 : DType::I32;
        widened = Tensor::allocate(wide, arg.shape);
        if (!widened)
          return makeError(roleName(role), " '", arg.name,
                           "': ", widened.message());
        uint64_t count = widened->numElements();
        if (wide == DType::F32) {
          if (Error e = convertElements(arg.dtype, view.data, DType::F32,
                                        widened->data(), count))
            return e;
        } else {
          auto *dst = static_cast<int32_t *>(widened->data());
          const auto *src = static_cast<const unsigned char *>(view.data);
          for (uint64_t k = 0; k < count; ++k)
            dst[k] = arg.dtype == DType::I8 ? static_cast<int8_t>(src[k])
                                            : static_cast<int32_t>(src[k]);
        }
        view = widened->view();
      }
      if (Error e = writeNpy(path, view))
        return e;
    }
  }
  return Error::success();
}

int fail(std::ostream &err, const std::string &message) {
  return reportError(err, message);
}

int runChecked(const ModelSymbols &model, int argc, char **argv,
               std::ostream &out, std::ostream &err) {
  if (Error e = requireModel(model))
    return fail(err, e.message());
  Expected<Options> options = parseOptions(argc, argv);
  if (!options)
    return fail(err, options.message());
  if (options->printSignature) {
    out << model.signature << "\n";
    return 0;
  }
  Expected<ModelSignature> signature = parseModelSignature(model.signature);
  if (!signature)
    return fail(err, signature.message());
  Expected<const EntrySignature *> selected = selectEntry(*options, *signature);
  if (options->help) {
    if (!selected && options->entry)
      return fail(err, selected.message());
    printUsage(programName(argc, argv), *signature,
               selected ? *selected : nullptr, model, out);
    return 0;
  }
  if (!selected)
    return fail(err, selected.message());
  const std::string entryName = (*selected)->name;
  if (options->threads)
    ThreadPool::global().setNumThreads(*options->threads);

  Expected<std::map<std::string, Tensor>> given =
      loadInputs(*options, **selected);
  if (!given)
    return fail(err, given.message());

  Expected<Session> session =
      Session::create(model, std::move(*signature), options->weightsPaths);
  if (!session)
    return fail(err, session.message());
  const double startupMs = processUptimeMs();
  const EntrySignature &entry = *session->entry(entryName);

  std::vector<NamedTensor> inputs, outputs;
  std::vector<Tensor> outputTensors;
  std::map<std::string, TensorView> results;
  for (const SignatureArg &arg : entry.args) {
    if (arg.role == ArgRole::Input) {
      inputs.push_back({arg.name, given->at(arg.name).view()});
    } else if (arg.role == ArgRole::State) {
      TensorView state = session->state(arg.name);
      auto it = given->find(arg.name);
      if (it != given->end())
        std::memcpy(state.data, it->second.data(), state.byteSize());
      results[arg.name] = state;
    } else if (arg.role == ArgRole::Output) {
      Expected<Tensor> tensor = Tensor::allocate(arg.dtype, arg.shape);
      if (!tensor)
        return fail(err, "output '" + arg.name + "': " + tensor.message());
      outputTensors.push_back(std::move(*tensor));
      outputs.push_back({arg.name, outputTensors.back().view()});
      results[arg.name] = outputTensors.back().view();
    }
  }
  Expected<BoundCall> call = session->bind(entryName, inputs, outputs);
  if (!call)
    return fail(err, call.message());

  (*call)();
  if (options->benchRuns > 0) {
    std::vector<double> times;
    times.reserve(static_cast<size_t>(options->benchRuns));
    for (int64_t run = 0; run < options->benchRuns; ++run) {
      auto start = std::chrono::steady_clock::now();
      (*call)();
      times.push_back(elapsedMs(start));
    }
    std::sort(times.begin(), times.end());
    size_t n = times.size();
    double median =
        n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
    // Sub-millisecond runs get more digits so they do not print as 0.000.
    const char *format =
        times.front() >= 1 ? "bench: median %.3f ms, min %.3f ms over %zu runs"
                           : "bench: median %.5f ms, min %.5f ms over %zu runs";
    char line[160];
    std::snprintf(line, sizeof line, format, median, times.front(), n);
    err << formatStartupReport(startupMs) << std::endl;
    err << line << std::endl;
    err << formatThreadReport() << std::endl;
  }

  if (options->outputDir) {
    if (Error e = writeResults(*options->outputDir, entry, results))
      return fail(err, e.message());
  } else {
    for (ArgRole role : {ArgRole::Output, ArgRole::State})
      for (const SignatureArg &arg : entry.args)
        if (arg.role == role)
          printOutput(arg, results.at(arg.name).data, out);
  }
  out.flush();
  if (!out)
    return fail(err, "cannot write to standard output");
  return 0;
}

} // namespace

int runModelMain(const ModelSymbols &model, int argc, char **argv,
                 std::ostream &out, std::ostream &err) {
  return runGuarded(err,
                    [&] { return runChecked(model, argc, argv, out, err); });
}

} // namespace kiln
