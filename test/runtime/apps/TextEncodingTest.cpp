//===- TextEncodingTest.cpp - The text-encoding command line --------------===//
//
// Drives runTextEncoding (and runAppMain) with a fake BERT written here in
// C++ and the tiny WordPiece tokenizer of test/fixtures/runtime/encoder
// ([PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4, words from 5; 49 tokens).
// Batch 2, buckets 4, 8 and 16, hidden size 10. The fake:
//   encode_<S>: hidden[b,i] = {scale * ids[b,i], i, type[b,i], lengths[b],
//       0...} for i < lengths[b] and 1000 everywhere past the length (so
//       pooling over padding shows); pooled (when declared) = -1;
//       sequence logits[b,l] = ln 4 for l == ids[b,1] % L, else 0;
//       token logits[b,i,l] = ln 4 for l == ids[b,i] % L, else 0;
//       next-sentence logits[b] = {ln(type-0 tokens), ln(type-1 tokens + 1)};
//   mlm_head: for the hidden row of position p (hidden[1]), logits[v] = ln 8
//       for v == 5 + p, ln 4 for v == 6 + p, else 0.
// Weight embeddings.scale = 1 is embedded.
//
//===----------------------------------------------------------------------===//

#include "runtime/apps/TextEncoding.h"
#include "runtime/support/Npy.h"
#include "runtime/session/Session.h"
#include "runtime/threads/ThreadPool.h"
#include "runtime/apps/AppMain.h"

#include "TestUtil.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

using namespace kiln;
using namespace kiln::test;

namespace {

constexpr int64_t kBatch = 2;
constexpr int64_t kHidden = 10;
constexpr int64_t kVocab = 49;

enum class Logits { None, Sequence, Token, Nsp };

/// How the fake entries find their arguments, and what they saw.
struct EncoderFake {
  bool pooled = false;
  Logits logits = Logits::None;
  int64_t labels = 3;

  struct Call {
    int64_t bucket;
    std::vector<int64_t> ids, types, lengths;
  };
  std::vector<Call> calls;
  std::vector<std::vector<float>> mlmRows;
  std::vector<std::string> problems;
  int threads = 0;
} fake;

void *data(void **args, int i) { return static_cast<void **>(args[i])[1]; }

// encode_<S>: ids, embeddings.scale, token_type_ids, lengths, hidden,
// [pooled], [logits or nsp_logits].
template <int S> void encode(void **args) {
  auto *ids = static_cast<const int64_t *>(data(args, 0));
  float scale = *static_cast<const float *>(data(args, 1));
  auto *types = static_cast<const int64_t *>(data(args, 2));
  auto *lengths = static_cast<const int64_t *>(data(args, 3));
  auto *hidden = static_cast<float *>(data(args, 4));
  int next = 5;
  float *pooled =
      fake.pooled ? static_cast<float *>(data(args, next++)) : nullptr;
  float *logits = fake.logits != Logits::None
                      ? static_cast<float *>(data(args, next++))
                      : nullptr;
  fake.calls.push_back({S, std::vector<int64_t>(ids, ids + kBatch * S),
                        std::vector<int64_t>(types, types + kBatch * S),
                        std::vector<int64_t>(lengths, lengths + kBatch)});
  fake.threads = ThreadPool::global().numThreads();
  const int64_t labels = fake.labels;
  for (int64_t b = 0; b < kBatch; ++b) {
    int64_t length = lengths[b];
    if (length < 1 || length > S)
      fake.problems.push_back("encode: bad length " + std::to_string(length));
    int64_t typeCount[2] = {0, 0};
    for (int64_t i = 0; i < S; ++i) {
      float *row = hidden + (b * S + i) * kHidden;
      const int64_t id = ids[b * S + i], type = types[b * S + i];
      if (i >= length) {
        std::fill(row, row + kHidden, 1000.0f);
        if (id != 0 || type != 0)
          fake.problems.push_back("encode: padding is not [PAD] of type 0");
        continue;
      }
      std::fill(row, row + kHidden, 0.0f);
      row[0] = scale * static_cast<float>(id);
      row[1] = static_cast<float>(i);
      row[2] = static_cast<float>(type);
      row[3] = static_cast<float>(length);
      ++typeCount[type == 1];
      if (fake.logits == Logits::Token)
        for (int64_t l = 0; l < labels; ++l)
          logits[(b * S + i) * labels + l] =
              l == id % labels ? std::log(4.0f) : 0.0f;
    }
    if (pooled)
      std::fill(pooled + b * kHidden, pooled + (b + 1) * kHidden, -1.0f);
    if (fake.logits == Logits::Sequence)
      for (int64_t l = 0; l < labels; ++l)
        logits[b * labels + l] =
            l == ids[b * S + 1] % labels ? std::log(4.0f) : 0.0f;
    if (fake.logits == Logits::Nsp) {
      logits[b * 2] = std::log(static_cast<float>(typeCount[0]));
      logits[b * 2 + 1] = std::log(static_cast<float>(typeCount[1] + 1));
    }
  }
}

// mlm_head: hidden, logits.
void mlmHead(void **args) {
  auto *hidden = static_cast<const float *>(data(args, 0));
  auto *logits = static_cast<float *>(data(args, 1));
  fake.mlmRows.emplace_back(hidden, hidden + kHidden);
  int64_t position = static_cast<int64_t>(hidden[1]);
  for (int64_t v = 0; v < kVocab; ++v)
    logits[v] = v == 5 + position   ? std::log(8.0f)
                : v == 6 + position ? std::log(4.0f)
                                    : 0.0f;
}

const EntryFunction kEntries[] = {encode<4>, encode<8>, encode<16>, mlmHead};

std::string arg(const std::string &name, const char *role, const char *dtype,
                const std::string &shape) {
  return R"({"name":")" + name + R"(","role":")" + role + R"(","dtype":")" +
         dtype + R"(","shape":)" + shape + "}";
}

