//===- ByteLevelBpeTest.cpp - GPT-2 byte-level BPE against `tokenizers` ---===//
//
// The expected ids and texts come from the Hugging Face `tokenizers` library
// (utils/fixtures/make_tokenizer_fixtures.py).
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/ByteLevelBpe.h"
#include "runtime/tokenizer/UnicodeTables.h"

#include "TokenizerTestUtil.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

using namespace kiln;
using namespace kiln::test;
using nlohmann::json;

namespace {

std::string fromHex(const std::string &hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return bytes;
}

/// Strict UTF-8 check (no overlong forms, surrogates or values past
/// U+10FFFF).
bool isValidUtf8(const std::string &text) {
  const auto *p = reinterpret_cast<const unsigned char *>(text.data());
  size_t n = text.size();
  for (size_t i = 0; i < n;) {
    unsigned char lead = p[i];
    size_t length;
    unsigned char low = 0x80, high = 0xBF;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      low = lead == 0xE0 ? 0xA0 : 0x80;
      high = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      low = lead == 0xF0 ? 0x90 : 0x80;
      high = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
      return false;
    }
    if (i + length > n)
      return false;
    for (size_t k = 1; k < length; ++k) {
      if (p[i + k] < low || p[i + k] > high)
        return false;
      low = 0x80;
      high = 0xBF;
    }
    i += length;
  }
  return true;
}

/// The bytes a vocab token stands for, with GPT-2's byte alphabet computed
/// here independently of the tokenizer: printable Latin-1 bytes stand for
/// themselves, the others take U+0100 onwards in byte order.
std::string tokenBytes(std::string_view token) {
  std::map<uint32_t, char> byteOf;
  uint32_t extra = 0x100;
  for (int byte = 0; byte < 256; ++byte) {
    bool printable = (byte >= 0x21 && byte <= 0x7E) ||
                     (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE;
    byteOf[printable ? byte : extra++] = static_cast<char>(byte);
  }
  std::string bytes;
  for (size_t i = 0; i < token.size();) {
    auto lead = static_cast<unsigned char>(token[i]);
    uint32_t codepoint = lead;
    size_t length = 1;
    if (lead >= 0xC0) { // the alphabet stays below U+0800
      codepoint = (lead & 0x1F) << 6 | (token[i + 1] & 0x3F);
      length = 2;
    }
    bytes += byteOf.at(codepoint);
    i += length;
  }
  return bytes;
}

/// The GPT-2 fixtures, loaded once for all tests.
class BpeGpt2 : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    loadedFromFiles = new Expected<ByteLevelBpe>(
        ByteLevelBpe::fromFolder(kTokenizerFixtures + "/gpt2"));
    loadedFromJson = new Expected<ByteLevelBpe>(
        ByteLevelBpe::fromFolder(kTokenizerFixtures + "/gpt2_json"));
    cases = new json(readJson(kTokenizerFixtures + "/gpt2_cases.json"));
  }
  static void TearDownTestSuite() {
    delete loadedFromFiles;
    delete loadedFromJson;
    delete cases;
  }
  void SetUp() override {
    ASSERT_TRUE(*loadedFromFiles) << loadedFromFiles->message();
    ASSERT_TRUE(*loadedFromJson) << loadedFromJson->message();
    ASSERT_TRUE(cases->is_object());
    fromFiles = &loadedFromFiles->get();
    fromJson = &loadedFromJson->get();
  }

  static Expected<ByteLevelBpe> *loadedFromFiles;
  static Expected<ByteLevelBpe> *loadedFromJson;
  static json *cases;
  const ByteLevelBpe *fromFiles = nullptr;
  const ByteLevelBpe *fromJson = nullptr;
};

Expected<ByteLevelBpe> *BpeGpt2::loadedFromFiles = nullptr;
Expected<ByteLevelBpe> *BpeGpt2::loadedFromJson = nullptr;
json *BpeGpt2::cases = nullptr;

/// Feeds ids one at a time; checks every chunk is valid UTF-8 and returns
/// the whole text.
std::string streamDecode(const ByteLevelBpe &tokenizer,
                         const std::vector<int32_t> &ids) {
  BpeStreamDecoder stream(tokenizer);
  std::string text;
  for (int32_t id : ids) {
    Expected<std::string> chunk = stream.push(id);
    EXPECT_TRUE(chunk) << chunk.message();
    if (!chunk)
      return text;
    EXPECT_TRUE(isValidUtf8(*chunk)) << "broken chunk after id " << id;
    text += *chunk;
  }
  std::string tail = stream.flush();
  EXPECT_TRUE(isValidUtf8(tail));
  return text + tail;
}

} // namespace

