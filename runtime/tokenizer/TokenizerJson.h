//===- TokenizerJson.h - Reading tokenizer settings from JSON ---*- C++ -*-===//
//
// Small helpers shared by the WordPiece and encoder tokenizer loaders: JSON
// parsing without exceptions escaping, and typed fields whose errors name the
// source and the field. Internal to runtime/tokenizer/.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TOKENIZER_TOKENIZERJSON_H
#define KILN_RUNTIME_TOKENIZER_TOKENIZERJSON_H

#include "runtime/Error.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace kiln::tokenizer_json {

using nlohmann::json;

/// nlohmann_json's message without its "[json.exception...] " tag.
inline std::string jsonMessage(const std::exception &e) {
  std::string what = e.what();
  if (!what.empty() && what[0] == '[') {
    size_t close = what.find("] ");
    if (close != std::string::npos)
      what = what.substr(close + 2);
  }
  return what;
}

inline Expected<json> parse(std::string_view text, const std::string &name) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const std::exception &e) {
    return makeError(name, ": invalid JSON: ", jsonMessage(e));
  }
}

/// A short rendering of a JSON value for messages.
inline std::string describe(const json &value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

/// The "type" of a component object ("" when it has none).
inline std::string typeOf(const json &component) {
  if (!component.is_object())
    return "";
  auto it = component.find("type");
  return it != component.end() && it->is_string() ? it->get<std::string>() : "";
}

/// A boolean field; `fallback` when absent or null. `where` ends with the
/// path of `object` and a dot ("tokenizer.json: normalizer.").
inline Expected<bool> readBool(const json &object, const char *field,
                               bool fallback, const std::string &where) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null())
    return fallback;
  if (!it->is_boolean())
    return makeError(where, field, ": expected true or false, found ",
                     describe(*it));
  return it->get<bool>();
}

/// A boolean field that may be null (unset).
inline Expected<std::optional<bool>>
readOptionalBool(const json &object, const char *field,
                 const std::string &where) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null())
    return std::optional<bool>();
  if (!it->is_boolean())
    return makeError(where, field, ": expected true, false or null, found ",
                     describe(*it));
  return std::optional<bool>(it->get<bool>());
}

/// A string field; `fallback` when absent or null.
inline Expected<std::string> readString(const json &object, const char *field,
                                        const std::string &fallback,
                                        const std::string &where) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null())
    return fallback;
  if (!it->is_string())
    return makeError(where, field, ": expected a string, found ",
                     describe(*it));
  return it->get<std::string>();
}

} // namespace kiln::tokenizer_json

#endif // KILN_RUNTIME_TOKENIZER_TOKENIZERJSON_H