/// The signature of the fake for `head`; `extraMetadata` ends with a comma.
std::string encoderSignature(const std::string &head, bool pooled,
                             const std::string &extraMetadata) {
  std::string entries;
  for (int s : {4, 8, 16}) {
    std::string n = std::to_string(s);
    entries += R"({"name":"encode_)" + n + R"(","args":[)" +
               arg("ids", "input", "i64", "[2," + n + "]") + "," +
               arg("embeddings.scale", "weight", "f32", "[1]") + "," +
               arg("token_type_ids", "input", "i64", "[2," + n + "]") + "," +
               arg("lengths", "input", "i64", "[2]") + "," +
               arg("hidden", "output", "f32", "[2," + n + ",10]");
    if (pooled)
      entries += "," + arg("pooled", "output", "f32", "[2,10]");
    if (head == "sequence-classification")
      entries += "," + arg("logits", "output", "f32", "[2,3]");
    else if (head == "token-classification")
      entries += "," + arg("logits", "output", "f32", "[2," + n + ",3]");
    else if (head == "next-sentence")
      entries += "," + arg("logits", "output", "f32", "[2,2]");
    else if (head == "pretraining")
      entries += "," + arg("nsp_logits", "output", "f32", "[2,2]");
    entries += "]},";
  }
  if (head == "masked-lm" || head == "pretraining")
    entries += R"({"name":"mlm_head","args":[)" +
               arg("hidden", "input", "f32", "[1,10]") + "," +
               arg("logits", "output", "f32", "[1,49]") + "]},";
  entries.pop_back();
  return R"({"entries":[)" + entries +
         R"(],"metadata":{"task":"text-encoding","family":"bert","head":")" +
         head +
         R"(","batch_size":2,"sequence_lengths":[16,4,8],"max_length":16,)"
         R"("hidden_size":10,"vocab_size":49,)" +
         extraMetadata +
         R"("tokenizer":{"kind":"wordpiece","files":["tokenizer.json"]}}})";
}

const unsigned char *bytes(const std::string &s) {
  return reinterpret_cast<const unsigned char *>(s.data());
}

std::string format4(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", value);
  return buf;
}

// Fill-mask probabilities of the fake (8 / (8 + 4 + 47 * 1), ...).
const double kTop1 = 8.0 / 59, kTop2 = 4.0 / 59;

class TextEncodingTest : public ::testing::Test {
protected:
  void SetUp() override {
    savedThreads = ThreadPool::global().numThreads();
    tokenizerJson = readFile(std::string(KILN_RUNTIME_FIXTURES_DIR) +
                             "/encoder/tokenizer.json");
    ASSERT_FALSE(tokenizerJson.empty());
    weights = makeF32Safetensors({{"embeddings.scale", {1}}});
    files = {{"model.safetensors", bytes(weights), weights.size()},
             {"tokenizer.json", bytes(tokenizerJson), tokenizerJson.size()}};
    model.entries = kEntries;
    model.embeddedFiles = files.data();
    model.embeddedFileCount = files.size();
    useHead("masked-lm");
  }
  void TearDown() override { ThreadPool::global().setNumThreads(savedThreads); }

  /// Compiles the fake with `head` (pooler for base, next-sentence and
  /// pretraining, as BERT has).
  void useHead(const std::string &head,
               const std::string &extraMetadata =
                   R"("id2label":{"0":"NEGATIVE","1":"NEUTRAL",)"
                   R"("2":"POSITIVE"},)") {
    fake = EncoderFake();
    fake.pooled =
        head == "base" || head == "next-sentence" || head == "pretraining";
    fake.logits = head == "sequence-classification" ? Logits::Sequence
                  : head == "token-classification"  ? Logits::Token
                  : head == "next-sentence" || head == "pretraining"
                      ? Logits::Nsp
                      : Logits::None;
    signature = encoderSignature(head, fake.pooled, extraMetadata);
    model.signature = signature.c_str();
    model.entryCount = head == "masked-lm" || head == "pretraining" ? 4 : 3;
  }

