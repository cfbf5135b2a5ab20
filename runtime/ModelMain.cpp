//===- ModelMain.cpp - The command line of generated executables ----------===//

#include "runtime/ModelMain.h"
#include "runtime/FileUtil.h"
#include "runtime/MemRef.h"
#include "runtime/Npy.h"
#include "runtime/Safetensors.h"
#include "runtime/Signature.h"
#include "runtime/Tensor.h"
#include "runtime/ThreadPool.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <new>
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
  std::vector<InputSpec> inputs;
  std::optional<std::string> outputDir;
  std::optional<std::string> weightsPath;
  std::optional<int> threads;
  int64_t benchRuns = 0;
};

std::string programName(int argc, char **argv) {
  if (argc < 1 || !argv[0] || !*argv[0])
    return "model";
  const char *slash = std::strrchr(argv[0], '/');
  return slash ? slash + 1 : argv[0];
}

/// Strict decimal parse: the whole string, within [low, high].
std::optional<int64_t> parseInteger(const std::string &text, int64_t low,
                                    int64_t high) {
  if (text.empty() || text.size() > 18)
    return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value < low || value > high)
    return std::nullopt;
  return value;
}

Expected<Options> parseOptions(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string flag = arg, value;
    bool hasInlineValue = false;
    if (arg.rfind("--", 0) == 0) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        flag = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        hasInlineValue = true;
      }
    }
    auto takeValue = [&]() -> Error {
      if (hasInlineValue)
        return Error::success();
      if (i + 1 >= argc)
        return makeError("option ", flag, " needs a value (see --help)");
      value = argv[++i];
      return Error::success();
    };

    if (flag == "--help" || flag == "-h") {
      options.help = true;
    } else if (flag == "--signature") {
      options.printSignature = true;
    } else if (flag == "--input") {
      if (Error e = takeValue())
        return e;
      size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == value.size())
        return makeError("--input expects NAME=FILE.npy, got '", value, "'");
      options.inputs.push_back({value.substr(0, eq), value.substr(eq + 1)});
    } else if (flag == "--output") {
      if (Error e = takeValue())
        return e;
      if (value.empty())
        return makeError("--output expects a directory, got ''");
      options.outputDir = value;
    } else if (flag == "--weights") {
      if (Error e = takeValue())
        return e;
      if (value.empty())
        return makeError("--weights expects a .safetensors file, got ''");
      options.weightsPath = value;
    } else if (flag == "--threads") {
      if (Error e = takeValue())
        return e;
      std::optional<int64_t> n =
          parseInteger(value, 1, ThreadPool::kMaxThreads);
      if (!n)
        return makeError("--threads expects an integer from 1 to ",
                         ThreadPool::kMaxThreads, ", got '", value, "'");
      options.threads = static_cast<int>(*n);
    } else if (flag == "--bench") {
      if (Error e = takeValue())
        return e;
      std::optional<int64_t> n = parseInteger(value, 1, kMaxBenchRuns);
      if (!n)
        return makeError("--bench expects a number of runs from 1 to ",
                         kMaxBenchRuns, ", got '", value, "'");
      options.benchRuns = *n;
    } else {
      return makeError("unknown argument '", arg, "' (see --help)");
    }
  }
  return options;
}

/// "'x', 'lengths'", or "none".
std::string listNames(const Signature &signature, ArgRole role) {
  std::string out;
  for (const SignatureArg &arg : signature.args) {
    if (arg.role != role)
      continue;
    if (!out.empty())
      out += ", ";
    out += "'" + arg.name + "'";
  }
  return out.empty() ? "none" : out;
}

