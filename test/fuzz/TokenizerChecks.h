//===- TokenizerChecks.h - What every loaded tokenizer must do --*- C++ -*-===//
//
// Once a tokenizer loads from fuzzed files, it encodes a fixed text (and a
// text made of its own first tokens); the ids must be tokens it knows and
// must decode, and streaming decode must equal decode.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_FUZZ_TOKENIZERCHECKS_H
#define KILN_TEST_FUZZ_TOKENIZERCHECKS_H

#include "FuzzCheck.h"

#include "runtime/tokenizer/ByteLevelBpe.h"
#include "runtime/tokenizer/EncoderTokenizer.h"
#include "runtime/tokenizer/WordPiece.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace kiln::fuzz {

/// Some ASCII, punctuation, contractions, added-token look-alikes, accents,
/// CJK, white space runs, an emoji and invalid UTF-8.
inline const std::string &fixedText() {
  static const std::string text =
      "Hello, World! It's <|endoftext|> [CLS] a [MASK]<mask> don't  \t\n"
      " na\xC3\xAFve caf\xC3\xA9 \xE5\x8C\x97\xE4\xBA\xAC 123,456 "
      "\xF0\x9F\x98\x80 \xC3 \xFF\xFE end.";
  return text;
}

/// The first tokens of the vocabulary, glued together.
template <typename Tokenizer>
std::string ownTokens(const Tokenizer &tokenizer) {
  std::string text;
  size_t limit = std::min<size_t>(tokenizer.vocabSize(), 64);
  for (size_t id = 0; id < limit; ++id)
    if (auto token = tokenizer.tokenText(static_cast<int32_t>(id)))
      text += std::string(*token) + (id % 3 ? "" : " ");
  return text;
}

inline void checkEncode(const ByteLevelBpe &bpe, const std::string &text) {
  for (bool prefixSpace : {false, true}) {
    std::vector<int32_t> ids = bpe.encode(text, prefixSpace);
    for (int32_t id : ids)
      FUZZ_CHECK(bpe.tokenText(id).has_value(),
                 "encode gave unknown id " + std::to_string(id));
    Expected<std::string> decoded = bpe.decode(ids);
    FUZZ_CHECK(decoded, decoded.message());
    Expected<std::string> skipped = bpe.decode(ids, true);
    FUZZ_CHECK(skipped, skipped.message());
    BpeStreamDecoder stream(bpe);
    std::string streamed;
    for (int32_t id : ids) {
      Expected<std::string> piece = stream.push(id);
      FUZZ_CHECK(piece, piece.message());
      streamed += *piece;
    }
    streamed += stream.flush();
    FUZZ_CHECK(streamed == *decoded, "stream decode differs from decode");
  }
}

inline void checkBpe(const ByteLevelBpe &bpe) {
  checkEncode(bpe, fixedText());
  checkEncode(bpe, ownTokens(bpe));
}

inline void checkEncode(const WordPiece &wordPiece, const std::string &text) {
  std::vector<int32_t> ids = wordPiece.tokenize(text);
  for (int32_t id : ids)
    FUZZ_CHECK(wordPiece.tokenText(id).has_value(),
               "tokenize gave unknown id " + std::to_string(id));
  wordPiece.decode(ids);
  wordPiece.decode(ids, true);
  wordPiece.normalize(text);
}

inline void checkWordPiece(const WordPiece &wordPiece) {
  checkEncode(wordPiece, fixedText());
  checkEncode(wordPiece, ownTokens(wordPiece));
}

inline void checkEncoder(const EncoderTokenizer &encoder) {
  EncodedText one = encoder.encode(fixedText());
  FUZZ_CHECK(one.ids.size() == one.typeIds.size() &&
                 one.ids.size() == one.tokens.size(),
             "lengths differ");
  EncodedText pair = encoder.encodePair("a question?", fixedText());
  FUZZ_CHECK(pair.ids.size() == pair.tokens.size(), "lengths differ");
  encoder.decode(pair.ids);
  for (int32_t id : one.ids)
    encoder.displayToken(id);
}

} // namespace kiln::fuzz

#endif // KILN_TEST_FUZZ_TOKENIZERCHECKS_H