  MainResult run(const std::vector<std::string> &args,
                 const std::string &stdinText = "") {
    EncoderFake kept = fake;
    fake = EncoderFake();
    fake.pooled = kept.pooled;
    fake.logits = kept.logits;
    fake.labels = kept.labels;
    std::istringstream in(stdinText);
    auto main = [&](const ModelSymbols &m, int argc, char **argv,
                    std::ostream &out, std::ostream &err) {
      return runTextEncoding(m, argc, argv, in, out, err);
    };
    MainResult r = runCommandLine(main, model, args);
    EXPECT_EQ(fake.problems, std::vector<std::string>{});
    return r;
  }
  /// Runs and expects success with nothing on stderr.
  std::string encode(const std::vector<std::string> &args,
                     const std::string &stdinText = "") {
    MainResult r = run(args, stdinText);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err, "");
    return r.out;
  }
  nlohmann::json encodeJson(std::vector<std::string> args) {
    args.push_back("--json");
    MainResult r = run(args);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  void expectError(const std::vector<std::string> &args,
                   const std::string &message,
                   const std::string &stdinText = "") {
    MainResult r = run(args, stdinText);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "error: " + message + "\n");
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(fake.calls.empty());
  }
  /// Ids of a call's row, as the model saw them.
  static std::vector<int64_t> row(const EncoderFake::Call &call, int64_t b,
                                  bool types = false) {
    const std::vector<int64_t> &all = types ? call.types : call.ids;
    return std::vector<int64_t>(all.begin() + b * call.bucket,
                                all.begin() + (b + 1) * call.bucket);
  }
  static std::vector<int64_t> padded(std::vector<int64_t> ids, size_t size) {
    ids.resize(size, 0);
    return ids;
  }

  TempDir dir;
  std::string tokenizerJson, weights, signature;
  std::vector<KilnEmbeddedFile> files;
  ModelSymbols model;
  int savedThreads = 1;
};

} // namespace

//===----------------------------------------------------------------------===//
// Fill-mask
//===----------------------------------------------------------------------===//

TEST_F(TextEncodingTest, FillMask) {
  // [CLS] the capital of france is [MASK] . [SEP]: the mask is token 6, so
  // the fake's best candidates are ids 11 (lyon) and 12 (city).
  std::string out = encode({"The capital of France is [MASK]."});
  // 8/59, 4/59, then ties at 1/59 in id order.
  EXPECT_EQ(out, "  0.1356  lyon\n"
                 "  0.0678  city\n"
                 "  0.0169  [PAD]\n"
                 "  0.0169  [UNK]\n"
                 "  0.0169  [CLS]\n"
                 "filled: the capital of france is lyon.\n");
  // One call in bucket 16, the second batch row unused (length 1, [PAD]).
  ASSERT_EQ(fake.calls.size(), 1u);
  EXPECT_EQ(fake.calls[0].bucket, 16);
  EXPECT_EQ(row(fake.calls[0], 0), padded({2, 5, 6, 7, 8, 9, 4, 30, 3}, 16));
  EXPECT_EQ(row(fake.calls[0], 1), padded({}, 16));
  EXPECT_EQ(fake.calls[0].lengths, (std::vector<int64_t>{9, 1}));
  // mlm_head got the hidden row of the mask.
  ASSERT_EQ(fake.mlmRows.size(), 1u);
  EXPECT_EQ(fake.mlmRows[0],
            (std::vector<float>{4, 6, 0, 9, 0, 0, 0, 0, 0, 0}));

  out = encode({"The capital of France is [MASK].", "--top-k", "2"});
  EXPECT_EQ(out, "  0.1356  lyon\n"
                 "  0.0678  city\n"
                 "filled: the capital of france is lyon.\n");
}

TEST_F(TextEncodingTest, FillMaskSeveralMasksAndTexts) {
  // Three texts, batch 2: texts 1-2 in bucket 16 (9 tokens), text 3 in
  // bucket 4 ([CLS] [MASK] world [SEP]).
  std::string out = encode({"[MASK] dog sat on the [MASK].",
                            "The capital of France is [MASK].", "[MASK] world",
                            "--top-k", "1"});
  EXPECT_EQ(out, "text 1: [MASK] dog sat on the [MASK].\n"
                 " mask 1:\n"
                 "  0.1356  capital\n"
                 " mask 2:\n"
                 "  0.1356  lyon\n"
                 "filled: capital dog sat on the lyon.\n"
                 "text 2: The capital of France is [MASK].\n"
                 "  0.1356  lyon\n"
                 "filled: the capital of france is lyon.\n"
                 "text 3: [MASK] world\n"
                 "  0.1356  capital\n"
                 "filled: capital world\n");
  ASSERT_EQ(fake.calls.size(), 2u);
  EXPECT_EQ(fake.calls[0].bucket, 16);
  EXPECT_EQ(fake.calls[0].lengths, (std::vector<int64_t>{9, 9}));
  EXPECT_EQ(fake.calls[1].bucket, 4);
  EXPECT_EQ(row(fake.calls[1], 0), (std::vector<int64_t>{2, 4, 22, 3}));
  EXPECT_EQ(fake.calls[1].lengths, (std::vector<int64_t>{4, 1}));
  ASSERT_EQ(fake.mlmRows.size(), 4u);
  EXPECT_EQ(fake.mlmRows[1][1], 6); // second mask of text 1
  EXPECT_EQ(fake.mlmRows[2][3], 9); // text 2, row 1 of the batch

  nlohmann::json j = encodeJson(
      {"[MASK] dog sat on the [MASK].", "big [MASK]", "--top-k", "2"});
  ASSERT_TRUE(j.is_array()) << j.dump();
  ASSERT_EQ(j.size(), 2u);
  ASSERT_EQ(j[0].size(), 4u); // two masks, two candidates each
  EXPECT_EQ(j[0][0]["token_id"], 6);
  EXPECT_EQ(j[0][0]["token"], "capital");
  EXPECT_NEAR(j[0][0]["score"].get<double>(), kTop1, 1e-6);
  EXPECT_EQ(j[0][0]["position"], 1);
  EXPECT_EQ(j[0][0]["sequence"], "capital dog sat on the lyon.");
  // Each candidate's sequence fills the other masks with their best.
  EXPECT_EQ(j[0][1]["token"], "of");
  EXPECT_NEAR(j[0][1]["score"].get<double>(), kTop2, 1e-6);
  EXPECT_EQ(j[0][1]["sequence"], "of dog sat on the lyon.");
  EXPECT_EQ(j[0][3]["token"], "city");
  EXPECT_EQ(j[0][3]["position"], 6);
  EXPECT_EQ(j[0][3]["sequence"], "capital dog sat on the city.");
  // big [MASK]: the mask is token 2 -> ids 7 (of), 8 (france).
  EXPECT_EQ(j[1][0]["token"], "of");
  EXPECT_EQ(j[1][0]["sequence"], "big of");
  EXPECT_EQ(j[1][1]["token_id"], 8);
}

