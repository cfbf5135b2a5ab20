//===- CommandLine.cpp - Helpers shared by the model command lines --------===//

#include "runtime/CommandLine.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace kiln {

std::string programName(int argc, char **argv) {
  if (argc < 1 || !argv[0] || !*argv[0])
    return "model";
  const char *slash = std::strrchr(argv[0], '/');
  return slash ? slash + 1 : argv[0];
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

} // namespace kiln
