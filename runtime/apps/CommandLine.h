//===- CommandLine.h - Helpers of the model command lines ------*- C++ -*-===//
//
// Small pieces used by every `main` of generated executables (ModelMain.cpp
// and the applications in apps/): the program name, argument scanning and
// the options they all take, strict number parsing, the one-line error
// report, and the timing and help text they share.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_APPS_COMMANDLINE_H
#define KILN_RUNTIME_APPS_COMMANDLINE_H

#include "runtime/support/Error.h"
#include "runtime/session/Session.h"

#include <chrono>
#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace kiln {

/// The base name of argv[0], or "model".
std::string programName(int argc, char **argv);

/// The flags every task command line (text generation, text encoding)
/// takes: --json, --bench, --truncate, --threads N, --weights FILE.
struct AppOptions {
  bool json = false;
  bool bench = false;
  bool truncate = false;
  std::optional<int> threads;
  std::vector<std::string> weightsPaths;
};

/// Walks argv[1..] one argument at a time, splitting "--flag=value" and
/// taking option values, so that every main reads its options alike.
class ArgumentScanner {
public:
  /// With `positionals`, an argument that does not start with '-' (or is
  /// "-"), and any after "--", is positional; without, every argument is an
  /// option, "--" included.
  ArgumentScanner(int argc, char **argv, bool positionals);

  /// Moves to the next argument; false after the last.
  bool next();
  /// The argument as given.
  const std::string &arg() const { return current; }
  /// Whether the argument is positional (only with `positionals`).
  bool positional() const { return isPositional; }
  /// The option: the argument up to the '=' of "--flag=value".
  const std::string &flag() const { return flagName; }
  /// The inline value, or the one takeValue took.
  const std::string &value() const { return optionValue; }
  bool hasInlineValue() const { return inlineValue; }

  /// Takes the option's value: the inline one, else the next argument.
  Error takeValue();
  /// Fails when the option, which takes no value, was given one inline.
  Error noValue() const;
  /// The argument after the current one, not taken; null after the last.
  const char *peek() const;
  /// Takes the argument after the current one; null after the last.
  const char *takeNext();

  /// --threads N: an integer from 1 to ThreadPool::kMaxThreads.
  Error takeThreads(std::optional<int> &threads);
  /// --weights FILE: a file name, appended to `paths`.
  Error takeWeights(std::vector<std::string> &paths);
  /// The option's value as a file name (not empty), into `path`.
  Error takeFileName(std::optional<std::string> &path);
  /// --top-k K: an integer from 1 to `maximum`.
  Error takeTopK(std::optional<int64_t> &k, int64_t maximum);
  /// Reads the current option into `options` when it is one of
  /// AppOptions' flags: the outcome then, std::nullopt for other flags.
  std::optional<Error> takeAppOption(AppOptions &options);

private:
  int argc;
  char **argv;
  bool positionals;
  int index = 0;
  bool onlyPositional = false;
  std::string current, flagName, optionValue;
  bool isPositional = false, inlineValue = false;
};

/// Strict decimal parse: the whole string, within [low, high].
std::optional<int64_t> parseInteger(const std::string &text, int64_t low,
                                    int64_t high);

/// Strict unsigned decimal parse of the whole string (up to 2^64 - 1).
std::optional<uint64_t> parseUnsigned(const std::string &text);

/// Strict parse of a finite decimal number (strtod syntax, whole string).
std::optional<double> parseNumber(const std::string &text);

/// Prints "error: MESSAGE" as one line on `err` and returns 1.
int reportError(std::ostream &err, const std::string &message);

/// Runs `body` (returning an exit status) so that whatever it throws ends as
/// one error line and status 1, never a trace.
template <typename Body> int runGuarded(std::ostream &err, Body &&body) {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return reportError(err, "out of memory");
  } catch (const std::exception &e) {
    return reportError(err, std::string("internal error: ") + e.what());
  } catch (...) {
    return reportError(err, "internal error: unknown exception");
  }
}

/// The help lines of AppOptions' --json, --bench, --threads and --weights,
/// and --help, as the image executables print them.
void printCommonOptionsHelp(std::ostream &out, const ModelSymbols &model);

/// Fails when the executable was linked without a model.
Error requireModel(const ModelSymbols &model);

/// Where the weights come from, for --help: "embedded in the executable",
/// "read from FILE unless --weights is given" or "--weights
/// FILE.safetensors required".
std::string describeWeightsSource(const ModelSymbols &model);

/// Milliseconds since `start`.
double elapsedMs(std::chrono::steady_clock::time_point start);

/// Milliseconds since the process started (its static initialization).
double processUptimeMs();

/// The --bench line on loading: "start-up: 412.3 ms, peak RSS: 530.1 MB",
/// the start-up time given (taken once the session is ready) and the
/// process's peak resident memory so far.
std::string formatStartupReport(double startupMs);

/// The --bench line after the runs of the generic runner: "threads: 3",
/// the process's threads now (the pool's workers and the main thread; a
/// kernel library with a pool of its own would show here).
std::string formatThreadReport();

/// `value` printed with the printf conversion `spec` ("%.3f").
std::string formatNumber(const char *spec, double value);

} // namespace kiln

#endif // KILN_RUNTIME_APPS_COMMANDLINE_H