TEST_F(TextEncodingTest, FillMaskNeedsAMask) {
  expectError({"[MASK] world", "hello world"}, "text 2 has no [MASK] token");
  // Other heads cannot fill masks; neither can --classify and friends.
  useHead("base");
  std::string out = encode({"[MASK] world"});
  EXPECT_EQ(out.rfind("[", 0), 0u) << out; // base: embeddings
  EXPECT_TRUE(fake.mlmRows.empty());
}

//===----------------------------------------------------------------------===//
// Classification
//===----------------------------------------------------------------------===//

TEST_F(TextEncodingTest, ClassifySingleLabel) {
  useHead("sequence-classification");
  // "movie" (29): label 29 % 3 = 2, softmax {4, 1, 1} / 6.
  EXPECT_EQ(encode({"movie"}), "  0.6667  POSITIVE\n"
                               "  0.1667  NEGATIVE\n"
                               "  0.1667  NEUTRAL\n");
  EXPECT_EQ(fake.calls[0].bucket, 4);
  // --classify says the same; --top-k keeps the best labels.
  EXPECT_EQ(encode({"--classify", "It was great", "--top-k", "1"}),
            "  0.6667  NEUTRAL\n");
  EXPECT_EQ(fake.calls[0].bucket, 8);

  nlohmann::json j =
      encodeJson({"good movie", "john lives in berlin", "It was great"});
  ASSERT_EQ(j.size(), 3u) << j.dump();
  EXPECT_EQ(j[0][0]["label"], "NEGATIVE"); // good = 27
  EXPECT_NEAR(j[0][0]["score"].get<double>(), 4.0 / 6, 1e-6);
  EXPECT_EQ(j[0][1]["label"], "NEUTRAL");
  EXPECT_EQ(j[1][0]["label"], "POSITIVE"); // john = 23
  EXPECT_EQ(j[2][0]["label"], "NEUTRAL");  // it = 37
  EXPECT_EQ(fake.calls.size(), 2u);
  EXPECT_EQ(fake.calls[0].bucket, 8);
  EXPECT_EQ(fake.calls[1].bucket, 8);
  EXPECT_EQ(fake.calls[1].lengths, (std::vector<int64_t>{5, 1}));

  std::string out = encode({"movie", "good movie"});
  EXPECT_EQ(out, "text 1: movie\n"
                 "  0.6667  POSITIVE\n"
                 "  0.1667  NEGATIVE\n"
                 "  0.1667  NEUTRAL\n"
                 "text 2: good movie\n"
                 "  0.6667  NEGATIVE\n"
                 "  0.1667  NEUTRAL\n"
                 "  0.1667  POSITIVE\n");
}

TEST_F(TextEncodingTest, ClassifyMultiLabelRegressionAndDefaultLabels) {
  useHead("sequence-classification",
          R"("id2label":{"2":"c","0":"a","1":"b"},)"
          R"("problem_type":"multi_label_classification",)");
  // Sigmoid: sigmoid(ln 4) = 0.8, sigmoid(0) = 0.5.
  EXPECT_EQ(encode({"movie"}), "  0.8000  c\n  0.5000  a\n  0.5000  b\n");
  useHead("sequence-classification", R"("problem_type":"regression",)");
  // Raw logits; no id2label: LABEL_i.
  EXPECT_EQ(encode({"movie"}), "  1.3863  LABEL_2\n" // ln 4
                               "  0.0000  LABEL_0\n"
                               "  0.0000  LABEL_1\n");
  // One logit: sigmoid whatever the problem type says, as the pipeline
  // does; an empty id2label is no id2label.
  useHead("sequence-classification",
          R"("id2label":{},"problem_type":"single_label_classification",)");
  signature.replace(signature.find("[2,3]"), 5, "[2,1]");
  signature.replace(signature.find("[2,3]"), 5, "[2,1]");
  signature.replace(signature.find("[2,3]"), 5, "[2,1]");
  model.signature = signature.c_str();
  fake.labels = 1;
  // ids[1] % 1 == 0: logit ln 4, sigmoid 0.8.
  EXPECT_EQ(encode({"movie"}), "  0.8000  LABEL_0\n");
  useHead("sequence-classification", R"("id2label":{"0":"x","1":"y"},)");
  expectError({"movie"}, "model signature: entry 'encode_4': output 'logits' "
                         "is f32 [2,3], expected f32 [2,2]");
}

