//===- JsonReader.cpp - Checked reading of the JSON files of a model ------===//

#include "frontend/JsonReader.h"

#include "runtime/support/FileUtil.h"

#include <limits>

namespace kiln {

using nlohmann::json;

Expected<json> readJsonFile(const std::string &path) {
  Expected<std::string> text = readFileBytes(path);
  if (!text)
    return text.takeError();
  // The non-throwing parse reports nothing about the place; the throwing one
  // is caught whole, so nothing escapes whatever the bytes.
  try {
    return json::parse(*text);
  } catch (const json::parse_error &error) {
    return makeError(path, ": invalid JSON at byte ", error.byte);
  } catch (const json::exception &error) {
    return makeError(path, ": invalid JSON (", error.what(), ")");
  }
}

/// A dump that cannot throw: invalid UTF-8 (only in strings we cut) is
/// replaced.
static std::string safeDump(const json &value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string describeJson(const json &value) {
  constexpr size_t kMaxChars = 40;
  switch (value.type()) {
  case json::value_t::array:
    if (value.empty())
      return "[]";
    return "a list of " + std::to_string(value.size()) +
           (value.size() == 1 ? " item" : " items");
  case json::value_t::object:
    if (value.empty())
      return "{}";
    return "an object of " + std::to_string(value.size()) +
           (value.size() == 1 ? " field" : " fields");
  case json::value_t::string: {
    const std::string &text = value.get_ref<const std::string &>();
    if (text.size() <= kMaxChars)
      return safeDump(value);
    size_t cut = kMaxChars;
    // Do not end inside a UTF-8 sequence.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
      --cut;
    return safeDump(json(text.substr(0, cut))) + "...";
  }
  default:
    return safeDump(value);
  }
}

std::optional<int64_t> checkedMul(int64_t a, int64_t b) {
  int64_t result;
  if (__builtin_mul_overflow(a, b, &result))
    return std::nullopt;
  return result;
}

std::optional<int64_t> checkedAdd(int64_t a, int64_t b) {
  int64_t result;
  if (__builtin_add_overflow(a, b, &result))
    return std::nullopt;
  return result;
}

std::optional<int64_t> parseIndex(const std::string &text, int64_t maximum) {
  if (text.empty() || (text.size() > 1 && text[0] == '0'))
    return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    std::optional<int64_t> next = checkedMul(value, 10);
    if (next)
      next = checkedAdd(*next, c - '0');
    if (!next || *next > maximum)
      return std::nullopt;
    value = *next;
  }
  return value;
}

std::string describeIntegerRange(int64_t minimum, int64_t maximum) {
  std::string bound = maximum == std::numeric_limits<int64_t>::max()
                          ? ""
                          : " no larger than " + std::to_string(maximum);
  if (minimum == 1)
    return "a positive integer" + bound;
  if (minimum == 0)
    return "a non-negative integer" + bound;
  if (bound.empty())
    return "an integer >= " + std::to_string(minimum);
  return "an integer from " + std::to_string(minimum) + " to " +
         std::to_string(maximum);
}

JsonReader::JsonReader(const json &object, std::string file, std::string where)
    : node(object), path(std::move(file)), where(std::move(where)),
      isObject(object.is_object()) {
  if (!isObject)
    failWith("expected a JSON object, got " + describeJson(object));
}

std::string JsonReader::prefix() const {
  return where.empty() ? path + ": " : path + ": " + where + ": ";
}

void JsonReader::failWith(const std::string &message) {
  if (!error)
    error = makeError(prefix(), message);
}

void JsonReader::fail(const std::string &field,
                      const std::string &expectation) {
  if (error)
    return;
  const nlohmann::json *value = find(field.c_str());
  failWith("field '" + field + "': expected " + expectation + ", got " +
           (value ? describeJson(*value) : "null"));
}

const json *JsonReader::find(const char *field) const {
  if (!isObject)
    return nullptr;
  auto it = node.find(field);
  if (it == node.end() || it->is_null())
    return nullptr;
  return &*it;
}

int64_t JsonReader::integer(const char *field, int64_t fallback,
                            int64_t minimum, int64_t maximum) {
  std::optional<int64_t> value = optionalInteger(field, minimum, maximum);
  return value ? *value : fallback;
}

std::optional<int64_t> JsonReader::optionalInteger(const char *field,
                                                   int64_t minimum,
                                                   int64_t maximum) {
  const nlohmann::json *value = find(field);
  if (!value)
    return std::nullopt;
  // An unsigned number above INT64_MAX would wrap in get<int64_t>().
  bool fits = value->is_number_integer() &&
              !(value->is_number_unsigned() &&
                value->get<uint64_t>() >
                    static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
  if (!fits || value->get<int64_t>() < minimum ||
      value->get<int64_t>() > maximum) {
    fail(field, describeIntegerRange(minimum, maximum));
    return std::nullopt;
  }
  return value->get<int64_t>();
}

double JsonReader::positive(const char *field, double fallback,
                            double maximum) {
  const nlohmann::json *value = find(field);
  if (!value)
    return fallback;
  if (!value->is_number() || !(value->get<double>() > 0) ||
      value->get<double>() > maximum) {
    char bound[32];
    snprintf(bound, sizeof(bound), "%g", maximum);
    fail(field, std::string("a positive number no larger than ") + bound);
    return fallback;
  }
  return value->get<double>();
}

bool JsonReader::boolean(const char *field, bool fallback) {
  return optionalBoolean(field).value_or(fallback);
}

std::optional<bool> JsonReader::optionalBoolean(const char *field) {
  const nlohmann::json *value = find(field);
  if (!value)
    return std::nullopt;
  if (!value->is_boolean()) {
    fail(field, "true or false");
    return std::nullopt;
  }
  return value->get<bool>();
}

std::string JsonReader::string(const char *field, const std::string &fallback) {
  const nlohmann::json *value = find(field);
  if (!value)
    return fallback;
  if (!value->is_string()) {
    fail(field, "a string");
    return fallback;
  }
  return value->get<std::string>();
}

std::string JsonReader::choice(const char *field, const std::string &fallback,
                               std::initializer_list<const char *> choices) {
  const nlohmann::json *value = find(field);
  if (!value)
    return fallback;
  if (value->is_string())
    for (const char *choice : choices)
      if (value->get_ref<const std::string &>() == choice)
        return choice;
  std::string expectation = "one of";
  for (const char *choice : choices)
    expectation +=
        std::string(expectation == "one of" ? " '" : ", '") + choice + "'";
  fail(field, expectation);
  return fallback;
}

std::vector<std::string> JsonReader::strings(const char *field) {
  const nlohmann::json *value = find(field);
  std::vector<std::string> result;
  if (!value)
    return result;
  if (!value->is_array()) {
    fail(field, "a list of strings");
    return result;
  }
  for (const nlohmann::json &item : *value) {
    if (!item.is_string()) {
      failWith("field '" + std::string(field) +
               "': expected a list of strings, got an item " +
               describeJson(item));
      return {};
    }
    result.push_back(item.get<std::string>());
  }
  return result;
}

const json *JsonReader::object(const char *field) {
  const nlohmann::json *value = find(field);
  if (!value)
    return nullptr;
  if (!value->is_object()) {
    fail(field, "an object");
    return nullptr;
  }
  return value;
}

} // namespace kiln