//===----------------------------------------------------------------------===//
// Against the fixtures
//===----------------------------------------------------------------------===//

TEST_F(BpeGpt2, FixtureHasEnoughCases) {
  EXPECT_GE((*cases)["texts"].size(), 300u);
  EXPECT_GE((*cases)["decodes"].size(), 100u);
  EXPECT_GE((*cases)["invalid_utf8"].size(), 40u);
}

TEST_F(BpeGpt2, EncodeMatchesTokenizersFromVocabAndMerges) {
  for (const json &item : (*cases)["texts"]) {
    std::string text = item["text"];
    SCOPED_TRACE("text: " + printable(text));
    EXPECT_EQ(fromFiles->encode(text), idsOf(item["ids"]));
    EXPECT_EQ(fromFiles->encode(text, /*addPrefixSpace=*/true),
              idsOf(item["ids_prefix_space"]));
  }
}

TEST_F(BpeGpt2, EncodeMatchesTokenizersFromTokenizerJson) {
  for (const json &item : (*cases)["texts"]) {
    std::string text = item["text"];
    SCOPED_TRACE("text: " + printable(text));
    EXPECT_EQ(fromJson->encode(text), idsOf(item["ids"]));
    EXPECT_EQ(fromJson->encode(text, /*addPrefixSpace=*/true),
              idsOf(item["ids_prefix_space"]));
  }
}

TEST_F(BpeGpt2, DecodeMatchesTokenizersAndRoundTrips) {
  for (const ByteLevelBpe *tokenizer : {fromFiles, fromJson}) {
    for (const json &item : (*cases)["texts"]) {
      std::string text = item["text"];
      SCOPED_TRACE("text: " + printable(text));
      std::vector<int32_t> ids = idsOf(item["ids"]);
      Expected<std::string> decoded = tokenizer->decode(ids);
      ASSERT_TRUE(decoded) << decoded.message();
      EXPECT_EQ(*decoded, item["decoded"].get<std::string>());
      EXPECT_EQ(*decoded, text);
      Expected<std::string> skipped = tokenizer->decode(ids, true);
      ASSERT_TRUE(skipped) << skipped.message();
      EXPECT_EQ(*skipped, item["decoded_skip_special"].get<std::string>());
    }
  }
}

TEST_F(BpeGpt2, DecodeOfArbitraryIdsMatchesTokenizers) {
  for (const json &item : (*cases)["decodes"]) {
    std::vector<int32_t> ids = idsOf(item["ids"]);
    SCOPED_TRACE("ids: " + item["ids"].dump());
    for (const ByteLevelBpe *tokenizer : {fromFiles, fromJson}) {
      Expected<std::string> decoded = tokenizer->decode(ids);
      ASSERT_TRUE(decoded) << decoded.message();
      EXPECT_EQ(*decoded, item["decoded"].get<std::string>());
      Expected<std::string> skipped = tokenizer->decode(ids, true);
      ASSERT_TRUE(skipped) << skipped.message();
      EXPECT_EQ(*skipped, item["decoded_skip_special"].get<std::string>());
    }
  }
}

TEST_F(BpeGpt2, InvalidUtf8IsEncodedByteByByte) {
  for (const json &item : (*cases)["invalid_utf8"]) {
    std::string bytes = fromHex(item["hex"]);
    SCOPED_TRACE("bytes: " + item["hex"].get<std::string>());
    std::vector<int32_t> ids = fromFiles->encode(bytes);
    // Every byte survives: the tokens spell the input exactly.
    std::string spelled;
    for (int32_t id : ids) {
      std::optional<std::string_view> token = fromFiles->tokenText(id);
      ASSERT_TRUE(token);
      spelled += id == 50256 ? std::string(*token) : tokenBytes(*token);
    }
    EXPECT_EQ(spelled, bytes);
    Expected<std::string> decoded = fromFiles->decode(ids);
    ASSERT_TRUE(decoded) << decoded.message();
    EXPECT_EQ(*decoded, item["decoded"].get<std::string>());
    EXPECT_EQ(streamDecode(*fromFiles, ids), *decoded);
    EXPECT_EQ(fromJson->encode(bytes), ids);
  }
}