TEST_F(TextEncodingTest, TokenLabels) {
  useHead("token-classification",
          R"("id2label":{"0":"O","1":"B-PER","2":"B-LOC"},)");
  // john 23 -> 2, lives 24 -> 0, in 25 -> 1, berlin 26 -> 2; [CLS] and
  // [SEP] are skipped.
  EXPECT_EQ(encode({"john lives in berlin"}), "  john    B-LOC  0.6667\n"
                                              "  lives   O      0.6667\n"
                                              "  in      B-PER  0.6667\n"
                                              "  berlin  B-LOC  0.6667\n");
  EXPECT_EQ(fake.calls[0].bucket, 8);
  nlohmann::json j = encodeJson({"--tokens", "Hello Parisian world!"});
  ASSERT_EQ(j.size(), 1u);
  ASSERT_EQ(j[0].size(), 5u) << j.dump();
  EXPECT_EQ(j[0][2]["word"], "##ian");
  EXPECT_EQ(j[0][2]["index"], 3);
  EXPECT_EQ(j[0][2]["token_id"], 35);
  EXPECT_EQ(j[0][2]["entity"], "B-LOC");
  EXPECT_NEAR(j[0][2]["score"].get<double>(), 4.0 / 6, 1e-6);
  EXPECT_EQ(j[0][0]["index"], 1);
}

//===----------------------------------------------------------------------===//
// Next-sentence prediction
//===----------------------------------------------------------------------===//

TEST_F(TextEncodingTest, NextSentence) {
  useHead("next-sentence");
  // [CLS] the dog sat . [SEP] | home . [SEP]: 6 tokens of type 0, 3 of
  // type 1: P = 6 / (6 + 4).
  EXPECT_EQ(encode({"--pair", "The dog sat.", "Home."}),
            "P(B follows A) = 0.6000\n");
  ASSERT_EQ(fake.calls.size(), 1u);
  EXPECT_EQ(fake.calls[0].bucket, 16);
  EXPECT_EQ(row(fake.calls[0], 0),
            padded({2, 5, 16, 18, 30, 3, 44, 30, 3}, 16));
  EXPECT_EQ(row(fake.calls[0], 0, /*types=*/true),
            padded({0, 0, 0, 0, 0, 0, 1, 1, 1}, 16));
  expectError({"hello"}, "this executable predicts whether a text follows "
                         "another (head 'next-sentence'): give --pair A B");
  expectError({"--pair", "a"}, "option --pair needs two texts: --pair A B");
  expectError({"--pair"}, "option --pair needs two texts: --pair A B");
  expectError({"--pair", "a", "b", "c"},
              "give texts (or --file) or --pair, not both");

  // The pretraining head: nsp_logits; several pairs.
  useHead("pretraining");
  EXPECT_EQ(
      encode({"--pair", "The dog sat.", "Home.", "--pair=hello", "world"}),
      "pair 1: The dog sat. | Home.\nP(B follows A) = 0.6000\n"
      "pair 2: hello | world\nP(B follows A) = 0.5000\n");
  nlohmann::json j = encodeJson({"--pair", "hello", "big world"});
  ASSERT_EQ(j.size(), 1u);
  // [CLS] hello [SEP] (3) | big world [SEP] (3): 3 / (3 + 4).
  EXPECT_NEAR(j[0]["is_next"].get<double>(), 3.0 / 7, 1e-6);
  EXPECT_NEAR(j[0]["logits"][0].get<double>(), std::log(3.0), 1e-6);

  useHead("masked-lm");
  expectError({"--pair", "a", "b"},
              "--pair needs a next-sentence or pretraining head; this "
              "executable was compiled with 'masked-lm' (recompile with kiln "
              "compile --head next-sentence)");
}

//===----------------------------------------------------------------------===//
// Embeddings
//===----------------------------------------------------------------------===//

TEST_F(TextEncodingTest, EmbeddingsClsAndMean) {
  useHead("base");
  // hello world = [CLS] 21 22 [SEP]: cls = {2, 0, 0, 4, 0...}.
  EXPECT_EQ(encode({"hello world"}),
            "[2.0000, 0.0000, 0.0000, 4.0000, 0.0000, 0.0000, 0.0000, "
            "0.0000, \u2026] (10 values)\n");
  // Mean over the 4 real tokens (specials included), not the padding.
  nlohmann::json j = encodeJson({"--embed", "mean", "hello world"});
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0], nlohmann::json({12.0, 1.5, 0.0, 4.0, 0, 0, 0, 0, 0, 0}));
  // Bucket 8 holds 7 tokens; the row is padded with 1000s past length 7.
  j = encodeJson({"--embed=mean", "Hello Parisian world!"});
  EXPECT_EQ(fake.calls[0].bucket, 8);
  EXPECT_NEAR(j[0][0].get<double>(), (2 + 21 + 10 + 35 + 22 + 32 + 3) / 7.0,
              1e-5);
  EXPECT_EQ(j[0][1], 3.0);
  EXPECT_EQ(j[0][3], 7.0);
  // Normalized: cls / |cls| = {2, 4} / sqrt(20).
  j = encodeJson({"--embed", "cls", "--normalize", "hello world"});
  EXPECT_NEAR(j[0][0].get<double>(), 2 / std::sqrt(20.0), 1e-6);
  EXPECT_NEAR(j[0][3].get<double>(), 4 / std::sqrt(20.0), 1e-6);
  // --embed works with any head: here masked-lm, with --normalize alone.
  useHead("masked-lm");
  j = encodeJson({"--normalize", "hello world"});
  EXPECT_NEAR(j[0][0].get<double>(), 2 / std::sqrt(20.0), 1e-6);
  EXPECT_TRUE(fake.mlmRows.empty());
}

