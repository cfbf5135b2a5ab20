//===- bpe_vocab_merges.cpp - Fuzzes the vocab.json + merges.txt readers --===//
//
// Input: vocab.json, the separator "\n%%merges.txt%%\n", then merges.txt
// (without the separator, all of it is vocab.json and merges.txt is empty).
// Loaded as GPT-2's tokenizer (ByteLevelBpe::fromVocabAndMerges) and as
// RoBERTa's (EncoderTokenizer, which makes a tokenizer.json of them); one
// that loads must encode and decode (TokenizerChecks.h).
//
//===----------------------------------------------------------------------===//

#include "TokenizerChecks.h"

#include <nlohmann/json.hpp>

#include <cstdint>

using namespace kiln;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view input(reinterpret_cast<const char *>(data), size);
  constexpr std::string_view kSeparator = "\n%%merges.txt%%\n";
  size_t split = input.find(kSeparator);
  std::string_view vocab = input.substr(0, split);
  std::string_view merges = split == std::string_view::npos
                                ? std::string_view()
                                : input.substr(split + kSeparator.size());

  Expected<ByteLevelBpe> bpe = ByteLevelBpe::fromVocabAndMerges(
      vocab, merges, "vocab.json", "merges.txt", {"<s>", "</s>", "<pad>"});
  if (!bpe) {
    const std::string &message = bpe.message();
    fuzz::checkErrorMessage(message, message.rfind("merges.txt", 0) == 0
                                         ? "merges.txt: "
                                         : "vocab.json: ");
    return 0;
  }
  fuzz::checkBpe(*bpe);

  nlohmann::json metadata = {{"kind", "byte_level_bpe"},
                             {"files", {"vocab.json", "merges.txt"}},
                             {"add_prefix_space", size % 2 == 1}};
  Expected<EncoderTokenizer> encoder = EncoderTokenizer::create(
      metadata, [&](std::string_view name) -> std::optional<std::string_view> {
        if (name == "vocab.json")
          return vocab;
        if (name == "merges.txt")
          return merges;
        return std::nullopt;
      });
  if (encoder)
    fuzz::checkEncoder(*encoder);
  return 0;
}
