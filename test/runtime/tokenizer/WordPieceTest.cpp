//===- WordPieceTest.cpp - BERT WordPiece against `tokenizers` ------------===//
//
// The expected ids and texts come from the Hugging Face `tokenizers` library
// (utils/fixtures/make_encoder_tokenizer_fixtures.py); the vocabulary is the
// uncased BERT vocabulary of all-MiniLM-L6-v2.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/WordPiece.h"
#include "runtime/tokenizer/UnicodeTables.h"

#include "TokenizerTestUtil.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <thread>

using namespace kiln;
using namespace kiln::test;
using nlohmann::json;

namespace {

const std::string kMiniLm =
    std::string(KILN_TEST_FIXTURES) + "/tokenizer/minilm";

/// The ids of a case without the [CLS] ... [SEP] around them.
std::vector<int32_t> innerIds(const json &item) {
  std::vector<int32_t> ids = idsOf(item["ids"]);
  EXPECT_GE(ids.size(), 2u);
  return ids.size() < 2 ? ids
                        : std::vector<int32_t>(ids.begin() + 1, ids.end() - 1);
}

/// Checks every single-text case, decode and display entry of a cases file.
void expectMatchesCases(const WordPiece &tokenizer, const json &cases) {
  ASSERT_TRUE(cases.is_object());
  EXPECT_EQ(tokenizer.vocabSize(), cases["vocab_size"].get<size_t>());
  for (const json &item : cases["single"]) {
    std::string text = item["text"];
    SCOPED_TRACE("text: " + printable(text));
    std::vector<int32_t> ids = tokenizer.tokenize(text);
    EXPECT_EQ(ids, innerIds(item));
    EXPECT_EQ(tokenizer.decode(idsOf(item["ids"]), /*skipSpecialTokens=*/true),
              item["decoded"].get<std::string>());
  }
  for (const json &item : cases["pairs"]) {
    SCOPED_TRACE("pair: " + printable(item["first"]) + " | " +
                 printable(item["second"]));
    EXPECT_EQ(tokenizer.decode(idsOf(item["ids"]), true),
              item["decoded"].get<std::string>());
  }
  for (const json &item : cases["decode"]) {
    SCOPED_TRACE("ids: " + item["ids"].dump());
    std::vector<int32_t> ids = idsOf(item["ids"]);
    EXPECT_EQ(tokenizer.decode(ids, true),
              item["skip_special"].get<std::string>());
    EXPECT_EQ(tokenizer.decode(ids, false),
              item["with_special"].get<std::string>());
  }
  for (const json &item : cases["display"]) {
    int32_t id = item["id"];
    std::optional<std::string_view> text = tokenizer.tokenText(id);
    ASSERT_TRUE(text) << id;
    EXPECT_EQ(std::string(*text), item["token"].get<std::string>());
    // Normalized added tokens read normalized but are named by content.
    if (!cases.contains("added_tokens"))
      EXPECT_EQ(tokenizer.tokenId(*text), id);
  }
}

/// The MiniLM fixtures, loaded once for all tests.
class WordPieceMiniLm : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    tokenizerJson = new std::string(readFile(kMiniLm + "/tokenizer.json"));
    vocabTxt = new std::string(readFile(kMiniLm + "/vocab.txt"));
    fromJson = new Expected<WordPiece>(
        WordPiece::fromTokenizerJson(*tokenizerJson, "tokenizer.json"));
    fromVocab = new Expected<WordPiece>(
        WordPiece::fromVocabTxt(*vocabTxt, "vocab.txt"));
  }
  static void TearDownTestSuite() {
    delete fromJson;
    delete fromVocab;
    delete tokenizerJson;
    delete vocabTxt;
  }
  void SetUp() override {
    ASSERT_TRUE(*fromJson) << fromJson->message();
    ASSERT_TRUE(*fromVocab) << fromVocab->message();
  }

  static std::string *tokenizerJson;
  static std::string *vocabTxt;
  static Expected<WordPiece> *fromJson;
  static Expected<WordPiece> *fromVocab;
};

std::string *WordPieceMiniLm::tokenizerJson = nullptr;
std::string *WordPieceMiniLm::vocabTxt = nullptr;
Expected<WordPiece> *WordPieceMiniLm::fromJson = nullptr;
Expected<WordPiece> *WordPieceMiniLm::fromVocab = nullptr;

} // namespace

