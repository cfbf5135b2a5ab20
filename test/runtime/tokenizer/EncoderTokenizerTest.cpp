//===- EncoderTokenizerTest.cpp - BERT / RoBERTa encodings vs `tokenizers` ===//
//
// The expected encodings come from the Hugging Face `tokenizers` library
// (utils/fixtures/make_encoder_tokenizer_fixtures.py): MiniLM's WordPiece and
// a RoBERTa-style byte-level BPE over GPT-2's vocabulary, each loaded from
// every form of files the model metadata can name.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/EncoderTokenizer.h"

#include "TokenizerTestUtil.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>

using namespace kiln;
using namespace kiln::test;
using nlohmann::json;

namespace {

/// The model's embedded files: name -> bytes, read once.
const std::map<std::string, std::string> &modelFiles() {
  static const std::map<std::string, std::string> files = [] {
    std::map<std::string, std::string> out;
    out["tokenizer.json"] =
        readFile(kTokenizerFixtures + "/minilm/tokenizer.json");
    out["vocab.txt"] = readFile(kTokenizerFixtures + "/minilm/vocab.txt");
    out["roberta/tokenizer.json"] =
        readFile(kTokenizerFixtures + "/roberta/tokenizer.json");
    out["vocab.json"] = readFile(kTokenizerFixtures + "/gpt2/vocab.json");
    out["merges.txt"] = readFile(kTokenizerFixtures + "/gpt2/merges.txt");
    out["broken.json"] = "{\"model\": ";
    out["no_unk.txt"] = "[CLS]\n[SEP]\n[PAD]\nhello\n";
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

Expected<EncoderTokenizer> create(const std::string &metadata) {
  return EncoderTokenizer::create(json::parse(metadata), lookup);
}

void expectEncoding(const EncodedText &encoded, const json &item) {
  EXPECT_EQ(encoded.ids, idsOf(item["ids"]));
  EXPECT_EQ(encoded.typeIds, idsOf(item["type_ids"]));
  EXPECT_EQ(encoded.tokens, item["tokens"].get<std::vector<std::string>>());
}

/// Checks every case of a cases file: encodings, pairs, decodes, display
/// strings, the mask and pad ids.
void expectMatchesCases(const EncoderTokenizer &tokenizer, const json &cases,
                        bool wordPiece) {
  ASSERT_TRUE(cases.is_object());
  EXPECT_EQ(tokenizer.vocabSize(), cases["vocab_size"].get<size_t>());
  EXPECT_EQ(tokenizer.maskId(), cases["mask_id"].get<int32_t>());
  EXPECT_EQ(tokenizer.padId(), cases["pad_id"].get<int32_t>());
  for (const json &item : cases["single"]) {
    std::string text = item["text"];
    SCOPED_TRACE("text: " + printable(text));
    expectEncoding(tokenizer.encode(text), item);
    EXPECT_EQ(tokenizer.decode(idsOf(item["ids"])),
              item["decoded"].get<std::string>());
  }
  for (const json &item : cases["pairs"]) {
    std::string first = item["first"], second = item["second"];
    SCOPED_TRACE("pair: " + printable(first) + " | " + printable(second));
    expectEncoding(tokenizer.encodePair(first, second), item);
    EXPECT_EQ(tokenizer.decode(idsOf(item["ids"])),
              item["decoded"].get<std::string>());
  }
  for (const json &item : cases["decode"]) {
    SCOPED_TRACE("ids: " + item["ids"].dump());
    EXPECT_EQ(tokenizer.decode(idsOf(item["ids"])),
              item["skip_special"].get<std::string>());
  }
  for (const json &item : cases["display"]) {
    int32_t id = item["id"];
    // WordPiece shows the token itself ("##ian"); BPE its decoded text.
    EXPECT_EQ(tokenizer.displayToken(id),
              item[wordPiece ? "token" : "text"].get<std::string>())
        << "id " << id;
  }
}

void expectError(const std::string &metadata, const std::string &expected) {
  Expected<EncoderTokenizer> tokenizer = create(metadata);
  ASSERT_FALSE(tokenizer) << metadata;
  EXPECT_NE(tokenizer.message().find(expected), std::string::npos)
      << metadata << " -> " << tokenizer.message();
  EXPECT_EQ(tokenizer.message().find('\n'), std::string::npos);
}

} // namespace

//===----------------------------------------------------------------------===//
// BERT (WordPiece)
//===----------------------------------------------------------------------===//

TEST(EncoderTokenizerFixtures, HaveEnoughCases) {
  for (const char *file :
       {"/minilm/cases.json", "/minilm/cases_cased_strip.json",
        "/minilm/cases_keep_accents_no_cjk.json", "/roberta/cases.json",
        "/roberta/cases_prefix_space.json"}) {
    json cases = readJson(kTokenizerFixtures + file);
    EXPECT_GE(cases["single"].size(), 300u) << file;
    EXPECT_GE(cases["pairs"].size(), 100u) << file;
  }
}

TEST(EncoderTokenizerWordPiece, TokenizerJsonMatchesTokenizers) {
  Expected<EncoderTokenizer> tokenizer =
      create(R"({"kind": "wordpiece", "files": ["tokenizer.json"]})");
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  expectMatchesCases(*tokenizer,
                     readJson(kTokenizerFixtures + "/minilm/cases.json"), true);
}

TEST(EncoderTokenizerWordPiece, VocabTxtMatchesTokenizers) {
  Expected<EncoderTokenizer> tokenizer =
      create(R"({"kind": "wordpiece", "files": ["vocab.txt"], "lowercase": true,
                 "strip_accents": null, "tokenize_chinese_chars": true})");
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  expectMatchesCases(*tokenizer,
                     readJson(kTokenizerFixtures + "/minilm/cases.json"), true);
}

TEST(EncoderTokenizerWordPiece, VocabTxtOptionsMatchTokenizers) {
  Expected<EncoderTokenizer> cased =
      create(R"({"kind": "wordpiece", "files": ["vocab.txt"],
                 "lowercase": false, "strip_accents": true})");
  ASSERT_TRUE(cased) << cased.message();
  expectMatchesCases(
      *cased, readJson(kTokenizerFixtures + "/minilm/cases_cased_strip.json"),
      true);
  Expected<EncoderTokenizer> keep =
      create(R"({"kind": "wordpiece", "files": ["vocab.txt"],
                 "lowercase": true, "strip_accents": false,
                 "tokenize_chinese_chars": false})");
  ASSERT_TRUE(keep) << keep.message();
  expectMatchesCases(
      *keep,
      readJson(kTokenizerFixtures + "/minilm/cases_keep_accents_no_cjk.json"),
      true);
}

