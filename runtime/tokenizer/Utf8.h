//===- Utf8.h - Strict UTF-8 decoding for the tokenizers --------*- C++ -*-===//
//
// Decoding one character at a time, the class bits of the character at or
// before a position, and encoding, for byte-level BPE, its normalizers and
// the added-token splitter. Internal to runtime/tokenizer/.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TOKENIZER_UTF8_H
#define KILN_RUNTIME_TOKENIZER_UTF8_H

#include "runtime/tokenizer/UnicodeTables.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::utf8 {

/// One step of UTF-8 decoding at some position.
struct Utf8Step {
  /// Bytes consumed: a whole character, or the maximal prefix of a valid
  /// sequence (at least 1) when `valid` is false.
  uint32_t length;
  bool valid;
  /// The invalid prefix ran into the end of the input: more bytes could
  /// still complete it.
  bool truncated;
  uint32_t codepoint;
};

/// Decodes one character of strict UTF-8 (no overlong forms, surrogates or
/// code points above U+10FFFF), following the well-formed byte sequences of
/// the Unicode standard (table 3-7).
inline Utf8Step decodeUtf8(const unsigned char *bytes, size_t available) {
  unsigned char lead = bytes[0];
  if (lead < 0x80)
    return {1, true, false, lead};
  uint32_t length;
  uint32_t codepoint;
  unsigned char low = 0x80, high = 0xBF; // range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    codepoint = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    codepoint = lead & 0x0F;
    low = lead == 0xE0 ? 0xA0 : 0x80;  // overlong below
    high = lead == 0xED ? 0x9F : 0xBF; // surrogates above
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    codepoint = lead & 0x07;
    low = lead == 0xF0 ? 0x90 : 0x80;  // overlong below
    high = lead == 0xF4 ? 0x8F : 0xBF; // past U+10FFFF above
  } else {
    return {1, false, false, lead};
  }
  for (uint32_t i = 1; i < length; ++i) {
    if (i >= available)
      return {i, false, true, 0};
    unsigned char byte = bytes[i];
    if (byte < low || byte > high)
      return {i, false, false, 0};
    codepoint = codepoint << 6 | (byte & 0x3F);
    low = 0x80;
    high = 0xBF;
  }
  return {length, true, false, codepoint};
}

/// A character of a text: its length in bytes and class bits
/// (unicode::CharClass). A byte that does not start valid UTF-8 is a
/// character of its own, of no class (like punctuation).
struct TextChar {
  uint32_t length;
  uint8_t classes;
};

inline TextChar charAt(std::string_view text, size_t pos) {
  const auto *data = reinterpret_cast<const unsigned char *>(text.data());
  if (data[pos] < 0x80)
    return {1, unicode::classify(data[pos])};
  Utf8Step step = decodeUtf8(data + pos, text.size() - pos);
  if (!step.valid)
    return {1, 0};
  return {step.length, unicode::classify(step.codepoint)};
}

/// The character that ends at `end` (> 0), and where it starts.
inline TextChar charBefore(std::string_view text, size_t end, size_t &start) {
  size_t begin = end - 1;
  while (begin > 0 && end - begin < 4 &&
         (static_cast<unsigned char>(text[begin]) & 0xC0) == 0x80)
    --begin;
  TextChar c = charAt(text, begin);
  if (begin + c.length != end) {
    start = end - 1; // a stray byte
    return {1, 0};
  }
  start = begin;
  return c;
}

/// Appends a code point (at most U+10FFFF) as UTF-8.
inline void appendUtf8(uint32_t codepoint, std::string &out) {
  if (codepoint < 0x80) {
    out += static_cast<char>(codepoint);
  } else if (codepoint < 0x800) {
    out += static_cast<char>(0xC0 | codepoint >> 6);
    out += static_cast<char>(0x80 | (codepoint & 0x3F));
  } else if (codepoint < 0x10000) {
    out += static_cast<char>(0xE0 | codepoint >> 12);
    out += static_cast<char>(0x80 | (codepoint >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (codepoint & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | codepoint >> 18);
    out += static_cast<char>(0x80 | (codepoint >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (codepoint >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (codepoint & 0x3F));
  }
}

} // namespace kiln::utf8

#endif // KILN_RUNTIME_TOKENIZER_UTF8_H