//===----------------------------------------------------------------------===//
// Against the fixtures
//===----------------------------------------------------------------------===//

TEST_F(WordPieceMiniLm, FixturesHaveEnoughCases) {
  for (const char *file : {"cases.json", "cases_cased_strip.json",
                           "cases_keep_accents_no_cjk.json"}) {
    json cases = readJson(kMiniLm + "/" + file);
    EXPECT_GE(cases["single"].size(), 300u) << file;
    EXPECT_GE(cases["pairs"].size(), 100u) << file;
    EXPECT_GE(cases["decode"].size(), 50u) << file;
  }
}

TEST_F(WordPieceMiniLm, TokenizerJsonMatchesTokenizers) {
  expectMatchesCases(fromJson->get(), readJson(kMiniLm + "/cases.json"));
}

TEST_F(WordPieceMiniLm, VocabTxtMatchesTokenizers) {
  expectMatchesCases(fromVocab->get(), readJson(kMiniLm + "/cases.json"));
}

TEST_F(WordPieceMiniLm, CasedStripAccentsMatchesTokenizers) {
  WordPiece::Options options;
  options.lowercase = false;
  options.stripAccents = true;
  Expected<WordPiece> tokenizer =
      WordPiece::fromVocabTxt(*vocabTxt, "vocab.txt", options);
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  expectMatchesCases(*tokenizer, readJson(kMiniLm + "/cases_cased_strip.json"));
}

TEST_F(WordPieceMiniLm, KeepAccentsNoChineseCharsMatchesTokenizers) {
  WordPiece::Options options;
  options.lowercase = true;
  options.stripAccents = false;
  options.tokenizeChineseChars = false;
  Expected<WordPiece> tokenizer =
      WordPiece::fromVocabTxt(*vocabTxt, "vocab.txt", options);
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  expectMatchesCases(*tokenizer,
                     readJson(kMiniLm + "/cases_keep_accents_no_cjk.json"));
}

TEST_F(WordPieceMiniLm, AddedTokenFlagsMatchTokenizers) {
  // The fixture's added tokens (normalized, lstrip, rstrip, single_word)
  // appended to MiniLM's tokenizer.json, as the fixture script did.
  json cases = readJson(kMiniLm + "/cases_added.json");
  json root = json::parse(*tokenizerJson);
  for (const json &token : cases["added_tokens"])
    root["added_tokens"].push_back(token);
  Expected<WordPiece> tokenizer =
      WordPiece::fromTokenizerJson(root.dump(), "patched tokenizer.json");
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  for (const json &token : cases["added_tokens"])
    EXPECT_EQ(tokenizer->tokenId(token["content"].get<std::string>()),
              token["id"].get<int32_t>());
  expectMatchesCases(*tokenizer, cases);
}

//===----------------------------------------------------------------------===//
// Behaviour
//===----------------------------------------------------------------------===//

TEST_F(WordPieceMiniLm, GreedyLongestMatchFirst) {
  const WordPiece &tokenizer = fromJson->get();
  std::vector<std::string> pieces;
  for (int32_t id : tokenizer.tokenize("unaffable"))
    pieces.emplace_back(*tokenizer.tokenText(id));
  EXPECT_EQ(pieces, (std::vector<std::string>{"una", "##ffa", "##ble"}));
  EXPECT_EQ(tokenizer.decode(tokenizer.tokenize("unaffable")), "unaffable");
}

TEST_F(WordPieceMiniLm, LongAndUnmatchableWordsAreUnknown) {
  const WordPiece &tokenizer = fromJson->get();
  int32_t unk = *tokenizer.tokenId("[UNK]");
  EXPECT_EQ(tokenizer.unknownId(), unk);
  // 100 characters are split, 101 are one unknown token.
  EXPECT_GT(tokenizer.tokenize(std::string(100, 'a')).size(), 1u);
  EXPECT_EQ(tokenizer.tokenize(std::string(101, 'a')),
            std::vector<int32_t>{unk});
  // Characters, not bytes: 100 "é" strip to 100 "e".
  std::string accents;
  for (int i = 0; i < 100; ++i)
    accents += "\xC3\xA9";
  EXPECT_GT(tokenizer.tokenize(accents).size(), 1u);
  // A character that no piece matches makes the whole word unknown.
  EXPECT_EQ(tokenizer.tokenize("abc\xE2\x98\x83xyz hello"), // ☃
            (std::vector<int32_t>{unk, *tokenizer.tokenId("hello")}));
}

