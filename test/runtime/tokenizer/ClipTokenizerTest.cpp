//===- ClipTokenizerTest.cpp - CLIP encodings vs `transformers` -----------===//
//
// The expected ids come from transformers' CLIPTokenizer (backed by
// `tokenizers`; utils/fixtures/make_clip_tokenizer_fixtures.py) over a small
// CLIP-style vocabulary, loaded here from tokenizer.json and from
// vocab.json + merges.txt through EncoderTokenizer (kind "clip_bpe"), as the
// zero-shot application does, and through the compile-time check.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/ByteLevelBpe.h"
#include "runtime/tokenizer/EncoderTokenizer.h"
#include "runtime/tokenizer/TextNormalizer.h"
#include "runtime/tokenizer/TokenizerCheck.h"

#include "TokenizerTestUtil.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>

using namespace kiln;
using namespace kiln::test;
using nlohmann::json;

namespace {

const std::string kClipFixtures = kTokenizerFixtures + "/clip";

const json &clipCases() {
  static const json cases = readJson(kClipFixtures + "/cases.json");
  return cases;
}

/// tokenizer.json with its special added tokens marked normalized=true, as
/// the fixture script patches it.
std::string normalizedSpecialsJson() {
  json root = json::parse(readFile(kClipFixtures + "/tokenizer.json"));
  for (json &token : root["added_tokens"])
    token["normalized"] = true;
  return root.dump();
}

/// The files a model may embed: name -> bytes, read once.
const std::map<std::string, std::string> &modelFiles() {
  static const std::map<std::string, std::string> files = [] {
    std::map<std::string, std::string> out;
    for (const char *name :
         {"tokenizer.json", "vocab.json", "merges.txt", "tokenizer_unk.json"})
      out[name] = readFile(kClipFixtures + "/" + name);
    out["normalized.json"] = normalizedSpecialsJson();
    return out;
  }();
  return files;
}

std::optional<std::string_view> lookup(std::string_view name) {
  auto it = modelFiles().find(std::string(name));
  if (it == modelFiles().end())
    return std::nullopt;
  return std::string_view(it->second);
}

Expected<EncoderTokenizer> create(const json &metadata) {
  return EncoderTokenizer::create(metadata, lookup);
}

const json kFromTokenizerJson = {{"kind", "clip_bpe"},
                                 {"files", {"tokenizer.json"}}};
const json kFromVocabAndMerges = {{"kind", "clip_bpe"},
                                  {"files", {"vocab.json", "merges.txt"}}};

void expectMatchesCases(const EncoderTokenizer &tokenizer) {
  const json &cases = clipCases();
  ASSERT_TRUE(cases.is_object());
  EXPECT_EQ(tokenizer.vocabSize(), cases["vocab_size"].get<size_t>());
  EXPECT_EQ(tokenizer.bosId(), cases["bos_id"].get<int32_t>());
  EXPECT_EQ(tokenizer.eosId(), cases["eos_id"].get<int32_t>());
  EXPECT_EQ(tokenizer.padId(), cases["pad_id"].get<int32_t>());
  EXPECT_FALSE(tokenizer.maskId());
  for (const json &item : cases["single"]) {
    std::string text = item["text"];
    SCOPED_TRACE("text: " + printable(text));
    EncodedText encoded = tokenizer.encode(text);
    EXPECT_EQ(encoded.ids, idsOf(item["ids"]));
    EXPECT_EQ(encoded.typeIds, std::vector<int32_t>(encoded.ids.size(), 0));
    ASSERT_EQ(encoded.tokens.size(), encoded.ids.size());
    EXPECT_EQ(encoded.tokens.front(), "<|startoftext|>");
    EXPECT_EQ(encoded.tokens.back(), "<|endoftext|>");
    EXPECT_EQ(tokenizer.decode(idsOf(item["ids"])),
              item["decoded"].get<std::string>());
  }
  for (const json &item : cases["pairs"]) {
    std::string first = item["first"], second = item["second"];
    SCOPED_TRACE("pair: " + printable(first) + " | " + printable(second));
    EXPECT_EQ(tokenizer.encodePair(first, second).ids, idsOf(item["ids"]));
  }
}

void expectError(const json &metadata, const std::string &expected) {
  Expected<EncoderTokenizer> tokenizer = create(metadata);
  ASSERT_FALSE(tokenizer) << metadata.dump();
  EXPECT_NE(tokenizer.message().find(expected), std::string::npos)
      << metadata.dump() << " -> " << tokenizer.message();
  EXPECT_EQ(tokenizer.message().find('\n'), std::string::npos);
}

/// Metadata of files written to a folder, as the compiler sees them.
struct ClipFolder {
  TempDir dir;
  std::vector<TokenizerFile> files;