TEST_F(BpeGpt2, StreamDecoderReproducesDecode) {
  auto check = [&](const std::vector<int32_t> &ids) {
    Expected<std::string> whole = fromFiles->decode(ids);
    ASSERT_TRUE(whole) << whole.message();
    EXPECT_EQ(streamDecode(*fromFiles, ids), *whole);
  };
  for (const json &item : (*cases)["texts"]) {
    SCOPED_TRACE("text: " + printable(item["text"]));
    check(idsOf(item["ids"]));
  }
  for (const json &item : (*cases)["decodes"]) {
    SCOPED_TRACE("ids: " + item["ids"].dump());
    check(idsOf(item["ids"]));
  }
}

TEST_F(BpeGpt2, StreamDecoderHoldsSplitCharacters) {
  for (std::string text : {"😀", "👨‍👩‍👧‍👦", "日本語",
                           "a😀b 日本 👍🏽!"}) {
    SCOPED_TRACE(text);
    std::vector<int32_t> ids = fromFiles->encode(text);
    BpeStreamDecoder stream(*fromFiles);
    std::string soFar;
    for (int32_t id : ids) {
      Expected<std::string> chunk = stream.push(id);
      ASSERT_TRUE(chunk) << chunk.message();
      ASSERT_TRUE(isValidUtf8(*chunk));
      EXPECT_EQ(chunk->find("\xEF\xBF\xBD"), std::string::npos);
      soFar += *chunk;
      // What came out so far is a prefix of the text.
      EXPECT_EQ(text.compare(0, soFar.size(), soFar), 0);
    }
    EXPECT_EQ(stream.flush(), "");
    EXPECT_EQ(soFar, text);
  }
  // A single emoji takes several byte tokens; nothing comes out before the
  // last.
  std::vector<int32_t> emoji = fromFiles->encode("😀");
  ASSERT_GT(emoji.size(), 1u);
  BpeStreamDecoder stream(*fromFiles);
  for (size_t i = 0; i + 1 < emoji.size(); ++i)
    EXPECT_EQ(*stream.push(emoji[i]), "");
  EXPECT_EQ(*stream.push(emoji.back()), "😀");
  // An incomplete tail comes out of flush() as one U+FFFD.
  EXPECT_EQ(*stream.push(emoji[0]), "");
  EXPECT_EQ(stream.flush(), "\xEF\xBF\xBD");
  EXPECT_EQ(stream.flush(), "");
}

TEST_F(BpeGpt2, Lookups) {
  for (const ByteLevelBpe *tokenizer : {fromFiles, fromJson}) {
    EXPECT_EQ(tokenizer->vocabSize(), 50257u);
    EXPECT_EQ(tokenizer->tokenId("<|endoftext|>"), 50256);
    EXPECT_EQ(tokenizer->tokenId("Ġthe"), 262);
    EXPECT_EQ(tokenizer->tokenId("!"), 0);
    EXPECT_EQ(tokenizer->tokenId("no such token"), std::nullopt);
    EXPECT_EQ(tokenizer->tokenText(262), "Ġthe");
    EXPECT_EQ(tokenizer->tokenText(50256), "<|endoftext|>");
    EXPECT_EQ(tokenizer->tokenText(50257), std::nullopt);
    EXPECT_EQ(tokenizer->tokenText(-1), std::nullopt);
    EXPECT_EQ(tokenizer->encode("<|endoftext|>"), std::vector<int32_t>{50256});
  }
}

TEST_F(BpeGpt2, DecodeRejectsUnknownIds) {
  for (int32_t bad : {50257, -1, 1 << 30}) {
    Expected<std::string> decoded = fromFiles->decode({262, bad});
    ASSERT_FALSE(decoded);
    EXPECT_NE(decoded.message().find("vocab.json"), std::string::npos)
        << decoded.message();
    EXPECT_NE(decoded.message().find("position 1"), std::string::npos)
        << decoded.message();
    EXPECT_EQ(decoded.message().find('\n'), std::string::npos);
    BpeStreamDecoder stream(*fromFiles);
    EXPECT_FALSE(stream.push(bad));
  }
}

