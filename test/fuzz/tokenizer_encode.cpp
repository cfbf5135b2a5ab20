//===- tokenizer_encode.cpp - Fuzzes the text the tokenizers encode -------===//
//
// Input: the text a user hands to a compiled model at run time. The
// tokenizers are real ones from test/fixtures, loaded once: GPT-2 (vocab.json
// + merges.txt), a BPE with added tokens of every flag, RoBERTa, MiniLM and
// CLIP through EncoderTokenizer (CLIP's BPE also alone), and a small
// WordPiece given added tokens of every flag. Each encodes the text; the ids
// must decode (TokenizerChecks.h).
//
//===----------------------------------------------------------------------===//

#include "TokenizerChecks.h"

#include "runtime/support/FileUtil.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>

using namespace kiln;

namespace {

std::string fixture(const std::string &path) {
  Expected<std::string> bytes =
      readFileBytes(std::string(KILN_FUZZ_FIXTURES) + "/" + path);
  FUZZ_CHECK(bytes, bytes.message());
  return std::move(*bytes);
}

/// The small WordPiece of the runtime tests with added tokens of every flag.
std::string wordPieceWithAddedTokens() {
  nlohmann::json root =
      nlohmann::json::parse(fixture("runtime/encoder/tokenizer.json"));
  auto add = [&](const char *content, bool special, bool singleWord,
                 bool lstrip, bool rstrip, bool normalized) {
    root["added_tokens"].push_back({{"content", content},
                                    {"special", special},
                                    {"single_word", singleWord},
                                    {"lstrip", lstrip},
                                    {"rstrip", rstrip},
                                    {"normalized", normalized}});
  };
  add("[NEW]", false, false, false, false, false);
  add("cat", false, true, false, false, true);
  add("Hello World", false, false, false, false, true);
  add("<x>", true, false, true, true, false);
  add(" spaced ", false, false, false, false, false);
  add("\xC3\x89t\xC3\xA9", false, false, false, false, true);
  add("##s", false, true, false, true, false);
  return root.dump();
}

struct Tokenizers {
  std::unique_ptr<ByteLevelBpe> gpt2, added, clipBpe;
  std::unique_ptr<WordPiece> wordPiece;
  std::unique_ptr<EncoderTokenizer> roberta, minilm, clip;
};

template <typename T> std::unique_ptr<T> loaded(Expected<T> value) {
  FUZZ_CHECK(value, value.message());
  return std::make_unique<T>(std::move(*value));
}

std::unique_ptr<EncoderTokenizer> encoder(const char *kind,
                                          const std::string &path) {
  std::string bytes = fixture(path);
  nlohmann::json metadata = {{"kind", kind}, {"files", {"tokenizer.json"}}};
  return loaded(EncoderTokenizer::create(
      metadata, [&](std::string_view) { return std::string_view(bytes); }));
}

const Tokenizers &tokenizers() {
  static const Tokenizers *all = [] {
    auto *t = new Tokenizers;
    t->gpt2 = loaded(ByteLevelBpe::fromFolder(std::string(KILN_FUZZ_FIXTURES) +
                                              "/tokenizer/gpt2"));
    t->added = loaded(ByteLevelBpe::fromTokenizerJson(
        fixture("tokenizer/added/tokenizer.json"), "added/tokenizer.json"));
    t->wordPiece = loaded(WordPiece::fromTokenizerJson(
        wordPieceWithAddedTokens(), "encoder/tokenizer.json"));
    t->roberta = encoder("byte_level_bpe", "tokenizer/roberta/tokenizer.json");
    t->minilm = encoder("wordpiece", "tokenizer/minilm/tokenizer.json");
    t->clip = encoder("clip_bpe", "tokenizer/clip/tokenizer.json");
    t->clipBpe = loaded(ByteLevelBpe::fromTokenizerJson(
        fixture("tokenizer/clip/tokenizer.json"), "clip/tokenizer.json"));
    return t;
  }();
  return *all;
}

/// Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
bool isValidUtf8(std::string_view text) {
  const auto *p = reinterpret_cast<const unsigned char *>(text.data());
  size_t n = text.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = p[i];
    size_t length = c < 0x80                 ? 1
                    : c >= 0xC2 && c <= 0xDF ? 2
                    : c >= 0xE0 && c <= 0xEF ? 3
                    : c >= 0xF0 && c <= 0xF4 ? 4
                                             : 0;
    if (length == 0 || i + length > n)
      return false;
    unsigned char low = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
    unsigned char high = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    for (size_t k = 1; k < length; ++k, low = 0x80, high = 0xBF)
      if (p[i + k] < low || p[i + k] > high)
        return false;
    i += length;
  }
  return true;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  tokenizers();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  const Tokenizers &t = tokenizers();
  fuzz::checkEncode(*t.gpt2, text);
  // Byte-level BPE with every byte in its vocab loses nothing.
  if (isValidUtf8(text)) {
    Expected<std::string> decoded = t.gpt2->decode(t.gpt2->encode(text));
    FUZZ_CHECK(decoded && *decoded == text, "GPT-2 does not round-trip");
  }
  fuzz::checkEncode(*t.added, text);
  fuzz::checkEncode(*t.wordPiece, text);
  EncodedText roberta = t.roberta->encodePair(text, text);
  t.roberta->decode(roberta.ids);
  EncodedText minilm = t.minilm->encodePair(text, text);
  t.minilm->decode(minilm.ids);
  // CLIP normalizes (NFC, white space, lowercase) before its split.
  fuzz::checkEncode(*t.clipBpe, text);
  EncodedText clip = t.clip->encode(text);
  FUZZ_CHECK(clip.ids.size() >= 2 && clip.ids.front() == t.clip->bosId() &&
                 clip.ids.back() == t.clip->eosId(),
             "CLIP's encoding is not <|startoftext|> ... <|endoftext|>");
  t.clip->decode(clip.ids);
  return 0;
}