  void add(const std::string &name, const std::string &bytes) {
    writeFile(dir.file(name), bytes);
    files.push_back({name, dir.file(name)});
  }
};

} // namespace

TEST(ClipTokenizerFixtures, HaveEnoughCases) {
  const json &cases = clipCases();
  EXPECT_GE(cases["single"].size(), 200u);
  EXPECT_GE(cases["pairs"].size(), 10u);
  EXPECT_GE(cases["normalized_specials"].size(), 20u);
  EXPECT_GE(cases["unknown"].size(), 10u);
  // The slow tokenizer's differences are recorded, and most texts agree.
  size_t slowDiffers = 0;
  for (const json &item : cases["single"])
    slowDiffers += item.contains("slow_ids");
  EXPECT_GT(slowDiffers, 0u);
  EXPECT_LT(slowDiffers, cases["single"].size() / 3);
}

TEST(ClipTokenizer, MatchesTransformersFromTokenizerJson) {
  Expected<EncoderTokenizer> tokenizer = create(kFromTokenizerJson);
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  expectMatchesCases(*tokenizer);
}

TEST(ClipTokenizer, MatchesTransformersFromVocabAndMerges) {
  Expected<EncoderTokenizer> tokenizer = create(kFromVocabAndMerges);
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  expectMatchesCases(*tokenizer);
  // Either order of the two files.
  Expected<EncoderTokenizer> swapped =
      create({{"kind", "clip_bpe"}, {"files", {"merges.txt", "vocab.json"}}});
  ASSERT_TRUE(swapped) << swapped.message();
  EXPECT_EQ(swapped->encode("a photo of a cat").ids,
            tokenizer->encode("a photo of a cat").ids);
}

TEST(ClipTokenizer, SlowTokenizerAgreesWhereRecorded) {
  // Where the slow tokenizer gives the same ids, there is one answer; the
  // cases without "slow_ids" are those, and include plain captions.
  Expected<EncoderTokenizer> tokenizer = create(kFromVocabAndMerges);
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  size_t agreed = 0;
  for (const json &item : clipCases()["single"]) {
    if (item.contains("slow_ids"))
      continue;
    EXPECT_EQ(tokenizer->encode(item["text"].get<std::string>()).ids,
              idsOf(item["ids"]));
    ++agreed;
  }
  EXPECT_GE(agreed, 150u);
}

TEST(ClipTokenizer, NormalizedSpecialTokensMatchCaseInsensitively) {
  Expected<EncoderTokenizer> tokenizer =
      create({{"kind", "clip_bpe"}, {"files", {"normalized.json"}}});
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  size_t differ = 0;
  std::map<std::string, std::vector<int32_t>> plain;
  for (const json &item : clipCases()["single"])
    plain[item["text"]] = idsOf(item["ids"]);
  for (const json &item : clipCases()["normalized_specials"]) {
    std::string text = item["text"];
    SCOPED_TRACE("text: " + printable(text));
    EXPECT_EQ(tokenizer->encode(text).ids, idsOf(item["ids"]));
    differ += plain[text] != idsOf(item["ids"]);
  }
  // "<|ENDOFTEXT|>" lowercases to the token: the flag must matter.
  EXPECT_GT(differ, 0u);
}

TEST(ClipTokenizer, UnknownBytesBecomeTheUnknownToken) {
  Expected<EncoderTokenizer> tokenizer =
      create({{"kind", "clip_bpe"}, {"files", {"tokenizer_unk.json"}}});
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  for (const json &item : clipCases()["unknown"]) {
    std::string text = item["text"];
    SCOPED_TRACE("text: " + printable(text));
    EXPECT_EQ(tokenizer->encode(text).ids, idsOf(item["ids"]));
  }
}

TEST(ClipTokenizer, ExposesWhatTheCallerPadsAndTruncatesWith) {
  json metadata = kFromTokenizerJson;
  metadata["model_max_length"] = 77;
  Expected<EncoderTokenizer> tokenizer = create(metadata);
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  EXPECT_EQ(tokenizer->modelMaxLength(), std::optional<size_t>(77));
  EncodedText empty = tokenizer->encode("");
  EXPECT_EQ(empty.ids,
            (std::vector<int32_t>{tokenizer->bosId(), tokenizer->eosId()}));
  EXPECT_FALSE(create(kFromTokenizerJson)->modelMaxLength());

  // The metadata may name other special tokens (laion's CLIPs pad with
  // "!").
  metadata["special_tokens"] = {{"pad", "!"}};
  Expected<EncoderTokenizer> bang = create(metadata);
  ASSERT_TRUE(bang) << bang.message();
  auto vocab = json::parse(modelFiles().at("vocab.json"));
  EXPECT_EQ(bang->padId(), vocab["!"].get<int32_t>());
  EXPECT_EQ(bang->eosId(), tokenizer->eosId());
}

