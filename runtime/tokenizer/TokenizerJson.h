//===- TokenizerJson.h - Reading tokenizer settings from JSON ---*- C++ -*-===//
//
// Small helpers shared by the tokenizer loaders (byte-level BPE, WordPiece,
// encoder tokenizers): JSON parsing without exceptions escaping, typed fields
// whose errors name the source and the field, and the added_tokens list.
// Internal to runtime/tokenizer/.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TOKENIZER_TOKENIZERJSON_H
#define KILN_RUNTIME_TOKENIZER_TOKENIZERJSON_H

#include "runtime/support/Error.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace kiln::tokenizer_json {

using nlohmann::json;

inline Expected<json> parse(std::string_view text, const std::string &name) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const std::exception &e) {
    return makeError(name, ": invalid JSON: ", jsonErrorMessage(e));
  }
}

/// `text` for a one-line message: control bytes as \xNN, cut after `limit`
/// bytes (files of garbage must not garble the terminal).
inline std::string printable(std::string_view text, size_t limit = 60) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < text.size() && i < limit; ++i) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7F) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    } else {
      out += static_cast<char>(byte);
    }
  }
  if (text.size() > limit)
    out += "...";
  return out;
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

/// Ids index the tokenizers' per-id tables, so the largest id must stay
/// near the number of entries: a vocab of a few bytes must not cost
/// gigabytes. (`tokenizers` keeps ids in maps and takes any u32; real
/// vocabularies are dense, with few holes.)
inline int64_t idLimit(size_t entries) {
  return 2 * static_cast<int64_t>(entries) + 1024;
}

/// Fails, naming the token with the largest id, when that id is not below
/// idLimit(vocab.size()). `where` ends with ": ".
inline Error
checkIdsDense(const std::unordered_map<std::string, int32_t> &vocab,
              const std::string &where) {
  const std::pair<const std::string, int32_t> *largest = nullptr;
  for (const auto &entry : vocab)
    if (!largest || entry.second > largest->second ||
        (entry.second == largest->second && entry.first < largest->first))
      largest = &entry;
  int64_t limit = idLimit(vocab.size());
  if (largest && largest->second >= limit)
    return makeError(where, "token '", printable(largest->first), "' has id ",
                     largest->second, ", too large for a vocab of ",
                     vocab.size(), " entries (ids must be below ", limit, ")");
  return Error::success();
}

/// The added_tokens of a tokenizer.json `root` (none when absent or null),
/// as `Token`s with fields content, special, singleWord, stripLeft,
/// stripRight and normalized: each tokenizer keeps its own token type.
template <typename Token>
Expected<std::vector<Token>> readAddedTokens(const json &root,
                                             const std::string &where) {
  std::vector<Token> added;
  auto addedIt = root.find("added_tokens");
  if (addedIt == root.end() || addedIt->is_null())
    return added;
  if (!addedIt->is_array())
    return makeError(where, "added_tokens: expected an array");
  for (size_t i = 0; i < addedIt->size(); ++i) {
    const json &entry = (*addedIt)[i];
    std::string field = "added_tokens[" + std::to_string(i) + "]";
    auto content = entry.is_object() ? entry.find("content") : entry.end();
    if (!entry.is_object() || content == entry.end() || !content->is_string())
      return makeError(where, field,
                       ": expected an object with a string content");
    std::string flagWhere = where + field + ".";
    Token token;
    token.content = content->get<std::string>();
    Expected<bool> special = readBool(entry, "special", false, flagWhere);
    Expected<bool> singleWord =
        readBool(entry, "single_word", false, flagWhere);
    Expected<bool> lstrip = readBool(entry, "lstrip", false, flagWhere);
    Expected<bool> rstrip = readBool(entry, "rstrip", false, flagWhere);
    Expected<bool> normalized = readBool(
        entry, "normalized", !special.hasValue() || !*special, flagWhere);
    for (Expected<bool> *flag :
         {&special, &singleWord, &lstrip, &rstrip, &normalized})
      if (!*flag)
        return flag->takeError();
    token.special = *special;
    token.singleWord = *singleWord;
    token.stripLeft = *lstrip;
    token.stripRight = *rstrip;
    token.normalized = *normalized;
    added.push_back(std::move(token));
  }
  return added;
}

} // namespace kiln::tokenizer_json

#endif // KILN_RUNTIME_TOKENIZER_TOKENIZERJSON_H