TEST_F(WordPieceMiniLm, NormalizerSteps) {
  const WordPiece &tokenizer = fromJson->get();
  // Clean text, CJK spacing, accents, lowercase, in tokenizers' order.
  EXPECT_EQ(tokenizer.normalize("A\tb\x01\xEF\xBF\xBD"
                                "c\xE4\xB8\xAD"),
            "a bc \xE4\xB8\xAD ");
  EXPECT_EQ(tokenizer.normalize("Caf\xC3\xA9 CAFE\xCC\x81"), "cafe cafe");
  // İ strips to I before lowercasing.
  EXPECT_EQ(tokenizer.normalize("\xC4\xB0stanbul"), "istanbul");
  // Hangul syllables decompose into jamo.
  EXPECT_EQ(tokenizer.normalize("\xED\x95\x9C"), "\xE1\x84\x92\xE1\x85\xA1"
                                                 "\xE1\x86\xAB");
}

TEST_F(WordPieceMiniLm, InvalidUtf8ReadsAsReplacementCharacters) {
  const WordPiece &tokenizer = fromJson->get();
  // clean_text drops U+FFFD, so stray bytes vanish.
  EXPECT_EQ(tokenizer.tokenize("hel\xFFlo \xC3 world\xE2\x82"),
            tokenizer.tokenize("hello world"));
  WordPiece::Options options;
  options.cleanText = false;
  Expected<WordPiece> raw =
      WordPiece::fromVocabTxt(*vocabTxt, "vocab.txt", options);
  ASSERT_TRUE(raw) << raw.message();
  EXPECT_EQ(raw->normalize("a\xFF\xE2\x82"
                           "b"),
            "a\xEF\xBF\xBD\xEF\xBF\xBD"
            "b");
}

TEST_F(WordPieceMiniLm, SpecialTokensAndLookups) {
  const WordPiece &tokenizer = fromVocab->get();
  for (const char *special : {"[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]"}) {
    std::optional<int32_t> id = tokenizer.tokenId(special);
    ASSERT_TRUE(id) << special;
    EXPECT_TRUE(tokenizer.isSpecial(*id)) << special;
    EXPECT_EQ(tokenizer.tokenize(special), std::vector<int32_t>{*id});
  }
  EXPECT_EQ(tokenizer.tokenId("[MASK]"), 103);
  EXPECT_FALSE(tokenizer.isSpecial(*tokenizer.tokenId("paris")));
  EXPECT_EQ(tokenizer.tokenText(-1), std::nullopt);
  EXPECT_EQ(tokenizer.tokenText(1 << 20), std::nullopt);
  EXPECT_EQ(tokenizer.tokenId("no-such-token"), std::nullopt);
  // Unknown ids are skipped, as tokenizers does.
  EXPECT_EQ(tokenizer.decode({-5, *tokenizer.tokenId("paris"), 999999}),
            "paris");
}

TEST_F(WordPieceMiniLm, DecoderCleanup) {
  const WordPiece &tokenizer = fromJson->get();
  auto ids = [&](std::initializer_list<const char *> tokens) {
    std::vector<int32_t> out;
    for (const char *token : tokens)
      out.push_back(*tokenizer.tokenId(token));
    return out;
  };
  EXPECT_EQ(tokenizer.decode(ids({"hello", ",", "world", "!"})),
            "hello, world!");
  EXPECT_EQ(tokenizer.decode(ids({"paris", "##ian", "?"})), "parisian?");
  // A leading "##" piece keeps its prefix.
  EXPECT_EQ(tokenizer.decode(ids({"##ian", "paris"})), "##ian paris");
  // Cleanup works token by token: " do not" never appears in one.
  EXPECT_EQ(tokenizer.decode(ids({"i", "do", "not"})), "i do not");
}

TEST_F(WordPieceMiniLm, ConcurrentTokenizeAgrees) {
  const WordPiece &tokenizer = fromJson->get();
  std::string text = "The quick brown fox jumps over the lazy dog. "
                     "Caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 [MASK]!";
  std::vector<int32_t> expected = tokenizer.tokenize(text);
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i)
        failures[t] += tokenizer.tokenize(text) != expected;
    });
  for (std::thread &thread : threads)
    thread.join();
  for (int failed : failures)
    EXPECT_EQ(failed, 0);
}