TEST_F(TextEncodingTest, EmbeddingDefaultsFromPooling) {
  useHead("base", R"("pooling":{"mode":"mean","normalize":true},)");
  nlohmann::json j = encodeJson({"hello world"});
  double norm = std::sqrt(12.0 * 12 + 1.5 * 1.5 + 4 * 4);
  EXPECT_NEAR(j[0][0].get<double>(), 12 / norm, 1e-6);
  EXPECT_NEAR(j[0][1].get<double>(), 1.5 / norm, 1e-6);
  // --embed cls overrides the mode; normalization stays.
  j = encodeJson({"--embed", "cls", "hello world"});
  EXPECT_NEAR(j[0][0].get<double>(), 2 / std::sqrt(20.0), 1e-6);
  useHead("base", R"("pooling":{"mode":"max"},)");
  expectError({"x"}, "model metadata: 'pooling.mode' must be \"cls\" or "
                     "\"mean\", found \"max\"");
}

TEST_F(TextEncodingTest, EmbeddingSimilarityAndOutput) {
  useHead("base");
  // cls rows: hello world {2,0,0,4}, movie {2,0,0,3}, paris... {2,0,0,8}.
  std::string out = encode({"hello world", "movie", "Paris is a big city."});
  auto cosine = [](double a, double b) {
    return (4 + a * b) / std::sqrt((4 + a * a) * (4 + b * b));
  };
  std::string rows[3] = {"[2.0000, 0.0000, 0.0000, 4.0000",
                         "[2.0000, 0.0000, 0.0000, 3.0000",
                         "[2.0000, 0.0000, 0.0000, 8.0000"};
  std::string expected;
  for (const std::string &r : rows)
    expected += r + ", 0.0000, 0.0000, 0.0000, 0.0000, \u2026] (10 values)\n";
  expected += "cosine similarity:\n";
  double lengths[3] = {4, 3, 8};
  for (double a : lengths) {
    for (double b : lengths) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "  %7.4f", cosine(a, b));
      expected += buf;
    }
    expected += "\n";
  }
  EXPECT_EQ(out, expected);

  // --output: f32 [3, 10], nothing else printed but a note of the file.
  std::string path = dir.file("embeddings.npy");
  out = encode(
      {"hello world", "movie", "Paris is a big city.", "--output", path});
  EXPECT_EQ(out, "wrote 3 embeddings (f32 [3,10]) to " + path + "\n");
  Expected<Tensor> tensor = readNpy(path);
  ASSERT_TRUE(tensor) << tensor.message();
  EXPECT_EQ(tensor->dtype, DType::F32);
  ASSERT_EQ(tensor->shape, (Shape{3, 10}));
  const float *values = static_cast<const float *>(tensor->data());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(values[i * 10], 2.0f);
    EXPECT_EQ(values[i * 10 + 3], static_cast<float>(lengths[i]));
    EXPECT_EQ(values[i * 10 + 9], 0.0f);
  }
  nlohmann::json j = encodeJson({"movie", "--output", path, "--embed=mean"});
  EXPECT_EQ(j, nlohmann::json({{"output", path}, {"shape", {1, 10}}}));
  tensor = readNpy(path);
  ASSERT_TRUE(tensor) << tensor.message();
  EXPECT_EQ(static_cast<const float *>(tensor->data())[0], (2.0f + 29 + 3) / 3);

  // No matrix for more than 64 texts: a note says so.
  std::string many;
  for (int i = 0; i < 65; ++i)
    many += "movie\n";
  MainResult r = run({"--embed"}, many);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 65);
  EXPECT_EQ(r.err, "note: the cosine similarity matrix is printed for at "
                   "most 64 texts; use --output FILE.npy\n");
  EXPECT_EQ(fake.calls.size(), 33u);

  r = run({"movie", "--output", dir.file("no/such/dir/e.npy")});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: cannot create " + dir.file("no/such/dir/e.npy") +
                       ": No such file or directory\n");
}

//===----------------------------------------------------------------------===//
// Inputs
//===----------------------------------------------------------------------===//