TEST(EncoderTokenizerWordPiece, MaskAndSpecialTokens) {
  Expected<EncoderTokenizer> tokenizer =
      create(R"({"kind": "wordpiece", "files": ["vocab.txt"]})");
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  EXPECT_EQ(tokenizer->maskToken(), "[MASK]");
  EXPECT_EQ(tokenizer->maskId(), 103);
  EXPECT_EQ(tokenizer->padId(), 0);
  EncodedText encoded = tokenizer->encode("Paris is the [MASK] of France.");
  EXPECT_EQ(encoded.tokens,
            (std::vector<std::string>{"[CLS]", "paris", "is", "the", "[MASK]",
                                      "of", "france", ".", "[SEP]"}));
  EXPECT_EQ(tokenizer->displayToken(*tokenizer->maskId()), "[MASK]");
  EXPECT_EQ(tokenizer->displayToken(-1), "");
  EXPECT_EQ(tokenizer->decode(encoded.ids), "paris is the of france.");
  EncodedText pair = tokenizer->encodePair("a b", "c");
  EXPECT_EQ(pair.typeIds, (std::vector<int32_t>{0, 0, 0, 0, 1, 1}));
  // Copies share the loaded tables.
  EncoderTokenizer copy = *tokenizer;
  EXPECT_EQ(copy.encode("Paris").ids, tokenizer->encode("Paris").ids);
}

