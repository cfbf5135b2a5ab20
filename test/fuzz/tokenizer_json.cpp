//===- tokenizer_json.cpp - Fuzzes the tokenizer.json readers -------------===//
//
// Input: a tokenizer.json, loaded as byte-level BPE and as WordPiece; one
// that loads is also loaded through EncoderTokenizer (as a compiled encoder
// does) and must encode and decode (TokenizerChecks.h).
//
//===----------------------------------------------------------------------===//

#include "TokenizerChecks.h"

#include <nlohmann/json.hpp>

#include <cstdint>

using namespace kiln;

namespace {

void checkThroughEncoder(std::string_view bytes, const char *kind) {
  nlohmann::json metadata = {{"kind", kind}, {"files", {"tokenizer.json"}}};
  Expected<EncoderTokenizer> encoder = EncoderTokenizer::create(
      metadata, [&](std::string_view name) -> std::optional<std::string_view> {
        if (name == "tokenizer.json")
          return bytes;
        return std::nullopt;
      });
  if (encoder)
    fuzz::checkEncoder(*encoder);
  else
    FUZZ_CHECK(encoder.message().rfind("tokenizer.json: ", 0) == 0 ||
                   encoder.message().rfind("model metadata: ", 0) == 0,
               encoder.message());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  Expected<ByteLevelBpe> bpe =
      ByteLevelBpe::fromTokenizerJson(text, "tokenizer.json");
  if (bpe) {
    fuzz::checkBpe(*bpe);
    checkThroughEncoder(text, "byte_level_bpe");
  } else {
    fuzz::checkErrorMessage(bpe.message(), "tokenizer.json: ");
  }
  Expected<WordPiece> wordPiece =
      WordPiece::fromTokenizerJson(text, "tokenizer.json");
  if (wordPiece) {
    fuzz::checkWordPiece(*wordPiece);
    checkThroughEncoder(text, "wordpiece");
  } else {
    fuzz::checkErrorMessage(wordPiece.message(), "tokenizer.json: ");
  }
  return 0;
}