//===----------------------------------------------------------------------===//
// Small vocabularies and errors
//===----------------------------------------------------------------------===//

TEST(WordPieceVocabTxt, LineRulesOfTokenizers) {
  // CRLF and trailing white space are trimmed; a later duplicate takes the
  // token; ids are line numbers.
  Expected<WordPiece> tokenizer = WordPiece::fromVocabTxt(
      "[UNK]\r\nhello  \nwor\n##ld\nhello\n", "small.txt");
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  EXPECT_EQ(tokenizer->tokenId("hello"), 4);
  EXPECT_EQ(tokenizer->tokenText(1), std::nullopt);
  EXPECT_EQ(tokenizer->tokenText(3), "##ld");
  EXPECT_EQ(tokenizer->vocabSize(), 5u);
  EXPECT_EQ(tokenizer->tokenize("Hello, World"),
            (std::vector<int32_t>{4, 0, 2, 3}));
  EXPECT_EQ(tokenizer->decode({4, 2, 3}), "hello world");
}

TEST(WordPieceVocabTxt, MaxInputCharsPerWordOption) {
  WordPiece::Options options;
  options.maxInputCharsPerWord = 3;
  Expected<WordPiece> tokenizer =
      WordPiece::fromVocabTxt("[UNK]\na\n##a\n", "small.txt", options);
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  EXPECT_EQ(tokenizer->tokenize("aaa aaaa"),
            (std::vector<int32_t>{1, 2, 2, 0}));
}

TEST(WordPieceErrors, VocabTxtWithoutUnknownToken) {
  Expected<WordPiece> tokenizer =
      WordPiece::fromVocabTxt("hello\nworld\n", "vocab.txt");
  ASSERT_FALSE(tokenizer);
  EXPECT_NE(tokenizer.message().find("vocab.txt"), std::string::npos);
  EXPECT_NE(tokenizer.message().find("[UNK]"), std::string::npos);

  WordPiece::Options options;
  options.unkToken = "<unk>";
  tokenizer = WordPiece::fromVocabTxt("[UNK]\n", "vocab.txt", options);
  ASSERT_FALSE(tokenizer);
  EXPECT_NE(tokenizer.message().find("<unk>"), std::string::npos);
}

TEST(WordPieceErrors, BadVocabTxt) {
  Expected<WordPiece> empty = WordPiece::fromVocabTxt("", "vocab.txt");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.message().find("vocab.txt"), std::string::npos);
  Expected<WordPiece> invalid =
      WordPiece::fromVocabTxt("[UNK]\nab\xFF\n", "vocab.txt");
  ASSERT_FALSE(invalid);
  EXPECT_NE(invalid.message().find("line 2"), std::string::npos)
      << invalid.message();
}

TEST(WordPieceErrors, MalformedTokenizerJson) {
  const std::string vocab = R"("vocab": {"[UNK]": 0, "a": 1})";
  struct Case {
    std::string json;
    std::string expected; // part of the message
  };
  const Case cases[] = {
      {"{", "invalid JSON"},
      {"[]", "expected a JSON object"},
      {"{}", "model"},
      {R"({"model": {"type": "BPE", )" + vocab + "}}", "model.type"},
      {R"({"model": {"type": "WordPiece"}})", "model.vocab"},
      {R"({"model": {"type": "WordPiece", "vocab": {"a": -1}}})",
       "model.vocab"},
      {R"({"model": {"type": "WordPiece", "vocab": {"a": 0}}})",
       "model.unk_token"},
      {R"({"model": {"type": "WordPiece", "unk_token": 5, )" + vocab + "}}",
       "model.unk_token"},
      {R"({"model": {"type": "WordPiece", "max_input_chars_per_word": "x", )" +
           vocab + "}}",
       "max_input_chars_per_word"},
      {R"({"model": {"type": "WordPiece", )" + vocab +
           R"(}, "normalizer": {"type": "NFKC"}})",
       "normalizer"},
      {R"({"model": {"type": "WordPiece", )" + vocab +
           R"(}, "normalizer": {"type": "BertNormalizer", "lowercase": 1}})",
       "normalizer.lowercase"},
      {R"({"model": {"type": "WordPiece", )" + vocab +
           R"(}, "pre_tokenizer": {"type": "Metaspace"}})",
       "pre_tokenizer"},
      {R"({"model": {"type": "WordPiece", )" + vocab +
           R"(}, "decoder": {"type": "ByteLevel"}})",
       "decoder"},
      {R"({"model": {"type": "WordPiece", )" + vocab +
           R"(}, "added_tokens": {}})",
       "added_tokens"},
      {R"({"model": {"type": "WordPiece", )" + vocab +
           R"(}, "added_tokens": [{"id": 0}]})",
       "added_tokens[0]"},
      {R"({"model": {"type": "WordPiece", )" + vocab +
           R"(}, "added_tokens": [{"content": "x", "lstrip": "yes"}]})",
       "added_tokens[0].lstrip"},
  };
  for (const Case &c : cases) {
    Expected<WordPiece> tokenizer =
        WordPiece::fromTokenizerJson(c.json, "bad.json");
    ASSERT_FALSE(tokenizer) << c.json;
    EXPECT_EQ(tokenizer.message().rfind("bad.json", 0), 0u)
        << tokenizer.message();
    EXPECT_NE(tokenizer.message().find(c.expected), std::string::npos)
        << c.json << " -> " << tokenizer.message();
    EXPECT_EQ(tokenizer.message().find('\n'), std::string::npos);
  }
}