TEST(ClipTokenizer, DecodesAsTransformers) {
  Expected<EncoderTokenizer> tokenizer = create(kFromTokenizerJson);
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  EncodedText encoded = tokenizer->encode("A photo of a CAT!");
  EXPECT_EQ(tokenizer->decode(encoded.ids), "a photo of a cat !");
  auto vocab = json::parse(modelFiles().at("vocab.json"));
  EXPECT_EQ(tokenizer->displayToken(vocab["a</w>"].get<int32_t>()), "a ");
}

TEST(ClipTokenizer, ByteLevelBpeKeepsTheSuffixAndPostProcessor) {
  Expected<ByteLevelBpe> bpe = ByteLevelBpe::fromTokenizerJson(
      modelFiles().at("tokenizer.json"), "tokenizer.json");
  ASSERT_TRUE(bpe) << bpe.message();
  EXPECT_EQ(bpe->endOfWordSuffix(), "</w>");
  ASSERT_TRUE(bpe->postProcessorTokens());
  EXPECT_EQ(bpe->postProcessorTokens()->first, "<|startoftext|>");
  EXPECT_EQ(bpe->postProcessorTokens()->second, "<|endoftext|>");
  // No specials: the caption's ids alone, each word ending in </w>.
  std::vector<int32_t> ids = bpe->encode("Cat  CAT");
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], ids[1]);
  EXPECT_EQ(bpe->tokenText(ids[0]).value_or(""), "cat</w>");
}

