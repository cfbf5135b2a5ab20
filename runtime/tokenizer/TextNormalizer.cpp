//===- TextNormalizer.cpp - The normalizers of byte-level BPE -------------===//
//
// NFC is computed as the standard describes it (UAX #15): full canonical
// decomposition, canonical ordering of marks, then composition of each
// starter with the characters after it that are not blocked. The tables
// are those of `tokenizers`' Rust crates (UnicodeTables.h).
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/TextNormalizer.h"
#include "runtime/tokenizer/TokenizerJson.h"
#include "runtime/tokenizer/UnicodeTables.h"
#include "runtime/tokenizer/Utf8.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace kiln {

using namespace tokenizer_json;

namespace {

/// A byte that is not valid UTF-8 travels as this plus the byte: past
/// U+10FFFF, so no table knows it and no step changes it.
constexpr uint32_t kRawByteBase = 0x110000;

std::vector<uint32_t> decode(std::string_view text) {
  std::vector<uint32_t> chars;
  chars.reserve(text.size());
  const auto *data = reinterpret_cast<const unsigned char *>(text.data());
  for (size_t pos = 0; pos < text.size();) {
    utf8::Utf8Step step = utf8::decodeUtf8(data + pos, text.size() - pos);
    if (step.valid) {
      chars.push_back(step.codepoint);
      pos += step.length;
    } else {
      chars.push_back(kRawByteBase + data[pos]);
      ++pos;
    }
  }
  return chars;
}

std::string encode(const std::vector<uint32_t> &chars) {
  std::string out;
  out.reserve(chars.size());
  for (uint32_t c : chars) {
    if (c >= kRawByteBase)
      out += static_cast<char>(c - kRawByteBase);
    else
      utf8::appendUtf8(c, out);
  }
  return out;
}

uint8_t combiningClassOf(uint32_t c) {
  return c < kRawByteBase ? unicode::combiningClass(c) : 0;
}

void toNfc(std::vector<uint32_t> &chars) {
  // Decompose fully.
  std::vector<uint32_t> decomposed;
  decomposed.reserve(chars.size() + chars.size() / 4);
  uint32_t parts[unicode::kMaxDecompositionLength];
  for (uint32_t c : chars) {
    size_t length =
        c < kRawByteBase ? unicode::decomposeCanonical(c, parts) : 0;
    if (length == 0)
      decomposed.push_back(c);
    else
      decomposed.insert(decomposed.end(), parts, parts + length);
  }
  // Put each run of marks in canonical order (a stable sort by class).
  auto byClass = [](uint32_t a, uint32_t b) {
    return combiningClassOf(a) < combiningClassOf(b);
  };
  for (size_t i = 0; i < decomposed.size();) {
    if (combiningClassOf(decomposed[i]) == 0) {
      ++i;
      continue;
    }
    size_t end = i + 1;
    while (end < decomposed.size() && combiningClassOf(decomposed[end]) != 0)
      ++end;
    std::stable_sort(decomposed.begin() + i, decomposed.begin() + end, byClass);
    i = end;
  }
  // Compose: a character joins the last starter unless a character between
  // them has class 0 or a class not below its own (it is then blocked).
  chars.clear();
  size_t starter = 0;
  bool haveStarter = false;
  int lastClass = -1; // class of the last character kept after the starter
  for (uint32_t c : decomposed) {
    int ccc = combiningClassOf(c);
    if (haveStarter && c < kRawByteBase &&
        (lastClass == -1 || (lastClass != 0 && lastClass < ccc))) {
      uint32_t first = chars[starter];
      if (uint32_t composite =
              first < kRawByteBase ? unicode::composeCanonical(first, c) : 0) {
        chars[starter] = composite;
        continue;
      }
    }
    chars.push_back(c);
    if (ccc == 0) {
      starter = chars.size() - 1;
      haveStarter = true;
      lastClass = -1;
    } else {
      lastClass = ccc;
    }
  }
}

void toLowercase(std::vector<uint32_t> &chars) {
  std::vector<uint32_t> lower;
  lower.reserve(chars.size());
  uint32_t mapped[unicode::kMaxLowercaseLength];
  for (uint32_t c : chars) {
    if (c >= kRawByteBase) {
      lower.push_back(c);
      continue;
    }
    size_t length = unicode::toLowercase(c, mapped);
    lower.insert(lower.end(), mapped, mapped + length);
  }
  chars.swap(lower);
}

void collapseWhiteSpace(std::vector<uint32_t> &chars) {
  size_t out = 0;
  bool inSpace = false;
  for (uint32_t c : chars) {
    bool space = c < kRawByteBase && (unicode::classify(c) & unicode::kSpace);
    if (space && inSpace)
      continue;
    chars[out++] = space ? ' ' : c;
    inSpace = space;
  }
  chars.resize(out);
}

/// CLIP's Replace step: the regex \s+ replaced by one space.
bool isWhiteSpaceReplace(const json &step) {
  auto pattern = step.find("pattern");
  auto content = step.find("content");
  if (pattern == step.end() || !pattern->is_object() || pattern->size() != 1 ||
      content == step.end() || !content->is_string() || *content != " ")
    return false;
  auto regex = pattern->find("Regex");
  return regex != pattern->end() && regex->is_string() && *regex == "\\s+";
}

} // namespace

Expected<TextNormalizer> TextNormalizer::fromJson(const json &normalizer,
                                                  const std::string &where) {
  std::vector<Step> steps;
  if (normalizer.is_null())
    return TextNormalizer();
  std::vector<std::pair<const json *, std::string>> items;
  if (typeOf(normalizer) == "Sequence") {
    auto inner = normalizer.find("normalizers");
    if (inner == normalizer.end() || !inner->is_array())
      return makeError(where, "normalizer.normalizers: expected an array");
    for (size_t i = 0; i < inner->size(); ++i)
      items.emplace_back(&(*inner)[i],
                         "normalizer.normalizers[" + std::to_string(i) + "]");
  } else {
    items.emplace_back(&normalizer, "normalizer");
  }
  for (const auto &[step, field] : items) {
    std::string type = typeOf(*step);
    if (type == "NFC") {
      steps.push_back(Step::Nfc);
    } else if (type == "Lowercase") {
      steps.push_back(Step::Lowercase);
    } else if (type == "Replace" && isWhiteSpaceReplace(*step)) {
      steps.push_back(Step::CollapseWhiteSpace);
    } else {
      return makeError(where, field, ": ",
                       type.empty() ? describe(*step) : "\"" + type + "\"",
                       " is not supported (byte-level BPE takes NFC, "
                       "Lowercase and Replace of \\s+ by a space)");
    }
  }
  return TextNormalizer(std::move(steps));
}

std::string TextNormalizer::apply(std::string_view text) const {
  if (steps.empty())
    return std::string(text);
  std::vector<uint32_t> chars = decode(text);
  for (Step step : steps) {
    switch (step) {
    case Step::Nfc:
      toNfc(chars);
      break;
    case Step::Lowercase:
      toLowercase(chars);
      break;
    case Step::CollapseWhiteSpace:
      collapseWhiteSpace(chars);
      break;
    }
  }
  return encode(chars);
}

} // namespace kiln