TEST_F(BpeGpt2, EncodesConcurrently) {
  // The longest case, from several threads sharing the word cache.
  const json *longest = &(*cases)["texts"][0];
  for (const json &item : (*cases)["texts"])
    if (item["text"].get_ref<const std::string &>().size() >
        (*longest)["text"].get_ref<const std::string &>().size())
      longest = &item;
  const std::string text = (*longest)["text"];
  std::vector<int32_t> expected = idsOf((*longest)["ids"]);
  std::vector<std::thread> threads;
  std::vector<bool> same(4, false);
  for (size_t t = 0; t < same.size(); ++t)
    threads.emplace_back([&, t] {
      bool ok = true;
      for (int i = 0; i < 20; ++i)
        ok = ok && fromFiles->encode(text) == expected;
      same[t] = ok;
    });
  for (std::thread &thread : threads)
    thread.join();
  for (bool ok : same)
    EXPECT_TRUE(ok);
}

TEST_F(BpeGpt2, EncodesAMegabyteQuickly) {
  // The fixture texts (every script) with numbers between them, to 1 MB.
  std::string text;
  while (text.size() < (1u << 20))
    for (const json &item : (*cases)["texts"])
      text += item["text"].get<std::string>() + " " +
              std::to_string(text.size()) + "\n";
  // A fresh tokenizer, so that the word cache starts empty.
  Expected<ByteLevelBpe> loaded =
      ByteLevelBpe::fromFolder(kTokenizerFixtures + "/gpt2");
  ASSERT_TRUE(loaded) << loaded.message();
  const ByteLevelBpe &tokenizer = *loaded;
  auto start = std::chrono::steady_clock::now();
  std::vector<int32_t> ids = tokenizer.encode(text);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("[ info     ] encoded %.2f MB into %zu tokens in %.3f s: "
              "%.2f M tokens/s, %.1f MB/s\n",
              text.size() / 1e6, ids.size(), seconds,
              ids.size() / seconds / 1e6, text.size() / seconds / 1e6);
  // Generous: the machines running tests are shared.
  EXPECT_LT(seconds, 2.0);
  Expected<std::string> decoded = tokenizer.decode(ids);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, text);
}

TEST(BpeAddedTokens, MatchTokenizers) {
  Expected<ByteLevelBpe> loaded =
      ByteLevelBpe::fromFolder(kTokenizerFixtures + "/added");
  ASSERT_TRUE(loaded) << loaded.message();
  const ByteLevelBpe &tokenizer = *loaded;
  json cases = readJson(kTokenizerFixtures + "/added/cases.json");
  ASSERT_GE(cases["texts"].size(), 100u);
  for (const json &item : cases["texts"]) {
    std::string text = item["text"];
    SCOPED_TRACE("text: " + printable(text));
    std::vector<int32_t> ids = idsOf(item["ids"]);
    // The file's pre-tokenizer adds the prefix space whatever the argument.
    EXPECT_EQ(tokenizer.encode(text), ids);
    EXPECT_EQ(tokenizer.encode(text, true), ids);
    Expected<std::string> decoded = tokenizer.decode(ids);
    ASSERT_TRUE(decoded) << decoded.message();
    EXPECT_EQ(*decoded, item["decoded"].get<std::string>());
    Expected<std::string> skipped = tokenizer.decode(ids, true);
    ASSERT_TRUE(skipped) << skipped.message();
    EXPECT_EQ(*skipped, item["decoded_skip_special"].get<std::string>());
    EXPECT_EQ(streamDecode(tokenizer, ids), *decoded);
  }
  EXPECT_EQ(tokenizer.tokenId("<mask>"), 700);
  EXPECT_EQ(tokenizer.tokenText(706), "<sep>x");
  EXPECT_EQ(tokenizer.vocabSize(), 707u);
}

//===----------------------------------------------------------------------===//
// Small hand-made vocabularies
//===----------------------------------------------------------------------===//

namespace {

/// A vocab of the byte tokens of a..e and `extra` tokens after them.
std::string tinyVocab(const std::vector<std::string> &extra) {
  json vocab = json::object();
  int id = 0;
  for (std::string token : {"a", "b", "c", "d", "e", "Ġ"})
    vocab[token] = id++;
  for (const std::string &token : extra)
    vocab[token] = id++;
  return vocab.dump();
}

} // namespace

