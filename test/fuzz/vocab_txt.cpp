//===- vocab_txt.cpp - Fuzzes the vocab.txt reader ------------------------===//
//
// Input: one byte of options, then a vocab.txt. The option bits choose the
// WordPiece settings (lowercase, strip accents unset/false/true, CJK
// spacing, clean text, a short max_input_chars_per_word); bit 7 also loads
// it through EncoderTokenizer, as a compiled BERT does. One that loads must
// tokenize and decode (TokenizerChecks.h).
//
//===----------------------------------------------------------------------===//

#include "TokenizerChecks.h"

#include <nlohmann/json.hpp>

#include <cstdint>

using namespace kiln;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  uint8_t bits = data[0];
  std::string_view vocab(reinterpret_cast<const char *>(data) + 1, size - 1);
  WordPiece::Options options;
  options.lowercase = bits & 1;
  if (bits & 2)
    options.stripAccents = (bits & 4) != 0;
  options.tokenizeChineseChars = bits & 8;
  options.cleanText = bits & 16;
  if (bits & 32)
    options.maxInputCharsPerWord = 5;
  Expected<WordPiece> wordPiece =
      WordPiece::fromVocabTxt(vocab, "vocab.txt", options);
  if (!wordPiece) {
    fuzz::checkErrorMessage(wordPiece.message(), "vocab.txt: ");
    return 0;
  }
  fuzz::checkWordPiece(*wordPiece);

  if (bits & 128) {
    nlohmann::json metadata = {{"kind", "wordpiece"},
                               {"files", {"vocab.txt"}},
                               {"lowercase", options.lowercase},
                               {"strip_accents", nullptr},
                               {"tokenize_chinese_chars", true}};
    if (bits & 64)
      metadata["special_tokens"] = {{"cls", "hello"}, {"unk", "[UNK]"}};
    Expected<EncoderTokenizer> encoder = EncoderTokenizer::create(
        metadata, [&](std::string_view) { return vocab; });
    if (encoder)
      fuzz::checkEncoder(*encoder);
  }
  return 0;
}
