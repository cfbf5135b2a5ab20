//===- CommandLine.cpp - Helpers shared by the model command lines --------===//

#include "runtime/apps/CommandLine.h"

#include "runtime/threads/ThreadPool.h"

#include <sys/resource.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace kiln {

std::string programName(int argc, char **argv) {
  if (argc < 1 || !argv[0] || !*argv[0])
    return "model";
  const char *slash = std::strrchr(argv[0], '/');
  return slash ? slash + 1 : argv[0];
}

ArgumentScanner::ArgumentScanner(int argc, char **argv, bool positionals)
    : argc(argc), argv(argv), positionals(positionals) {}

bool ArgumentScanner::next() {
  while (++index < argc) {
    current = argv[index];
    flagName.clear();
    optionValue.clear();
    inlineValue = false;
    isPositional = positionals && (onlyPositional || current.empty() ||
                                   current[0] != '-' || current == "-");
    if (isPositional)
      return true;
    if (positionals && current == "--") {
      onlyPositional = true;
      continue;
    }
    flagName = current;
    if (current.rfind("--", 0) == 0) {
      size_t eq = current.find('=');
      if (eq != std::string::npos) {
        flagName = current.substr(0, eq);
        optionValue = current.substr(eq + 1);
        inlineValue = true;
      }
    }
    return true;
  }
  return false;
}

Error ArgumentScanner::takeValue() {
  if (inlineValue)
    return Error::success();
  if (index + 1 >= argc)
    return makeError("option ", flagName, " needs a value (see --help)");
  optionValue = argv[++index];
  return Error::success();
}

Error ArgumentScanner::noValue() const {
  if (inlineValue)
    return makeError("option ", flagName, " takes no value, got '", optionValue,
                     "'");
  return Error::success();
}

const char *ArgumentScanner::peek() const {
  return index + 1 < argc ? argv[index + 1] : nullptr;
}

const char *ArgumentScanner::takeNext() {
  return index + 1 < argc ? argv[++index] : nullptr;
}

Error ArgumentScanner::takeThreads(std::optional<int> &threads) {
  if (Error e = takeValue())
    return e;
  std::optional<int64_t> n =
      parseInteger(optionValue, 1, ThreadPool::kMaxThreads);
  if (!n)
    return makeError("--threads expects an integer from 1 to ",
                     ThreadPool::kMaxThreads, ", got '", optionValue, "'");
  threads = static_cast<int>(*n);
  return Error::success();
}

Error ArgumentScanner::takeWeights(std::vector<std::string> &paths) {
  if (Error e = takeValue())
    return e;
  if (optionValue.empty())
    return makeError("--weights expects a .safetensors file, got ''");
  paths.push_back(optionValue);
  return Error::success();
}

Error ArgumentScanner::takeFileName(std::optional<std::string> &path) {
  if (Error e = takeValue())
    return e;
  if (optionValue.empty())
    return makeError(flagName, " expects a file name, got ''");
  path = optionValue;
  return Error::success();
}

Error ArgumentScanner::takeTopK(std::optional<int64_t> &k, int64_t maximum) {
  if (Error e = takeValue())
    return e;
  k = parseInteger(optionValue, 1, maximum);
  if (!k)
    return makeError(flagName, " expects an integer >= 1, got '", optionValue,
                     "'");
  return Error::success();
}

void printCommonOptionsHelp(std::ostream &out, const ModelSymbols &model) {
  out << "  --json                 print the results as JSON\n"
         "  --bench                report start-up, timings and peak "
         "memory on stderr\n"
         "  --threads N            number of threads (default: the "
         "machine's cores)\n"
         "  --weights FILE         weights: "
      << describeWeightsSource(model)
      << "\n"
         "  --help                 print this help\n";
}

std::optional<Error> ArgumentScanner::takeAppOption(AppOptions &options) {
  for (auto [name, field] : {std::pair{"--json", &options.json},
                             std::pair{"--bench", &options.bench},
                             std::pair{"--truncate", &options.truncate}}) {
    if (flagName != name)
      continue;
    if (Error e = noValue())
      return e;
    *field = true;
    return Error::success();
  }
  if (flagName == "--threads")
    return takeThreads(options.threads);
  if (flagName == "--weights")
    return takeWeights(options.weightsPaths);
  return std::nullopt;
}

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

std::optional<uint64_t> parseUnsigned(const std::string &text) {
  if (text.empty() || text.size() > 20)
    return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10)
      return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::optional<double> parseNumber(const std::string &text) {
  if (text.empty() || std::strchr(" \t\n\v\f\r", text[0]))
    return std::nullopt;
  errno = 0;
  char *end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE ||
      !std::isfinite(value))
    return std::nullopt;
  return value;
}

int reportError(std::ostream &err, const std::string &message) {
  err << "error: " << message << std::endl;
  return 1;
}

Error requireModel(const ModelSymbols &model) {
  if (!model.signature || !model.entries)
    return makeError("the executable has no model (kiln_model_signature or "
                     "kiln_model_entries missing)");
  return Error::success();
}

std::string describeWeightsSource(const ModelSymbols &model) {
  std::vector<std::string> defaults =
      splitWeightsPaths(model.defaultWeightsPath);
  if (!embeddedSafetensors(model).empty())
    return "embedded in the executable";
  if (defaults.empty())
    return "--weights FILE.safetensors required";
  std::string text = "read from ";
  for (size_t i = 0; i < defaults.size(); ++i)
    text += (i ? ", " : "") + defaults[i];
  return text + " unless --weights is given";
}

namespace {
/// Taken during static initialization, before main().
const std::chrono::steady_clock::time_point kProcessStart =
    std::chrono::steady_clock::now();
} // namespace

double processUptimeMs() { return elapsedMs(kProcessStart); }

std::string formatStartupReport(double startupMs) {
  struct rusage usage;
  double peakMb = 0;
  if (getrusage(RUSAGE_SELF, &usage) == 0)
    peakMb = static_cast<double>(usage.ru_maxrss) / 1024.0; // KiB on Linux.
  return "start-up: " + formatNumber("%.1f", startupMs) +
         " ms, peak RSS: " + formatNumber("%.1f", peakMb) + " MB";
}

std::string formatThreadReport() {
  // /proc/self/status has a "Threads:\t<n>" line on Linux.
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("Threads:", 0) == 0)
      return "threads: " + std::to_string(std::atoi(line.c_str() + 8));
  return "threads: unknown";
}

double elapsedMs(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

std::string formatNumber(const char *spec, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, spec, value);
  return buf;
}

} // namespace kiln
