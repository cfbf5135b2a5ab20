//===- config_json.cpp - Fuzzes the readers of a checkpoint's JSON files --===//
//
// Input: the text of one JSON file, handed to every reader of the small JSON
// files of a checkpoint folder as the compiler reads them (parseJsonText is
// what readJsonFile calls):
//   config.json                    Gpt2Config::parse, BertConfig::parse
//   modules.json                   parseModulesJson (sentence-transformers)
//   1_Pooling/config.json          parsePoolingConfig
//   tokenizer_config.json          applyTokenizerConfig, then the runtime's
//                                  EncoderTokenizer on what it wrote
//   model.safetensors.index.json   parseShardIndex
// (No reader of generation_config.json exists.) These readers live in
// frontend/ and models/; what this target finds there is reported to their
// owners: see FuzzCheck.h and KNOWN_ISSUES.md.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"

#include "frontend/BertConfig.h"
#include "frontend/Checkpoint.h"
#include "frontend/EncoderSettings.h"
#include "frontend/Gpt2Config.h"
#include "runtime/tokenizer/EncoderTokenizer.h"

#include <cstdint>
#include <exception>
#include <string_view>

using namespace kiln;

namespace {

/// Runs one reader; an exception escaping it would end `kiln compile` with
/// std::terminate.
template <typename Reader> void guarded(const char *what, Reader reader) {
  if (fuzz::strict()) {
    reader();
    return;
  }
  try {
    reader();
  } catch (const std::exception &e) {
    // Known: see KNOWN_ISSUES.md.
    (void)what;
  }
}

/// True when `field` of `json` is an integer above `limit`.
bool above(const nlohmann::json &json, const char *field, int64_t limit) {
  auto it = json.is_object() ? json.find(field) : json.end();
  return it != json.end() &&
         ((it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(limit)) ||
          (it->is_number_integer() && it->get<int64_t>() > limit));
}

void readConfig(const nlohmann::json &json) {
  // Known (see KNOWN_ISSUES.md): overflow of 4 * n_embd, of pad_token_id + 1,
  // and num_labels labels made one by one. Stepped around unless strict.
  bool knownGpt2 = above(json, "n_embd", int64_t(1) << 60);
  bool knownBert = above(json, "pad_token_id", int64_t(1) << 62) ||
                   above(json, "num_labels", 100000);
  if (fuzz::strict() || !knownGpt2)
    guarded("Gpt2Config", [&] {
      Expected<Gpt2Config> gpt2 = Gpt2Config::parse(json, "config.json");
      if (!gpt2)
        fuzz::checkErrorMessage(gpt2.message(), "config.json: ");
      else
        FUZZ_CHECK(gpt2->headDim() > 0, "head dim");
    });
  if (fuzz::strict() || !knownBert)
    guarded("BertConfig", [&] {
      Expected<BertConfig> bert = BertConfig::parse(json, "config.json");
      if (!bert)
        fuzz::checkErrorMessage(bert.message(), "config.json: ");
      else
        FUZZ_CHECK(bert->headDim() > 0 && bert->maxTokens() > 0, "sizes");
    });
}

void readSentenceTransformers(const nlohmann::json &json) {
  guarded("parseModulesJson", [&] {
    Expected<SentenceTransformersModules> modules =
        parseModulesJson(json, "modules.json");
    if (!modules)
      fuzz::checkErrorMessage(modules.message(), "modules.json: ");
  });
  guarded("parsePoolingConfig", [&] {
    Expected<std::string> mode =
        parsePoolingConfig(json, "1_Pooling/config.json");
    if (!mode)
      fuzz::checkErrorMessage(mode.message(), "1_Pooling/config.json: ");
    else
      FUZZ_CHECK(*mode == "mean" || *mode == "cls", *mode);
  });
}

void readTokenizerConfig(const nlohmann::json &json) {
  guarded("applyTokenizerConfig", [&] {
    // What models/Bert.cpp writes for a vocab.txt, then the settings.
    nlohmann::json metadata = {{"kind", "wordpiece"},
                               {"files", {"vocab.txt"}},
                               {"lowercase", true},
                               {"strip_accents", nullptr},
                               {"tokenize_chinese_chars", true}};
    applyTokenizerConfig(json, metadata);
    static const std::string_view vocab =
        "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n";
    Expected<EncoderTokenizer> tokenizer = EncoderTokenizer::create(
        metadata, [](std::string_view) { return vocab; });
    // The compiler accepted these settings: the executable must accept them
    // too, or it fails on every run. Known: see KNOWN_ISSUES.md.
    if (fuzz::strict())
      FUZZ_CHECK(tokenizer, tokenizer.message());
    if (tokenizer)
      tokenizer->encode("Hello worlds");
  });
}

void readShardIndex(const nlohmann::json &json) {
  guarded("parseShardIndex", [&] {
    Expected<std::vector<std::string>> shards =
        parseShardIndex(json, "model.safetensors.index.json");
    if (!shards) {
      fuzz::checkErrorMessage(shards.message(),
                              "model.safetensors.index.json: ");
      return;
    }
    for (const std::string &shard : *shards)
      FUZZ_CHECK(shard.find('/') == std::string::npos && shard != "..", shard);
  });
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  std::optional<nlohmann::json> json;
  guarded("parseJsonText", [&] {
    Expected<nlohmann::json> parsed = parseJsonText(text, "config.json");
    if (!parsed)
      fuzz::checkErrorMessage(parsed.message(), "config.json: ");
    else
      json = std::move(*parsed);
  });
  if (!json)
    return 0;
  readConfig(*json);
  readSentenceTransformers(*json);
  readTokenizerConfig(*json);
  readShardIndex(*json);
  return 0;
}