TEST(EncoderTokenizerWordPiece, CustomSpecialTokens) {
  // [unused0] as the mask; a mask missing from the vocab is no error.
  Expected<EncoderTokenizer> tokenizer =
      create(R"({"kind": "wordpiece", "files": ["vocab.txt"],
                 "special_tokens": {"mask": "[unused0]"}})");
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  EXPECT_EQ(tokenizer->maskId(), 1);
  EXPECT_EQ(tokenizer->maskToken(), "[unused0]");
  EXPECT_EQ(tokenizer->encode("a [unused0] b").ids,
            (std::vector<int32_t>{101, 1037, 1, 1038, 102}));
  Expected<EncoderTokenizer> noMask =
      create(R"({"kind": "wordpiece", "files": ["vocab.txt"],
                 "special_tokens": {"mask": "<nothing>"}})");
  ASSERT_TRUE(noMask) << noMask.message();
  EXPECT_EQ(noMask->maskId(), std::nullopt);
  EXPECT_EQ(noMask->maskToken(), "<nothing>");
}

//===----------------------------------------------------------------------===//
// RoBERTa (byte-level BPE)
//===----------------------------------------------------------------------===//

TEST(EncoderTokenizerRoberta, TokenizerJsonMatchesTokenizers) {
  Expected<EncoderTokenizer> tokenizer = create(
      R"({"kind": "byte_level_bpe", "files": ["roberta/tokenizer.json"]})");
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  expectMatchesCases(
      *tokenizer, readJson(kTokenizerFixtures + "/roberta/cases.json"), false);
}

TEST(EncoderTokenizerRoberta, VocabAndMergesMatchTokenizers) {
  Expected<EncoderTokenizer> tokenizer =
      create(R"({"kind": "byte_level_bpe", "files": ["vocab.json",
                 "merges.txt"], "add_prefix_space": false})");
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  expectMatchesCases(
      *tokenizer, readJson(kTokenizerFixtures + "/roberta/cases.json"), false);
  // The files may come in either order.
  Expected<EncoderTokenizer> swapped = create(
      R"({"kind": "byte_level_bpe", "files": ["merges.txt", "vocab.json"]})");
  ASSERT_TRUE(swapped) << swapped.message();
  EXPECT_EQ(swapped->encode("Hello <mask>!").ids,
            tokenizer->encode("Hello <mask>!").ids);
}

TEST(EncoderTokenizerRoberta, AddPrefixSpaceMatchesTokenizers) {
  json cases =
      readJson(kTokenizerFixtures + "/roberta/cases_prefix_space.json");
  for (const char *files :
       {R"(["vocab.json", "merges.txt"])", R"(["roberta/tokenizer.json"])"}) {
    SCOPED_TRACE(files);
    Expected<EncoderTokenizer> tokenizer =
        create(std::string(R"({"kind": "byte_level_bpe", "files": )") + files +
               R"(, "add_prefix_space": true})");
    ASSERT_TRUE(tokenizer) << tokenizer.message();
    expectMatchesCases(*tokenizer, cases, false);
  }
}

