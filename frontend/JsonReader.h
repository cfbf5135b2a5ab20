//===- JsonReader.h - Checked reading of the JSON files of a model -*- C++ -*-//
//
// Every JSON file kiln reads from a checkpoint folder (config.json,
// modules.json, a pooling config, tokenizer_config.json, the shard index) goes
// through these helpers, never through nlohmann's throwing accessors
// (`get<T>()` on a value of another type, `at()`, `operator[]` on a const
// value): a field of the wrong type or out of range gives one error line
//
//   FILE: field 'n_embd': expected a positive integer, got 768.5
//
// and the caller returns it. Numbers that become sizes are bounded on
// reading (kMaxDimension), so the products the model builders form from two
// or three of them cannot overflow int64; checkedMul and checkedAdd are for
// arithmetic on values that are not bounded so.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_FRONTEND_JSONREADER_H
#define KILN_FRONTEND_JSONREADER_H

#include "runtime/support/Error.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

/// The largest size a config field may give (a tensor dimension, a count of
/// layers or labels): the runtime indexes tensors with 32-bit dimensions.
constexpr int64_t kMaxDimension = INT32_MAX;

/// Reads a JSON file; the error names the file and the byte at fault.
Expected<nlohmann::json> readJsonFile(const std::string &path);

/// A JSON value for an error message: numbers and short strings as written,
/// long strings cut, lists and objects by kind ("a list of 3 items"), so a
/// message stays one short line whatever the value.
std::string describeJson(const nlohmann::json &value);

/// `a * b` and `a + b`, or std::nullopt when the result would overflow.
std::optional<int64_t> checkedMul(int64_t a, int64_t b);
std::optional<int64_t> checkedAdd(int64_t a, int64_t b);

/// A decimal integer in [0, maximum], as JSON object keys spell indices
/// ("0", "17"): no sign, no spaces, no leading zeros; std::nullopt otherwise.
std::optional<int64_t> parseIndex(const std::string &text, int64_t maximum);

/// Typed fields of one JSON object in `file`. The first error is kept, with
/// the file, the place of the object in the file and the field; reads after
/// it return their fallbacks, so a parser reads every field and checks
/// takeError() once. A field that is absent or null gets the fallback.
class JsonReader {
public:
  /// `where` places the object in the file ("entry 2" of a list, "field
  /// 'id2label'"); empty for the top level. A value that is not an object is
  /// an error, and every field then reads as absent.
  JsonReader(const nlohmann::json &object, std::string file,
             std::string where = "");

  /// The field's value, or nullptr when it is absent or null.
  const nlohmann::json *find(const char *field) const;
  bool has(const char *field) const { return find(field) != nullptr; }

  /// An integer in [minimum, maximum].
  int64_t integer(const char *field, int64_t fallback, int64_t minimum = 1,
                  int64_t maximum = kMaxDimension);
  /// An integer in [minimum, maximum], or std::nullopt when absent or null.
  std::optional<int64_t> optionalInteger(const char *field, int64_t minimum = 1,
                                         int64_t maximum = kMaxDimension);
  /// A number in (0, maximum] (epsilons).
  double positive(const char *field, double fallback, double maximum);
  bool boolean(const char *field, bool fallback);
  std::optional<bool> optionalBoolean(const char *field);
  std::string string(const char *field, const std::string &fallback);
  /// A string among `choices`, or `fallback`.
  std::string choice(const char *field, const std::string &fallback,
                     std::initializer_list<const char *> choices);
  /// A list of strings; empty when absent.
  std::vector<std::string> strings(const char *field);
  /// A nested object, or nullptr when absent, null or of another type (an
  /// error then).
  const nlohmann::json *object(const char *field);

  /// Records "FILE: WHERE: field 'FIELD': expected EXPECTATION, got VALUE",
  /// unless an error is already recorded.
  void fail(const std::string &field, const std::string &expectation);
  /// Records "FILE: WHERE: MESSAGE", unless an error is already recorded.
  void failWith(const std::string &message);

  bool failed() const { return error.isFailure(); }
  /// The first error met (a success when none).
  Error takeError() { return std::move(error); }
  const std::string &file() const { return path; }
  /// "FILE: " or "FILE: WHERE: ", the start of this reader's messages.
  std::string prefix() const;

private:
  const nlohmann::json &node;
  std::string path;
  std::string where;
  bool isObject;
  Error error;
};

/// "a positive integer", "an integer from 2 to 10", ... for messages.
std::string describeIntegerRange(int64_t minimum, int64_t maximum);

} // namespace kiln

#endif // KILN_FRONTEND_JSONREADER_H