TEST(BpeMerges, LowestRankFirstThenLeftmost) {
  // "b c" outranks "a b", so "abc" is a + bc, not ab + c.
  Expected<ByteLevelBpe> loaded = ByteLevelBpe::fromVocabAndMerges(
      tinyVocab({"ab", "bc", "abc", "aa"}), "#version: 0.2\nb c\na b\na a\n",
      "v.json", "m.txt");
  ASSERT_TRUE(loaded) << loaded.message();
  const ByteLevelBpe &tokenizer = *loaded;
  int32_t bc = *tokenizer.tokenId("bc"), a = *tokenizer.tokenId("a");
  EXPECT_EQ(tokenizer.encode("abc"), (std::vector<int32_t>{a, bc}));
  // Equal ranks merge from the left: aa + a.
  int32_t aa = *tokenizer.tokenId("aa");
  EXPECT_EQ(tokenizer.encode("aaa"), (std::vector<int32_t>{aa, a}));
  EXPECT_EQ(tokenizer.encode("aaaa"), (std::vector<int32_t>{aa, aa}));
  // A byte with no token is dropped, as `tokenizers` does without unk.
  EXPECT_EQ(tokenizer.encode("azc"),
            (std::vector<int32_t>{a, *tokenizer.tokenId("c")}));
  // ... and its neighbours become adjacent: a + b merge across it.
  EXPECT_EQ(tokenizer.encode("azb"),
            (std::vector<int32_t>{*tokenizer.tokenId("ab")}));
}

TEST(BpeMerges, ExtraSpecialTokensGetIdsAfterTheVocab) {
  Expected<ByteLevelBpe> loaded = ByteLevelBpe::fromVocabAndMerges(
      tinyVocab({"<|x|>"}), "", "v.json", "m.txt", {"<new>", "a"});
  ASSERT_TRUE(loaded) << loaded.message();
  const ByteLevelBpe &tokenizer = *loaded;
  EXPECT_EQ(tokenizer.tokenId("<|x|>"), 6);
  EXPECT_EQ(tokenizer.tokenId("<new>"), 7);
  EXPECT_EQ(tokenizer.vocabSize(), 8u);
  EXPECT_EQ(tokenizer.encode("b<new>c<|x|>"),
            (std::vector<int32_t>{1, 7, 2, 6}));
  // "a" is special now: it is skipped like the others.
  EXPECT_EQ(*tokenizer.decode({0, 7, 1, 6}, true), "b");
  EXPECT_EQ(*tokenizer.decode({0, 7, 1, 6}), "a<new>b<|x|>");
}