TEST(EncoderTokenizerRoberta, MaskEatsTheSpaceBefore) {
  Expected<EncoderTokenizer> tokenizer = create(
      R"({"kind": "byte_level_bpe", "files": ["roberta/tokenizer.json"]})");
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  EXPECT_EQ(tokenizer->maskToken(), "<mask>");
  ASSERT_TRUE(tokenizer->maskId());
  EncodedText encoded = tokenizer->encode("Paris is the <mask> of France.");
  EXPECT_EQ(encoded.tokens,
            (std::vector<std::string>{"<s>", "Paris", "\xC4\xA0is",
                                      "\xC4\xA0the", "<mask>", "\xC4\xA0of",
                                      "\xC4\xA0"
                                      "France",
                                      ".", "</s>"}));
  // Display strings are decoded text: "Ġ" is a space.
  EXPECT_EQ(tokenizer->displayToken(encoded.ids[1]), "Paris");
  EXPECT_EQ(tokenizer->displayToken(encoded.ids[2]), " is");
  EXPECT_EQ(tokenizer->displayToken(*tokenizer->maskId()), "<mask>");
  EXPECT_EQ(tokenizer->displayToken(1 << 30), "");
  EXPECT_EQ(tokenizer->decode(encoded.ids), "Paris is the of France.");
  EncodedText pair = tokenizer->encodePair("a", "b");
  EXPECT_EQ(pair.tokens, (std::vector<std::string>{"<s>", "a", "</s>", "</s>",
                                                   "b", "</s>"}));
  EXPECT_EQ(pair.typeIds, std::vector<int32_t>(6, 0));
  EXPECT_EQ(tokenizer->padId(), tokenizer->encode("<pad>").ids[1]);
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST(EncoderTokenizerErrors, MetadataFields) {
  expectError("[]", "tokenizer: expected an object");
  expectError(R"({"files": ["vocab.txt"]})", "tokenizer.kind");
  expectError(R"({"kind": "sentencepiece", "files": ["vocab.txt"]})",
              "tokenizer.kind: expected \"wordpiece\", \"byte_level_bpe\" "
              "or \"clip_bpe\", found \"sentencepiece\"");
  expectError(R"({"kind": 3, "files": ["vocab.txt"]})", "tokenizer.kind");
  expectError(R"({"kind": "wordpiece"})", "tokenizer.files");
  expectError(R"({"kind": "wordpiece", "files": []})", "tokenizer.files");
  expectError(R"({"kind": "wordpiece", "files": [1]})", "tokenizer.files[0]");
  expectError(R"({"kind": "wordpiece", "files": ["vocab.txt"],
                  "lowercase": "yes"})",
              "tokenizer.lowercase");
  expectError(R"({"kind": "wordpiece", "files": ["vocab.txt"],
                  "strip_accents": 1})",
              "tokenizer.strip_accents");
  expectError(R"({"kind": "wordpiece", "files": ["vocab.txt"],
                  "special_tokens": []})",
              "tokenizer.special_tokens");
  expectError(R"({"kind": "wordpiece", "files": ["vocab.txt"],
                  "special_tokens": {"cls": 5}})",
              "tokenizer.special_tokens.cls");
  expectError(R"({"kind": "byte_level_bpe", "files": ["vocab.json",
                  "merges.txt"], "add_prefix_space": "no"})",
              "tokenizer.add_prefix_space");
  expectError(R"({"kind": "byte_level_bpe", "files": ["a.json", "b.json",
                  "c.json"]})",
              "tokenizer.files");
}

TEST(EncoderTokenizerErrors, MissingFileNamedInMetadata) {
  expectError(R"({"kind": "wordpiece", "files": ["bert/vocab.txt"]})",
              "tokenizer.files[0]: bert/vocab.txt: no such file");
  expectError(R"({"kind": "byte_level_bpe", "files": ["vocab.json",
                  "missing.txt"]})",
              "tokenizer.files[1]: missing.txt");
  // A null lookup finds nothing.
  Expected<EncoderTokenizer> tokenizer = EncoderTokenizer::create(
      json::parse(R"({"kind": "wordpiece", "files": ["vocab.txt"]})"), {});
  ASSERT_FALSE(tokenizer);
  EXPECT_NE(tokenizer.message().find("vocab.txt"), std::string::npos);
}

TEST(EncoderTokenizerErrors, MalformedTokenizerJson) {
  expectError(R"({"kind": "wordpiece", "files": ["broken.json"]})",
              "broken.json: invalid JSON");
  expectError(R"({"kind": "byte_level_bpe", "files": ["broken.json"]})",
              "broken.json: invalid JSON");
  // The files of the other kind.
  expectError(R"({"kind": "wordpiece", "files": ["roberta/tokenizer.json"]})",
              "roberta/tokenizer.json: model.type: expected \"WordPiece\"");
  expectError(R"({"kind": "byte_level_bpe", "files": ["tokenizer.json"]})",
              "tokenizer.json: model.type: expected \"BPE\"");
  expectError(R"({"kind": "byte_level_bpe", "files": ["broken.json",
                  "merges.txt"]})",
              "broken.json: invalid JSON");
}

TEST(EncoderTokenizerErrors, VocabWithoutSpecialTokens) {
  expectError(R"({"kind": "wordpiece", "files": ["no_unk.txt"]})",
              "no_unk.txt: the unknown token \"[UNK]\" is not in the vocab");
  expectError(R"({"kind": "wordpiece", "files": ["vocab.txt"],
                  "special_tokens": {"cls": "<s>"}})",
              "tokenizer.special_tokens.cls: \"<s>\" is not a token of "
              "vocab.txt");
  expectError(R"({"kind": "wordpiece", "files": ["vocab.txt"],
                  "special_tokens": {"unk": "<unk>"}})",
              "vocab.txt: the unknown token \"<unk>\"");
}