TEST_F(TextEncodingTest, FileAndStdin) {
  useHead("base");
  std::string path = dir.file("texts.txt");
  writeFile(path, "hello world\r\n\n   \nmovie\nParis is a big city.");
  nlohmann::json j = encodeJson({"--file", path});
  ASSERT_EQ(j.size(), 3u) << j.dump();
  EXPECT_EQ(j[0][3], 4.0);
  EXPECT_EQ(j[1][3], 3.0);
  EXPECT_EQ(j[2][3], 8.0);
  // Batches of 2: (4, 3 tokens) in bucket 4, then 8 tokens in bucket 8.
  ASSERT_EQ(fake.calls.size(), 2u);
  EXPECT_EQ(fake.calls[0].bucket, 4);
  EXPECT_EQ(fake.calls[0].lengths, (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(fake.calls[1].bucket, 8);
  EXPECT_EQ(fake.calls[1].lengths, (std::vector<int64_t>{8, 1}));

  // Standard input, one text per line.
  MainResult r = run({"--json"}, "movie\n\nhello world\n");
  EXPECT_EQ(r.status, 0) << r.err;
  j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_EQ(j.size(), 2u) << r.out;
  EXPECT_EQ(j[1][3], 4.0);
  r = run({"--json", "--file", "-"}, "movie\n");
  EXPECT_EQ(r.status, 0) << r.err;

  expectError({}, "no input texts: give TEXT arguments, --file FILE or lines "
                  "on standard input (see --help)");
  expectError({},
              "no input texts: give TEXT arguments, --file FILE or lines "
              "on standard input (see --help)",
              "\n \n");
  std::string empty = dir.file("empty.txt");
  writeFile(empty, "\n\n");
  expectError({"--file", empty}, "no input texts: " + empty + " has no text");
  expectError({"--file", dir.file("none.txt")},
              "cannot open " + dir.file("none.txt") +
                  ": No such file or directory");
  expectError({"--file", path, "movie"}, "give texts or --file, not both");
}

TEST_F(TextEncodingTest, LengthsAndTruncation) {
  useHead("base");
  const std::string longText = "the dog sat on the mat and the cat sat on "
                               "the dog and he went home to berlin";
  expectError({"movie", "hello world", longText},
              "text 3 has 21 tokens but the model's maximum is 16 (use "
              "--truncate)");
  // --truncate: the first 15 tokens and the final [SEP].
  nlohmann::json j = encodeJson({"--truncate", "--embed", "mean", longText});
  ASSERT_EQ(fake.calls.size(), 1u);
  EXPECT_EQ(fake.calls[0].bucket, 16);
  EXPECT_EQ(fake.calls[0].lengths[0], 16);
  EXPECT_EQ(row(fake.calls[0], 0),
            (std::vector<int64_t>{2, 5, 16, 18, 19, 5, 20, 47, 5, 17, 18, 19, 5,
                                  16, 47, 3}));
  EXPECT_EQ(j[0][3], 16.0);
  // Exactly 16 tokens fit.
  std::string sixteen = "the dog sat on the mat and the cat sat on the dog "
                        "and";
  encode({sixteen});
  EXPECT_EQ(fake.calls[0].lengths[0], 16);

  // Pairs are truncated the same way and named as pairs.
  useHead("next-sentence");
  expectError({"--pair", "movie", longText},
              "pair 1 has 23 tokens but the model's maximum is 16 (use "
              "--truncate)");
  EXPECT_EQ(encode({"--pair", "movie", longText, "--truncate"}),
            "P(B follows A) = " + format4(3.0 / (3 + 14)) + "\n");
  EXPECT_EQ(row(fake.calls[0], 0).back(), 3);
  EXPECT_EQ(row(fake.calls[0], 0, true).back(), 1);

  // A model vocabulary smaller than the tokenizer's.
  useHead("base", "");
  signature.replace(signature.find(R"("vocab_size":49)"), 15,
                    R"("vocab_size":20)");
  model.signature = signature.c_str();
  expectError({"hello world"}, "text 1 has token id 21, outside the model's "
                               "vocabulary of 20 tokens");
}

//===----------------------------------------------------------------------===//
// Errors, options, help, bench
//===----------------------------------------------------------------------===//

TEST_F(TextEncodingTest, ActionsTheHeadCannotDo) {
  expectError({"--classify", "movie"},
              "--classify needs a sequence-classification head; this "
              "executable was compiled with 'masked-lm' (recompile with kiln "
              "compile --head sequence-classification)");
  expectError({"--tokens", "movie"},
              "--tokens needs a token-classification head; this executable "
              "was compiled with 'masked-lm' (recompile with kiln compile "
              "--head token-classification)");
  useHead("token-classification");
  expectError({"--classify", "movie"},
              "--classify needs a sequence-classification head; this "
              "executable was compiled with 'token-classification' "
              "(recompile with kiln compile --head sequence-classification)");
  useHead("sequence-classification");
  expectError({"--classify", "--tokens", "movie"},
              "--classify and --tokens cannot be combined");
  expectError({"--embed", "--classify", "movie"},
              "--embed and --classify cannot be combined");
  expectError({"--classify", "--normalize", "movie"},
              "--normalize applies only to embeddings (--embed)");
  expectError({"movie", "--output", "x.npy", "--classify"},
              "--output applies only to embeddings (--embed)");
  expectError({"movie", "--embed", "--top-k", "2"},
              "--top-k applies only to fill-mask and --classify");
  // A pair of texts can be classified (cross-encoders) or embedded.
  EXPECT_EQ(encode({"--classify", "--pair", "movie", "hello", "--top-k", "1"}),
            "  0.6667  POSITIVE\n");
  EXPECT_EQ(row(fake.calls[0], 0, true),
            (std::vector<int64_t>{0, 0, 0, 1, 1, 0, 0, 0}));
}

TEST_F(TextEncodingTest, OptionErrors) {
  expectError({"--top-k", "0", "x"}, "--top-k expects an integer >= 1, got "
                                     "'0'");
  expectError({"--top-k"}, "option --top-k needs a value (see --help)");
  expectError({"--embed=max", "x"}, "--embed expects cls or mean, got 'max'");
  expectError({"--threads", "0"},
              "--threads expects an integer from 1 to 1024, got '0'");
  expectError({"--json=yes"}, "option --json takes no value, got 'yes'");
  expectError({"--frobnicate"}, "unknown argument '--frobnicate' (see "
                                "--help; put a text that starts with '-' "
                                "after --)");
  expectError({"--output", ""}, "--output expects a .npy file name, got ''");
  expectError({"--weights", dir.file("none.safetensors"), "[MASK]"},
              "cannot open " + dir.file("none.safetensors") +
                  ": No such file or directory");
  // A text that starts with '-', after --; "mean" after --embed is a mode.
  useHead("base");
  std::string out = encode({"--embed", "mean", "--", "-movie", "--json"});
  EXPECT_EQ(out.rfind("[", 0), 0u) << out;
  // Two texts: [CLS] [UNK] movie [SEP] ('-' is not in the vocabulary) and
  // [CLS] [UNK] [UNK] [UNK] [SEP] ("json" is not either).
  EXPECT_EQ(fake.calls[0].lengths, (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(row(fake.calls[0], 0),
            (std::vector<int64_t>{2, 1, 29, 3, 0, 0, 0, 0}));
}

TEST_F(TextEncodingTest, WeightsHelpBenchThreads) {
  useHead("base");
  std::string path = dir.file("scale.safetensors");
  writeFile(path, makeF32Safetensors({{"embeddings.scale", {2}}}));
  nlohmann::json j = encodeJson({"movie", "--weights", path});
  EXPECT_EQ(j[0][0], 4.0);

  MainResult r = run({"--help"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("usage: model [TEXT...] [--file FILE] [--top-k K]", 0),
            0u)
      << r.out;
  EXPECT_NE(r.out.find("compiled bert model (head 'base') on texts given as "
                       "arguments,\nwith --file or on standard input (one "
                       "per line), 2 at a time.\nSequence lengths: 4, 8, 16; "
                       "at most 16 tokens per text.\nWithout an action "
                       "option: --embed.\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("weights: embedded in the executable"),
            std::string::npos);
  EXPECT_TRUE(fake.calls.empty());

  r = run({"movie", "hello world", "Paris is a big city.", "--bench",
           "--threads", "2", "--json"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(fake.threads, 2);
  EXPECT_TRUE(std::regex_match(
      r.err, std::regex("start-up: [0-9.]+ ms, peak RSS: [0-9.]+ MB\n"
                        "encode: [0-9.]+ ms per batch of 2 \\(4 tokens\\), "
                        "[0-9.]+ texts/s\n"
                        "encode: [0-9.]+ ms per batch of 2 \\(8 tokens\\), "
                        "[0-9.]+ texts/s\n")))
      << r.err;
  useHead("masked-lm");
  r = run({"[MASK] world", "--bench"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(std::regex_match(
      r.err, std::regex("start-up: [0-9.]+ ms, peak RSS: [0-9.]+ MB\n"
                        "encode: [0-9.]+ ms per batch of 2 \\(4 tokens\\), "
                        "[0-9.]+ texts/s\n"
                        "mlm_head: [0-9.]+ ms per mask \\(1 mask\\)\n")))
      << r.err;
}

TEST_F(TextEncodingTest, ModelErrors) {
  std::string text = encoderSignature("masked-lm", false, "");
  auto broken = [&](const std::string &from, const std::string &to) {
    signature = text;
    size_t at = signature.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    signature.replace(at, from.size(), to);
    model.signature = signature.c_str();
  };
  broken(R"("sequence_lengths":[16,4,8])", R"("sequence_lengths":[16,4,2])");
  expectError({"[MASK]"}, "model signature: a text-encoding model needs an "
                          "entry 'encode_2' (entries: 'encode_4', "
                          "'encode_8', 'encode_16', 'mlm_head')");
  broken(R"("sequence_lengths":[16,4,8])", R"("sequence_lengths":[16,4,32])");
  expectError({"[MASK]"}, "model metadata: 'sequence_lengths' must hold "
                          "positive integers up to max_length 16, found 32");
  broken(R"("hidden_size":10)", R"("hidden_size":12)");
  expectError({"[MASK]"}, "model signature: entry 'encode_4': output 'hidden' "
                          "is f32 [2,4,10], expected f32 [2,4,12]");
  broken(R"("batch_size":2)", R"("batch_size":0)");
  expectError({"[MASK]"},
              "model metadata: 'batch_size' must be a positive integer");
  broken(R"("head":"masked-lm")", R"("head":"qa")");
  expectError({"[MASK]"}, "model metadata: unknown head 'qa' (this runtime "
                          "knows base, masked-lm, next-sentence, "
                          "pretraining, sequence-classification and "
                          "token-classification)");
  broken(R"("vocab_size":49)", R"("vocab_size":50)");
  expectError({"[MASK]"}, "model signature: entry 'mlm_head': output "
                          "'logits' is f32 [1,49], expected f32 [1,50]");
  broken(R"({"name":"lengths")", R"({"name":"length")");
  expectError({"[MASK]"}, "model signature: entry 'encode_4' has no input "
                          "'lengths' (i64 [2])");
  broken(R"("head":"masked-lm")", R"("head":"sequence-classification")");
  expectError({"[MASK]"}, "model signature: entry 'encode_4' has no output "
                          "'logits' (f32 [2,1])");
  broken(R"("tokenizer":{"kind")", R"("tokenizer":7,"x":{"kind")");
  expectError({"[MASK]"}, "model metadata: 'tokenizer' must be an object");
  // The tokenizer file must be embedded.
  model.signature = text.c_str();
  std::vector<KilnEmbeddedFile> noTokenizer = {files[0]};
  model.embeddedFiles = noTokenizer.data();
  model.embeddedFileCount = 1;
  MainResult r = run({"[MASK]"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("tokenizer.json"), std::string::npos) << r.err;
  EXPECT_TRUE(fake.calls.empty());
}

TEST_F(TextEncodingTest, AppMainDispatchesOnTheTask) {
  fake = EncoderFake();
  MainResult r =
      runCommandLine(runAppMain, model, {"The capital of France is [MASK]."});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("filled: the capital of france is lyon.\n"),
            std::string::npos)
      << r.out;
}
