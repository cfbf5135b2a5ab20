//===- CommandLine.h - Helpers of the model command lines ------*- C++ -*-===//
//
// Small pieces used by every `main` of generated executables (ModelMain.cpp
// and the applications in apps/): the program name, strict number parsing,
// and the one-line error report.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_COMMANDLINE_H
#define KILN_RUNTIME_COMMANDLINE_H

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

namespace kiln {

/// The base name of argv[0], or "model".
std::string programName(int argc, char **argv);

/// Strict decimal parse: the whole string, within [low, high].
std::optional<int64_t> parseInteger(const std::string &text, int64_t low,
                                    int64_t high);

/// Strict unsigned decimal parse of the whole string (up to 2^64 - 1).
std::optional<uint64_t> parseUnsigned(const std::string &text);

/// Strict parse of a finite decimal number (strtod syntax, whole string).
std::optional<double> parseNumber(const std::string &text);

/// Prints "error: MESSAGE" as one line on `err` and returns 1.
int reportError(std::ostream &err, const std::string &message);

} // namespace kiln

#endif // KILN_RUNTIME_COMMANDLINE_H