void printUsage(const std::string &program, const Signature &signature,
                const ModelSymbols &model, std::ostream &out) {
  out << "usage: " << program
      << " [--input NAME=FILE.npy]... [--output DIR]\n"
         "       [--weights FILE.safetensors] [--threads N] [--bench N]\n"
         "       [--signature] [--help]\n\n";
  out << "Runs the compiled model";
  if (!signature.entry.empty())
    out << " '" << signature.entry << "'";
  out << ".\n\n"
         "options:\n"
         "  --input NAME=FILE.npy  value of input NAME (every input is "
         "required)\n"
         "  --output DIR           write each output to DIR/NAME.npy "
         "(default: print\n"
         "                         the first values of each output)\n"
         "  --weights FILE         safetensors file holding the weights\n"
         "  --threads N            number of threads (default: "
      << ThreadPool::defaultNumThreads()
      << ")\n"
         "  --bench N              run N more times, report timings on "
         "stderr\n"
         "  --signature            print the model signature as JSON\n"
         "  --help                 print this help\n";

  size_t width = 0;
  for (const SignatureArg &arg : signature.args)
    if (arg.role != ArgRole::Weight)
      width = std::max(width, arg.name.size());
  size_t numWeights = 0;
  for (ArgRole role : {ArgRole::Input, ArgRole::Output}) {
    out << "\n" << (role == ArgRole::Input ? "inputs:" : "outputs:");
    bool any = false;
    for (const SignatureArg &arg : signature.args) {
      if (arg.role != role)
        continue;
      any = true;
      out << "\n  " << arg.name << std::string(width - arg.name.size() + 2, ' ')
          << formatType(arg.dtype, arg.shape);
    }
    out << (any ? "\n" : " none\n");
  }
  for (const SignatureArg &arg : signature.args)
    numWeights += arg.role == ArgRole::Weight;
  out << "\nweights: " << numWeights << " tensor"
      << (numWeights == 1 ? "" : "s");
  if (numWeights) {
    if (model.embeddedWeights && model.embeddedWeightsSize)
      out << ", embedded in the executable";
    else if (model.defaultWeightsPath && *model.defaultWeightsPath)
      out << ", read from " << model.defaultWeightsPath
          << " unless --weights is given";
    else
      out << ", --weights FILE.safetensors required";
  }
  out << "\n";
}

/// One argument's storage: either an owned buffer or memory owned elsewhere
/// (a weights mapping).
struct ArgStorage {
  AlignedBuffer owned;
  void *data = nullptr;
};

bool isAligned(const void *p) {
  return reinterpret_cast<uintptr_t>(p) % kBufferAlignment == 0;
}

Error loadInputs(const Options &options, const Signature &signature,
                 std::vector<ArgStorage> &storage) {
  std::map<std::string, std::string> given; // name -> path
  for (const InputSpec &spec : options.inputs) {
    const SignatureArg *arg = signature.find(spec.name);
    if (!arg)
      return makeError("unknown input '", spec.name,
                       "' (inputs: ", listNames(signature, ArgRole::Input),
                       ")");
    if (arg->role != ArgRole::Input)
      return makeError("'", spec.name, "' is ",
                       arg->role == ArgRole::Weight ? "a weight" : "an output",
                       " of the model, not an input (inputs: ",
                       listNames(signature, ArgRole::Input), ")");
    auto [it, inserted] = given.emplace(spec.name, spec.path);
    if (!inserted)
      return makeError("input '", spec.name, "' given twice (", it->second,
                       " and ", spec.path, ")");
  }

  std::string missing;
  for (const SignatureArg &arg : signature.args) {
    if (arg.role != ArgRole::Input || given.count(arg.name))
      continue;
    if (!missing.empty())
      missing += ", ";
    missing += "'" + arg.name + "' (" + formatType(arg.dtype, arg.shape) + ")";
  }
  if (!missing.empty())
    return makeError("missing input ", missing,
                     "; pass each input as --input NAME=FILE.npy");

  for (size_t i = 0; i < signature.args.size(); ++i) {
    const SignatureArg &arg = signature.args[i];
    if (arg.role != ArgRole::Input)
      continue;
    const std::string &path = given[arg.name];
    Expected<Tensor> tensor = readNpy(path);
    if (!tensor)
      return makeError("input '", arg.name, "': ", tensor.message());
    // numpy has no bfloat16: bf16 inputs are given as f32 and rounded.
    bool bf16FromF32 = arg.dtype == DType::BF16 && tensor->dtype == DType::F32;
    if ((tensor->dtype != arg.dtype && !bf16FromF32) ||
        tensor->shape != arg.shape) {
      std::string hint;
      if (tensor->dtype != arg.dtype && !isFloatingPoint(arg.dtype) &&
          !isFloatingPoint(tensor->dtype) && arg.dtype != DType::I1)
        hint = std::string(" (integer inputs must have exactly this type; "
                           "convert with .astype(np.") +
               (arg.dtype == DType::I64 ? "int64" : "int32") + "))";
      else if (tensor->dtype != arg.dtype && arg.dtype == DType::BF16)
        hint = " (give bf16 inputs as f32)";
      return makeError("input '", arg.name, "' (", path, "): expected ",
                       formatType(arg.dtype, arg.shape), ", got ",
                       formatType(tensor->dtype, tensor->shape), hint);
    }
    if (bf16FromF32) {
      Expected<Tensor> converted = Tensor::allocate(arg.dtype, arg.shape);
      if (!converted)
        return makeError("input '", arg.name, "': ", converted.message());
      if (Error e = convertElements(DType::F32, tensor->data(), DType::BF16,
                                    converted->data(), tensor->numElements()))
        return makeError("input '", arg.name, "': ", e.message());
      tensor = std::move(converted);
    }
    storage[i].owned = std::move(tensor->buffer);
    storage[i].data = storage[i].owned.data();
  }
  return Error::success();
}