TEST(ClipNormalizer, AppliesItsStepsInOrder) {
  using Step = TextNormalizer::Step;
  TextNormalizer clip({Step::Nfc, Step::CollapseWhiteSpace, Step::Lowercase});
  // White space runs of any kind become one space (the split drops them
  // anyway, so only this test sees it).
  EXPECT_EQ(clip.apply("A\xC2\xA0\xC2\xA0"
                       "B\t\n C\xE3\x80\x80"),
            "a b c ");
  // Composition, reordering of marks, Hangul, singletons and blocking.
  EXPECT_EQ(clip.apply("Cafe\xCC\x81"), "caf\xC3\xA9");
  EXPECT_EQ(clip.apply("a\xCC\x81\xCC\xA3"), "\xE1\xBA\xA1\xCC\x81");
  EXPECT_EQ(clip.apply("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), "\xEA\xB0\x81");
  EXPECT_EQ(clip.apply("\xE2\x84\xAB"), "\xC3\xA5"); // Angstrom sign
  EXPECT_EQ(clip.apply("e\xCC\x81\xCC\x81"), "\xC3\xA9\xCC\x81");
  // Invalid UTF-8 passes through and blocks composition.
  EXPECT_EQ(clip.apply("E\xFF\xCC\x81"), "e\xFF\xCC\x81");
  // Lowercase before NFC would not compose what NFC then sees.
  TextNormalizer lowerOnly({Step::Lowercase});
  EXPECT_EQ(lowerOnly.apply("\xC4\xB0"), "i\xCC\x87");
  EXPECT_EQ(TextNormalizer().apply("A  B"), "A  B");
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST(ClipTokenizerErrors, NameTheFileAndTheField) {
  // Missing and unknown files.
  expectError({{"kind", "clip_bpe"}, {"files", {"vocab.json"}}},
              "vocab.json: model: expected"); // not a tokenizer.json
  expectError({{"kind", "clip_bpe"}, {"files", {"missing.json"}}},
              "files[0]: missing.json: no such file in the model");
  expectError({{"kind", "clip_bpe"}, {"files", {"vocab.json", "vocab.json"}}},
              "expected tokenizer.json, or vocab.json and merges.txt, for "
              "clip_bpe");
  expectError({{"kind", "clip"}, {"files", {"tokenizer.json"}}},
              "\"clip_bpe\"");
  json badSpecial = kFromTokenizerJson;
  badSpecial["special_tokens"] = {{"eos", "<|eot|>"}};
  expectError(badSpecial, "special_tokens.eos: \"<|eot|>\" is not a token");
  json badLength = kFromTokenizerJson;
  badLength["model_max_length"] = -1;
  expectError(badLength, "model_max_length: expected a positive integer");
}

TEST(ClipTokenizerErrors, CompileTimeCheckNamesTheFile) {
  const std::string tokenizerJson = modelFiles().at("tokenizer.json");
  const std::string vocab = modelFiles().at("vocab.json");
  const std::string merges = modelFiles().at("merges.txt");
  auto check = [](ClipFolder &folder) {
    return checkClipTokenizer(folder.files);
  };
  {
    ClipFolder good;
    good.add("tokenizer.json", tokenizerJson);
    EXPECT_FALSE(check(good)) << "tokenizer.json";
    ClipFolder pair;
    pair.add("vocab.json", vocab);
    pair.add("merges.txt", merges);
    EXPECT_FALSE(check(pair)) << "vocab.json + merges.txt";
  }
  auto expectCheckError = [&](ClipFolder &folder, const std::string &file,
                              const std::string &expected) {
    Error error = check(folder);
    ASSERT_TRUE(error) << "no error for " << file;
    EXPECT_NE(error.message().find(folder.dir.file(file)), std::string::npos)
        << error.message();
    EXPECT_NE(error.message().find(expected), std::string::npos)
        << error.message();
    EXPECT_EQ(error.message().find('\n'), std::string::npos);
  };
  {
    ClipFolder garbage;
    garbage.add("tokenizer.json", std::string("\x89PNG\r\n\x1a\n\0\0", 10));
    expectCheckError(garbage, "tokenizer.json", "invalid JSON");
  }
  {
    ClipFolder truncated;
    truncated.add("tokenizer.json", tokenizerJson.substr(0, 5000));
    expectCheckError(truncated, "tokenizer.json", "invalid JSON");
  }
  {
    // A merge of tokens the vocab lacks.
    ClipFolder badMerges;
    badMerges.add("vocab.json", vocab);
    badMerges.add("merges.txt", "#version: 0.2\nt h\nzq xw</w>\n");
    expectCheckError(badMerges, "merges.txt",
                     "line 3: token 'zq' is not in the vocab");
  }
  {
    ClipFolder emptyMerges;
    emptyMerges.add("vocab.json", "[1, 2, 3]");
    emptyMerges.add("merges.txt", merges);
    expectCheckError(emptyMerges, "vocab.json",
                     "expected a JSON object of token ids");
  }
  {
    ClipFolder missing;
    missing.add("vocab.json", vocab);
    missing.files.push_back({"merges.txt", missing.dir.file("merges.txt")});
    expectCheckError(missing, "merges.txt", "");
  }
  {
    // A tokenizer.json whose regex or normalizer is not CLIP's.
    json root = json::parse(tokenizerJson);
    root["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\w+";
    ClipFolder regex;
    regex.add("tokenizer.json", root.dump());
    expectCheckError(regex, "tokenizer.json",
                     "pre_tokenizer.pretokenizers[0].pattern: only CLIP's");
    root = json::parse(tokenizerJson);
    root["normalizer"]["normalizers"][1] = {{"type", "NFKC"}};
    ClipFolder normalizer;
    normalizer.add("tokenizer.json", root.dump());
    expectCheckError(normalizer, "tokenizer.json",
                     "normalizer.normalizers[1]: \"NFKC\" is not supported");
    root = json::parse(tokenizerJson);
    root["model"]["end_of_word_suffix"] = 7;
    ClipFolder suffix;
    suffix.add("tokenizer.json", root.dump());
    expectCheckError(suffix, "tokenizer.json",
                     "model.end_of_word_suffix: expected a string");
  }
}

TEST(ClipTokenizerErrors, ModelMetadataOfClipGoesThroughTheCheck) {
  // What models/Clip.cpp writes: the zero-shot task with a clip_bpe
  // tokenizer.
  ClipFolder folder;
  folder.add("tokenizer.json", "{}");
  std::string metadata =
      json{{"task", "zero-shot-image-classification"},
           {"tokenizer", {{"kind", "clip_bpe"}, {"files", {"tokenizer.json"}}}}}
          .dump();
  Error error = checkModelTokenizer(metadata, folder.files);
  ASSERT_TRUE(error);
  EXPECT_NE(error.message().find(folder.dir.file("tokenizer.json")),
            std::string::npos)
      << error.message();
  ClipFolder good;
  good.add("tokenizer.json", modelFiles().at("tokenizer.json"));
  EXPECT_FALSE(checkModelTokenizer(metadata, good.files));
}
