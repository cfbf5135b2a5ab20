//===- ConfigReader.h - Typed fields of a config.json -----------*- C++ -*-===//
//
// Reads the fields of a Hugging Face config with the defaults of the
// reference implementation; a field of the wrong type or out of range gives
// an error naming the file and the field.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_FRONTEND_CONFIGREADER_H
#define KILN_FRONTEND_CONFIGREADER_H

#include "runtime/support/Error.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace kiln {

class ConfigReader {
public:
  ConfigReader(const nlohmann::json &config, std::string path)
      : config(config), path(std::move(path)) {}

  /// An integer field >= `minimum`, or `fallback` when absent or null.
  int64_t integer(const char *field, int64_t fallback, int64_t minimum = 1);
  /// A float field > 0 (epsilons), or `fallback`.
  double positive(const char *field, double fallback);
  bool boolean(const char *field, bool fallback);
  std::string string(const char *field, const std::string &fallback);
  /// An integer field that may be null (std::nullopt then, or when absent).
  std::optional<int64_t> optionalInteger(const char *field,
                                         int64_t minimum = 0);
  /// A list of strings; empty when absent.
  std::vector<std::string> strings(const char *field);

  /// The first error met, if any; later reads return their fallbacks.
  Error takeError() { return std::move(error); }
  const std::string &file() const { return path; }

private:
  const nlohmann::json *lookup(const char *field);
  void fail(const char *field, const std::string &expectation);

  const nlohmann::json &config;
  std::string path;
  Error error;
};

} // namespace kiln

#endif // KILN_FRONTEND_CONFIGREADER_H