Error loadWeights(const Options &options, const ModelSymbols &model,
                  const Signature &signature,
                  std::optional<SafetensorsFile> &weights,
                  std::vector<ArgStorage> &storage) {
  size_t numWeights = 0;
  for (const SignatureArg &arg : signature.args)
    numWeights += arg.role == ArgRole::Weight;
  if (numWeights == 0)
    return Error::success();

  // An explicit --weights wins over what the executable carries.
  Expected<SafetensorsFile> file = makeError("no weights");
  if (options.weightsPath) {
    file = SafetensorsFile::open(*options.weightsPath);
  } else if (model.embeddedWeights && model.embeddedWeightsSize) {
    file = SafetensorsFile::fromMemory(
        model.embeddedWeights, model.embeddedWeightsSize, "embedded weights");
  } else if (model.defaultWeightsPath && *model.defaultWeightsPath) {
    file = SafetensorsFile::open(model.defaultWeightsPath);
    if (!file)
      return makeError(file.message(),
                       " (the model's default weights file; pass --weights "
                       "FILE.safetensors)");
  } else {
    return makeError("the model needs ", numWeights, " weight tensor",
                     numWeights == 1 ? "" : "s",
                     " but has no embedded weights and no default weights "
                     "file; pass --weights FILE.safetensors");
  }
  if (!file)
    return file.takeError();
  weights.emplace(std::move(*file));
  const std::string &fileName = weights->name();

  for (size_t i = 0; i < signature.args.size(); ++i) {
    const SignatureArg &arg = signature.args[i];
    if (arg.role != ArgRole::Weight)
      continue;
    const SafetensorsTensor *tensor = weights->find(arg.name);
    if (!tensor)
      return makeError("weight '", arg.name, "' not found in ", fileName);
    bool convertible = tensor->dtype != arg.dtype &&
                       isFloatingPoint(tensor->dtype) &&
                       isFloatingPoint(arg.dtype);
    if ((tensor->dtype != arg.dtype && !convertible) ||
        tensor->shape != arg.shape)
      return makeError("weight '", arg.name, "' in ", fileName, ": expected ",
                       formatType(arg.dtype, arg.shape), ", got ",
                       formatType(tensor->dtype, tensor->shape), " (",
                       safetensorsDTypeName(tensor->dtype), ")");
    if (tensor->dtype == arg.dtype && isAligned(tensor->data)) {
      // Read-only mapping used in place: kernels never write weights.
      storage[i].data = const_cast<void *>(tensor->data);
      continue;
    }
    size_t count = tensor->byteSize / dtypeSize(tensor->dtype);
    Expected<AlignedBuffer> buffer =
        AlignedBuffer::allocate(count * dtypeSize(arg.dtype), false);
    if (!buffer)
      return makeError("weight '", arg.name, "': ", buffer.message());
    if (Error e = convertElements(tensor->dtype, tensor->data, arg.dtype,
                                  buffer->data(), count))
      return makeError("weight '", arg.name, "' in ", fileName, ": ",
                       e.message());
    storage[i].owned = std::move(*buffer);
    storage[i].data = storage[i].owned.data();
  }
  return Error::success();
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

Error writeOutputs(const std::string &dir, const Signature &signature,
                   const std::vector<ArgStorage> &storage) {
  if (Error e = createDirectories(dir))
    return e;
  std::set<std::string> used;
  for (size_t i = 0; i < signature.args.size(); ++i) {
    const SignatureArg &arg = signature.args[i];
    if (arg.role != ArgRole::Output)
      continue;
    std::string base = sanitizeFileName(arg.name), fileName = base;
    for (int n = 2; used.count(fileName); ++n)
      fileName = base + "_" + std::to_string(n);
    used.insert(fileName);
    std::string path = dir + "/" + fileName + ".npy";

    TensorView view{arg.dtype, arg.shape, storage[i].data};
    Expected<Tensor> widened = makeError("unused");
    if (!npyDescr(arg.dtype)) {
      // numpy cannot hold bf16 (or i8/u8 here): write f32 / i32 instead.
      DType wide = isFloatingPoint(arg.dtype) ? DType::F32 : DType::I32;
      widened = Tensor::allocate(wide, arg.shape);
      if (!widened)
        return makeError("output '", arg.name, "': ", widened.message());
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
  return Error::success();
}

double elapsedMs(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

int fail(std::ostream &err, const std::string &message) {
  err << "error: " << message << std::endl;
  return 1;
}

int runChecked(const ModelSymbols &model, int argc, char **argv,
               std::ostream &out, std::ostream &err) {
  if (!model.signature || !model.entry)
    return fail(err, "the executable has no model (kiln_model_signature or "
                     "kiln_model_entry missing)");
  Expected<Options> options = parseOptions(argc, argv);
  if (!options)
    return fail(err, options.message());
  if (options->printSignature) {
    out << model.signature << "\n";
    return 0;
  }
  Expected<Signature> signature = parseSignature(model.signature);
  if (!signature)
    return fail(err, signature.message());
  if (options->help) {
    printUsage(programName(argc, argv), *signature, model, out);
    return 0;
  }
  if (options->threads)
    ThreadPool::global().setNumThreads(*options->threads);

  std::vector<ArgStorage> storage(signature->args.size());
  if (Error e = loadInputs(*options, *signature, storage))
    return fail(err, e.message());
  std::optional<SafetensorsFile> weights;
  if (Error e = loadWeights(*options, model, *signature, weights, storage))
    return fail(err, e.message());

  MemRefArgs args;
  for (size_t i = 0; i < signature->args.size(); ++i) {
    const SignatureArg &arg = signature->args[i];
    if (arg.role == ArgRole::Output) {
      Expected<Tensor> tensor = Tensor::allocate(arg.dtype, arg.shape);
      if (!tensor)
        return fail(err, "output '" + arg.name + "': " + tensor.message());
      storage[i].owned = std::move(tensor->buffer);
      storage[i].data = storage[i].owned.data();
    }
    args.add(storage[i].data, arg.shape);
  }

  model.entry(args.data());
  if (options->benchRuns > 0) {
    std::vector<double> times;
    times.reserve(static_cast<size_t>(options->benchRuns));
    for (int64_t run = 0; run < options->benchRuns; ++run) {
      auto start = std::chrono::steady_clock::now();
      model.entry(args.data());
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
    err << line << std::endl;
  }

  if (options->outputDir) {
    if (Error e = writeOutputs(*options->outputDir, *signature, storage))
      return fail(err, e.message());
  } else {
    for (size_t i = 0; i < signature->args.size(); ++i)
      if (signature->args[i].role == ArgRole::Output)
        printOutput(signature->args[i], storage[i].data, out);
  }
  out.flush();
  if (!out)
    return fail(err, "cannot write to standard output");
  return 0;
}

} // namespace

int runModelMain(const ModelSymbols &model, int argc, char **argv,
                 std::ostream &out, std::ostream &err) {
  // Whatever happens, end with one line and status 1, never a trace.
  try {
    return runChecked(model, argc, argv, out, err);
  } catch (const std::bad_alloc &) {
    return fail(err, "out of memory");
  } catch (const std::exception &e) {
    return fail(err, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(err, "internal error: unknown exception");
  }
}

} // namespace kiln