TEST(BpeModelOptions, UnknownTokenAndIgnoreMerges) {
  // Expected ids from `tokenizers` for the same tokenizer.json.
  auto tokenizerJson = [](const std::string &modelOptions,
                          const std::string &vocab, const std::string &merges) {
    return "{\"pre_tokenizer\": {\"type\": \"ByteLevel\", "
           "\"add_prefix_space\": false}, \"decoder\": {\"type\": "
           "\"ByteLevel\"}, \"model\": {\"type\": \"BPE\", " +
           modelOptions + ", \"vocab\": " + vocab + ", \"merges\": " + merges +
           "}}";
  };
  const std::string vocab =
      "{\"a\": 0, \"b\": 1, \"<unk>\": 2, \"ab\": 3, \"Ġ\": 4}";
  using Ids = std::vector<int32_t>;
  for (bool fuse : {false, true}) {
    SCOPED_TRACE(fuse ? "fuse_unk" : "no fuse_unk");
    Expected<ByteLevelBpe> tokenizer = ByteLevelBpe::fromTokenizerJson(
        tokenizerJson(std::string("\"unk_token\": \"<unk>\", \"fuse_unk\": ") +
                          (fuse ? "true" : "false"),
                      vocab, "[\"a b\"]"),
        "t.json");
    ASSERT_TRUE(tokenizer) << tokenizer.message();
    EXPECT_EQ(tokenizer->encode("azzb"),
              (fuse ? Ids{0, 2, 1} : Ids{0, 2, 2, 1}));
    EXPECT_EQ(tokenizer->encode("zz"), (fuse ? Ids{2} : Ids{2, 2}));
    EXPECT_EQ(tokenizer->encode("a zzb"),
              (fuse ? Ids{0, 4, 2, 1} : Ids{0, 4, 2, 2, 1}));
    EXPECT_EQ(tokenizer->encode("zab"), (Ids{2, 3}));
  }
  // ignore_merges: a word that is a token stays whole.
  const std::string abc =
      "{\"a\": 0, \"b\": 1, \"c\": 2, \"abc\": 3, \"bc\": 4}";
  Expected<ByteLevelBpe> ignoring = ByteLevelBpe::fromTokenizerJson(
      tokenizerJson("\"ignore_merges\": true", abc, "[[\"b\", \"c\"]]"),
      "t.json");
  ASSERT_TRUE(ignoring) << ignoring.message();
  EXPECT_EQ(ignoring->encode("abc"), (Ids{3}));
  EXPECT_EQ(ignoring->encode("abcabc"), (Ids{0, 4, 0, 4}));
  EXPECT_EQ(ignoring->encode("bcc"), (Ids{4, 2}));
  Expected<ByteLevelBpe> merging = ByteLevelBpe::fromTokenizerJson(
      tokenizerJson("\"ignore_merges\": false", abc, "[[\"b\", \"c\"]]"),
      "t.json");
  ASSERT_TRUE(merging) << merging.message();
  EXPECT_EQ(merging->encode("abc"), (Ids{0, 4}));
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

namespace {

std::string loadError(Expected<ByteLevelBpe> loaded) {
  EXPECT_FALSE(loaded);
  if (loaded)
    return "";
  EXPECT_EQ(loaded.message().find('\n'), std::string::npos);
  return loaded.message();
}

} // namespace

TEST(BpeErrors, MissingFolder) {
  TempDir dir;
  std::string message = loadError(ByteLevelBpe::fromFolder(dir.file("nope")));
  EXPECT_NE(message.find(dir.file("nope")), std::string::npos) << message;
  EXPECT_NE(message.find("no such folder"), std::string::npos) << message;
}

TEST(BpeErrors, EmptyFolder) {
  TempDir dir;
  std::string message = loadError(ByteLevelBpe::fromFolder(dir.path()));
  EXPECT_NE(message.find(dir.path()), std::string::npos) << message;
  EXPECT_NE(message.find("tokenizer.json"), std::string::npos) << message;
  EXPECT_NE(message.find("vocab.json"), std::string::npos) << message;
}

TEST(BpeErrors, MissingMerges) {
  TempDir dir;
  writeFile(dir.file("vocab.json"), tinyVocab({}));
  std::string message = loadError(ByteLevelBpe::fromFolder(dir.path()));
  EXPECT_NE(message.find(dir.path()), std::string::npos) << message;
  EXPECT_NE(message.find("merges.txt is missing"), std::string::npos)
      << message;
}

TEST(BpeErrors, InvalidVocabJson) {
  TempDir dir;
  writeFile(dir.file("vocab.json"), "{\"a\": 0,");
  writeFile(dir.file("merges.txt"), "");
  std::string message = loadError(ByteLevelBpe::fromFolder(dir.path()));
  EXPECT_EQ(message.rfind(dir.file("vocab.json") + ": invalid JSON", 0), 0u)
      << message;

  writeFile(dir.file("vocab.json"), "[1, 2]");
  message = loadError(ByteLevelBpe::fromFolder(dir.path()));
  EXPECT_EQ(message.rfind(dir.file("vocab.json") + ": ", 0), 0u) << message;

  writeFile(dir.file("vocab.json"), "{\"a\": -3}");
  message = loadError(ByteLevelBpe::fromFolder(dir.path()));
  EXPECT_NE(message.find("token 'a'"), std::string::npos) << message;
}

TEST(BpeErrors, MergeWithUnknownToken) {
  std::string message = loadError(ByteLevelBpe::fromVocabAndMerges(
      tinyVocab({"ab"}), "#version: 0.2\na b\nb zz\n", "v.json", "m.txt"));
  EXPECT_EQ(message.rfind("m.txt: line 3: ", 0), 0u) << message;
  EXPECT_NE(message.find("'zz'"), std::string::npos) << message;

  // The merged token must exist too.
  message = loadError(ByteLevelBpe::fromVocabAndMerges(tinyVocab({}), "a b\n",
                                                       "v.json", "m.txt"));
  EXPECT_NE(message.find("m.txt: line 1: merged token 'ab'"), std::string::npos)
      << message;

  message = loadError(ByteLevelBpe::fromVocabAndMerges(
      tinyVocab({"ab"}), "a b c\n", "v.json", "m.txt"));
  EXPECT_NE(message.find("m.txt: line 1: expected two tokens"),
            std::string::npos)
      << message;
}

TEST(BpeErrors, BadTokenizerJson) {
  auto withModel = [](const std::string &model, const std::string &rest =
                                                    "\"pre_tokenizer\": "
                                                    "{\"type\": "
                                                    "\"ByteLevel\"}") {
    return "{\"model\": " + model + ", " + rest + "}";
  };
  std::string vocab = tinyVocab({"ab"});
  struct Case {
    std::string json;
    std::string expected;
  } cases[] = {
      {"{", "t.json: invalid JSON"},
      {"[]", "t.json: expected a JSON object"},
      {"{}", "t.json: model: expected an object"},
      {withModel("{\"type\": \"WordPiece\", \"vocab\": {}}"),
       "t.json: model.type: expected \"BPE\""},
      {withModel("{\"merges\": []}"), "t.json: model.vocab"},
      {withModel("{\"vocab\": " + vocab + "}"), "t.json: model.merges"},
      {withModel("{\"vocab\": " + vocab + ", \"merges\": [\"a  b\"]}"),
       "t.json: model.merges[0]: expected two tokens"},
      {withModel("{\"vocab\": " + vocab + ", \"merges\": [[\"a\", \"q\"]]}"),
       "t.json: model.merges[0]: token 'q' is not in the vocab"},
      {withModel("{\"vocab\": " + vocab + ", \"merges\": [[\"a\"]]}"),
       "t.json: model.merges[0]: expected"},
      {withModel("{\"vocab\": " + vocab +
                 ", \"merges\": [], \"dropout\": "
                 "0.1}"),
       "t.json: model.dropout"},
      {withModel("{\"vocab\": " + vocab + ", \"merges\": []}",
                 "\"normalizer\": {\"type\": \"NFKC\"}"),
       "t.json: normalizer: \"NFKC\" is not supported"},
      {withModel("{\"vocab\": " + vocab + ", \"merges\": []}", "\"x\": 1"),
       "t.json: pre_tokenizer: missing"},
      {withModel("{\"vocab\": " + vocab + ", \"merges\": []}",
                 "\"pre_tokenizer\": {\"type\": \"Whitespace\"}"),
       "t.json: pre_tokenizer: expected ByteLevel, found \"Whitespace\""},
      {withModel("{\"vocab\": " + vocab + ", \"merges\": []}",
                 "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, "
                 "\"decoder\": {\"type\": \"WordPiece\"}"),
       "t.json: decoder: expected ByteLevel"},
      {withModel("{\"vocab\": " + vocab + ", \"merges\": []}",
                 "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, "
                 "\"added_tokens\": [{\"id\": 9}]"),
       "t.json: added_tokens[0]: expected an object with a string content"},
      {withModel("{\"vocab\": " + vocab + ", \"merges\": []}",
                 "\"pre_tokenizer\": {\"type\": \"ByteLevel\", "
                 "\"add_prefix_space\": 1}"),
       "t.json: pre_tokenizer.add_prefix_space: expected true or false"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.json);
    std::string message =
        loadError(ByteLevelBpe::fromTokenizerJson(c.json, "t.json"));
    EXPECT_EQ(message.rfind(c.expected, 0), 0u) << message;
  }
  // The minimal valid file loads.
  Expected<ByteLevelBpe> ok = ByteLevelBpe::fromTokenizerJson(
      withModel("{\"vocab\": " + vocab + ", \"merges\": [\"a b\"]}"), "t.json");
  ASSERT_TRUE(ok) << ok.message();
  // The pre-tokenizer's add_prefix_space defaults to true, as in
  // `tokenizers`.
  EXPECT_EQ(ok->encode("ab"), (std::vector<int32_t>{5, 6}));
}

TEST(BpeErrors, IdsFarPastTheVocabSize) {
  // Tables are indexed by id: a few bytes of vocab must not cost gigabytes.
  for (const char *vocab : {"{\"a\": 2000000000}", "{\"a\": 16777215}",
                            "{\"a\": 0, \"b\": 1, \"c\": 1030}"}) {
    SCOPED_TRACE(vocab);
    std::string message = loadError(
        ByteLevelBpe::fromVocabAndMerges(vocab, "", "v.json", "m.txt"));
    EXPECT_EQ(message.rfind("v.json: token '", 0), 0u) << message;
    EXPECT_NE(message.find("id"), std::string::npos) << message;
  }
  std::string message = loadError(ByteLevelBpe::fromVocabAndMerges(
      "{\"a\": 0, \"b\": 1, \"c\": 1030}", "", "v.json", "m.txt"));
  EXPECT_EQ(message, "v.json: token 'c' has id 1030, too large for a vocab "
                     "of 3 entries (ids must be below 1030)");
  message = loadError(ByteLevelBpe::fromTokenizerJson(
      "{\"model\": {\"vocab\": {\"a\": 9999999}, \"merges\": []}, "
      "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
      "t.json"));
  EXPECT_EQ(message.rfind("t.json: model.vocab: token 'a' has id 9999999", 0),
            0u)
      << message;
  // A vocab with a few holes still loads.
  Expected<ByteLevelBpe> holes = ByteLevelBpe::fromVocabAndMerges(
      "{\"a\": 0, \"b\": 1, \"c\": 1029}", "", "v.json", "m.txt");
  ASSERT_TRUE(holes) << holes.message();
  EXPECT_EQ(holes->vocabSize(), 1030u);
}

TEST(BpeAddedTokens, IdsInTheFileAreIgnored) {
  // As in `tokenizers`, an added token takes the next free id whatever
  // "id" says, so a huge one costs nothing.
  Expected<ByteLevelBpe> loaded = ByteLevelBpe::fromTokenizerJson(
      "{\"model\": {\"vocab\": " + tinyVocab({}) +
          ", \"merges\": []}, \"pre_tokenizer\": {\"type\": "
          "\"ByteLevel\"}, \"added_tokens\": [{\"id\": 2000000000, "
          "\"content\": \"<x>\"}]}",
      "t.json");
  ASSERT_TRUE(loaded) << loaded.message();
  EXPECT_EQ(loaded->tokenId("<x>"), std::optional<int32_t>(6));
  EXPECT_EQ(loaded->vocabSize(), 7u);
}

TEST(BpeErrors, GarbageMergesMessageIsOneReadableLine) {
  std::string garbage("\x01\x02\x1b[2J\r\xff\xfe\x00zz", 12);
  std::string message = loadError(ByteLevelBpe::fromVocabAndMerges(
      tinyVocab({}), garbage, "v.json", "m.txt"));
  EXPECT_EQ(message.rfind("m.txt: line 1: expected two tokens", 0), 0u)
      << message;
  for (char c : message)
    EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
        << printable(message);
}

TEST(BpeFiles, FromFilesTakesEitherOrder) {
  std::string vocab = tinyVocab({"ab"});
  for (bool mergesFirst : {false, true}) {
    std::vector<std::pair<std::string, std::string_view>> files = {
        {"vocab.json", vocab}, {"merges.txt", "a b\n"}};
    if (mergesFirst)
      std::swap(files[0], files[1]);
    Expected<ByteLevelBpe> loaded = ByteLevelBpe::fromFiles(files);
    ASSERT_TRUE(loaded) << loaded.message();
    EXPECT_EQ(loaded->encode("ab"), (std::vector<int32_t>{6}));
  }
  std::string message = loadError(ByteLevelBpe::fromFiles(
      {{"vocab.json", "{\"a\": "}, {"merges.txt", "a b\n"}}));
  EXPECT_EQ(message.rfind("vocab.json: invalid JSON", 0), 0u) << message;
  message = loadError(ByteLevelBpe::fromFiles({}));
  EXPECT_NE(message.find("tokenizer.json"), std::string::npos) << message;
}

//===----------------------------------------------------------------------===//
// Unicode tables
//===----------------------------------------------------------------------===//

TEST(BpeUnicode, AsciiFastPathMatchesTable) {
  for (uint32_t c = 0; c < 0x80; ++c)
    EXPECT_EQ(unicode::classify(c), unicode::classifyNonAscii(c)) << c;
}

TEST(BpeUnicode, Classes) {
  using namespace unicode;
  EXPECT_EQ(classify(0x00A0), kSpace);          // no-break space is \s
  EXPECT_EQ(classify(0x001C), 0);               // not White_Space
  EXPECT_EQ(classify(0x3000), kSpace);          // ideographic space
  EXPECT_EQ(classify(0x00E9), kLetter | kWord); // é
  EXPECT_EQ(classify(0x0301), kWord);           // combining acute: a mark
  EXPECT_EQ(classify(0x4E2D), kLetter | kWord); // 中
  EXPECT_EQ(classify(0x0663), kNumber | kWord); // Arabic-Indic three
  EXPECT_EQ(classify(0x00BD), kNumber);         // ½ (No)
  EXPECT_EQ(classify(0x1F600), 0);              // 😀
  EXPECT_EQ(classify(0x200D), kWord);           // zero width joiner
  EXPECT_EQ(classify(0x1C89), kLetter | kWord); // new in Unicode 16
  EXPECT_EQ(classify(0x10FFFF), 0);
  EXPECT_EQ(classify(0x110000), 0);
}