TEST(WordPieceErrors, IdsFarPastTheVocabSize) {
  // Tables are indexed by id: a few bytes of vocab must not cost gigabytes.
  Expected<WordPiece> tokenizer =
      WordPiece::fromTokenizerJson(R"({"model": {"type": "WordPiece", )"
                                   R"("vocab": {"[UNK]": 0, "a": 16000000}}})",
                                   "bad.json");
  ASSERT_FALSE(tokenizer);
  EXPECT_EQ(tokenizer.message(),
            "bad.json: model.vocab: token 'a' has id 16000000, too large for "
            "a vocab of 2 entries (ids must be below 1028)");
}

TEST(WordPieceTokenizerJson, MinimalSettings) {
  // No normalizer, pre-tokenizer or decoder: the text is one word and
  // decoding joins with spaces, as tokenizers does.
  Expected<WordPiece> tokenizer = WordPiece::fromTokenizerJson(
      R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "ab": 1,
          "##c": 2, "AB": 3}, "continuing_subword_prefix": "##"}})",
      "minimal.json");
  ASSERT_TRUE(tokenizer) << tokenizer.message();
  EXPECT_EQ(tokenizer->tokenize("abc"), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(tokenizer->tokenize("AB"), (std::vector<int32_t>{3}));
  EXPECT_EQ(tokenizer->tokenize("ab c"), (std::vector<int32_t>{0}));
  EXPECT_EQ(tokenizer->decode({1, 2}), "ab ##c");
}

TEST(WordPieceUnicodeTables, BertClasses) {
  using namespace unicode;
  for (uint32_t c = 0; c < 0x80; ++c)
    EXPECT_EQ(bertClassify(c), bertClassifyNonAscii(c)) << c;
  EXPECT_EQ(bertClassify('$'), kBertPunctuation);    // ASCII, though Sc
  EXPECT_EQ(bertClassify(0x00BF), kBertPunctuation); // ¿
  EXPECT_EQ(bertClassify(0x00AD), kBertOther);       // soft hyphen (Cf)
  EXPECT_EQ(bertClassify(0x0301), kBertNonspacingMark);
  EXPECT_EQ(bertClassify(0x0378), 0); // unassigned: kept
  EXPECT_EQ(bertClassify(0x061D), 0); // Unicode 14: not yet
  EXPECT_TRUE(isBertChineseChar(0x4E2D));
  EXPECT_FALSE(isBertChineseChar(0x2B820)); // tokenizers' range starts later
  uint32_t out[kMaxDecompositionLength];
  ASSERT_EQ(decomposeCanonical(0x1E69, out), 3u); // ṩ
  EXPECT_EQ(out[0], 's');
  EXPECT_EQ(decomposeCanonical('a', out), 0u);
  uint32_t lower[kMaxLowercaseLength];
  ASSERT_EQ(toLowercase(0x0130, lower), 2u);
  EXPECT_EQ(lower[1], 0x0307u);
  ASSERT_EQ(toLowercase(0x0410, lower), 1u);
  EXPECT_EQ(lower[0], 0x0430u);
  EXPECT_EQ(combiningClass(0x0301), 230);
  EXPECT_EQ(combiningClass(0x0323), 220);
}
