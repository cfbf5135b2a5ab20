//===- TextGenerationTest.cpp - The text-generation command line ----------===//
//
// Drives runTextGeneration (and runAppMain) with a fake language model
// written here in C++ and the tiny tokenizer of test/fixtures/runtime
// (vocab 268, <|endoftext|> = 267). The fake:
//   prefill_<B> (B = 1, 4, 8): cache.0.key[i] = {ids[i], 1},
//       cache.0.value[i] = {i, 1}; hidden[i] = {ids[i], i, 0, 0};
//   decode: checks that positions 0..position-1 of the cache are filled,
//       writes position, hidden = {id, position, filled positions, 0};
//   lm_head: logits[v] = scale * (5 - ((v - t - 1) mod V)) for t = hidden[0],
//       so token (t + 1) % V is the most likely, then t + 2, ...; all logits
//       are 0 for t = 100 (a tie: greedy must pick id 0).
// Context 12 tokens, hidden size 4, weight lm.scale = 1 embedded.
//
//===----------------------------------------------------------------------===//

#include "runtime/apps/TextGeneration.h"
#include "runtime/support/Npy.h"
#include "runtime/session/Session.h"
#include "runtime/threads/ThreadPool.h"
#include "runtime/apps/AppMain.h"

#include "AccumulatorModel.h"
#include "TestUtil.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <regex>
#include <string>
#include <vector>

using namespace kiln;
using namespace kiln::test;

namespace {

constexpr int64_t kVocab = 268;
constexpr int64_t kHidden = 4;
constexpr int64_t kContext = 12;
constexpr int32_t kEos = 267;

/// What the fake entries saw.
struct LmSeen {
  std::vector<int64_t> prefillBuckets;
  std::vector<std::vector<int64_t>> prefillIds;
  std::vector<int64_t> decodeIds, decodePositions;
  int lmHeadCalls = 0;
  std::vector<std::string> problems;
  int maxThreads = 0;
} lmSeen;

void *data(void **args, int i) { return static_cast<void **>(args[i])[1]; }
int64_t size(void **args, int i, int dim) {
  return static_cast<int64_t *>(args[i])[3 + dim];
}

// Argument order: ids, weights/states, output, as the compiler might emit.
// prefill: ids, cache.0.key, cache.0.value, hidden.
template <int B> void prefill(void **args) {
  auto *ids = static_cast<const int64_t *>(data(args, 0));
  auto *key = static_cast<float *>(data(args, 1));
  auto *value = static_cast<float *>(data(args, 2));
  auto *hidden = static_cast<float *>(data(args, 3));
  lmSeen.prefillBuckets.push_back(B);
  lmSeen.prefillIds.emplace_back(ids, ids + B);
  lmSeen.maxThreads = ThreadPool::global().numThreads();
  if (size(args, 0, 1) != B || size(args, 3, 1) != B)
    lmSeen.problems.push_back("prefill: wrong descriptor sizes");
  for (int i = 0; i < B; ++i) {
    key[i * 2] = static_cast<float>(ids[i]);
    key[i * 2 + 1] = 1;
    value[i * 2] = static_cast<float>(i);
    value[i * 2 + 1] = 1;
    float row[kHidden] = {static_cast<float>(ids[i]), static_cast<float>(i), 0,
                          0};
    std::memcpy(hidden + i * kHidden, row, sizeof row);
  }
}

// decode: position, cache.0.key, ids, cache.0.value, hidden.
void decode(void **args) {
  int64_t position = *static_cast<const int64_t *>(data(args, 0));
  auto *key = static_cast<float *>(data(args, 1));
  int64_t id = *static_cast<const int64_t *>(data(args, 2));
  auto *value = static_cast<float *>(data(args, 3));
  auto *hidden = static_cast<float *>(data(args, 4));
  lmSeen.decodeIds.push_back(id);
  lmSeen.decodePositions.push_back(position);
  if (position < 0 || position >= kContext) {
    lmSeen.problems.push_back("decode: position " + std::to_string(position) +
                              " outside the cache");
    return;
  }
  float filled = 0;
  for (int64_t j = 0; j < position; ++j) {
    if (value[j * 2] != static_cast<float>(j) || value[j * 2 + 1] != 1)
      lmSeen.problems.push_back("decode at " + std::to_string(position) +
                                ": cache position " + std::to_string(j) +
                                " not written");
    filled += value[j * 2 + 1];
  }
  key[position * 2] = static_cast<float>(id);
  key[position * 2 + 1] = 1;
  value[position * 2] = static_cast<float>(position);
  value[position * 2 + 1] = 1;
  float row[kHidden] = {static_cast<float>(id), static_cast<float>(position),
                        filled + 1, 0};
  std::memcpy(hidden, row, sizeof row);
}

// lm_head: hidden, lm.scale, logits.
void lmHead(void **args) {
  auto *hidden = static_cast<const float *>(data(args, 0));
  float scale = *static_cast<const float *>(data(args, 1));
  auto *logits = static_cast<float *>(data(args, 2));
  ++lmSeen.lmHeadCalls;
  int64_t t = static_cast<int64_t>(hidden[0]);
  for (int64_t v = 0; v < kVocab; ++v) {
    int64_t distance = ((v - t - 1) % kVocab + kVocab) % kVocab;
    logits[v] = t == 100 ? 0.0f : scale * static_cast<float>(5 - distance);
  }
}

std::string signatureJson(const std::string &tokenizerFiles,
                          const std::string &extraMetadata = "") {
  std::string cache = R"({"name":"cache.0.key","role":"state","dtype":"f32",)"
                      R"("shape":[1,1,12,2]})";
  std::string value = R"({"name":"cache.0.value","role":"state",)"
                      R"("dtype":"f32","shape":[1,1,12,2]})";
  std::string entries;
  for (int b : {1, 4, 8}) {
    std::string n = std::to_string(b);
    entries += R"({"name":"prefill_)" + n + R"(","args":[)" +
               R"({"name":"ids","role":"input","dtype":"i64","shape":[1,)" + n +
               "]}," + cache + "," + value +
               R"(,{"name":"hidden","role":"output","dtype":"f32",)"
               R"("shape":[1,)" +
               n + ",4]}]},";
  }
  entries +=
      R"({"name":"decode","args":[)"
      R"({"name":"position","role":"input","dtype":"i64","shape":[1,1]},)" +
      cache + R"(,{"name":"ids","role":"input","dtype":"i64","shape":[1,1]},)" +
      value +
      R"(,{"name":"hidden","role":"output","dtype":"f32","shape":[1,1,4]}]},)"
      R"({"name":"lm_head","args":[)"
      R"({"name":"hidden","role":"input","dtype":"f32","shape":[1,4]},)"
      R"({"name":"lm.scale","role":"weight","dtype":"f32","shape":[1]},)"
      R"({"name":"logits","role":"output","dtype":"f32","shape":[1,268]}]})";
  return R"({"entries":[)" + entries +
         R"(],"metadata":{"task":"text-generation","family":"fake",)"
         R"("context_length":12,"vocab_size":268,"hidden_size":4,)"
         R"("eos_token_id":267,"bos_token_id":267,)"
         R"("prefill_lengths":[8,1,4],)" +
         extraMetadata + R"("tokenizer":{"kind":"byte_level_bpe","files":)" +
         tokenizerFiles + "}}}";
}

const EntryFunction kLmEntries[] = {prefill<1>, prefill<4>, prefill<8>, decode,
                                    lmHead};

std::string fixture(const std::string &name) {
  return readFile(std::string(KILN_RUNTIME_FIXTURES_DIR) + "/" + name);
}

const unsigned char *bytes(const std::string &s) {
  return reinterpret_cast<const unsigned char *>(s.data());
}

class TextGenerationTest : public ::testing::Test {
protected:
  void SetUp() override {
    savedThreads = ThreadPool::global().numThreads();
    vocab = fixture("vocab.json");
    merges = fixture("merges.txt");
    tokenizerJson = fixture("tokenizer.json");
    ASSERT_FALSE(vocab.empty());
    ASSERT_FALSE(merges.empty());
    weights = makeF32Safetensors({{"lm.scale", {1}}});
    signature = signatureJson(R"(["vocab.json","merges.txt"])");
    files = {{"model.safetensors", bytes(weights), weights.size()},
             {"vocab.json", bytes(vocab), vocab.size()},
             {"merges.txt", bytes(merges), merges.size()},
             {"tokenizer.json", bytes(tokenizerJson), tokenizerJson.size()}};
    model.signature = signature.c_str();
    model.entries = kLmEntries;
    model.entryCount = 5;
    model.embeddedFiles = files.data();
    model.embeddedFileCount = files.size();
  }
  void TearDown() override { ThreadPool::global().setNumThreads(savedThreads); }

  MainResult run(const std::vector<std::string> &args) {
    lmSeen = LmSeen();
    MainResult r = runCommandLine(runTextGeneration, model, args);
    EXPECT_EQ(lmSeen.problems, std::vector<std::string>{});
    return r;
  }
  /// Runs and expects success with nothing on stderr.
  std::string generate(const std::vector<std::string> &args) {
    MainResult r = run(args);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err, "");
    return r.out;
  }
  nlohmann::json generateJson(std::vector<std::string> args) {
    args.push_back("--json");
    MainResult r = run(args);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  void expectError(const std::vector<std::string> &args,
                   const std::string &message) {
    MainResult r = run(args);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "error: " + message + "\n");
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(lmSeen.prefillBuckets.empty());
  }
  static std::string ids(int64_t first, int64_t count) {
    std::string out;
    for (int64_t i = 0; i < count; ++i)
      out += (i ? " " : "") + std::to_string(first + i);
    return out;
  }

  TempDir dir;
  std::string vocab, merges, tokenizerJson, weights, signature;
  std::vector<KilnEmbeddedFile> files;
  ModelSymbols model;
  int savedThreads = 1;
};

} // namespace

TEST_F(TextGenerationTest, GreedySequence) {
  // "a" is token 64; the fake makes t + 1 the most likely next token.
  EXPECT_EQ(generate({"a", "-n", "5"}), "bcdef\n");
  EXPECT_EQ(lmSeen.prefillBuckets, (std::vector<int64_t>{1}));
  EXPECT_EQ(lmSeen.prefillIds[0], (std::vector<int64_t>{64}));
  // The fifth token needs no decode call.
  EXPECT_EQ(lmSeen.decodeIds, (std::vector<int64_t>{65, 66, 67, 68}));
  EXPECT_EQ(lmSeen.decodePositions, (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(lmSeen.lmHeadCalls, 5);

  // The default is 40 new tokens: here the context (12) stops it first.
  MainResult r = run({"--prompt", "a"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "bcdefghijkl\n");
  EXPECT_EQ(r.err, "note: the context of 12 tokens is full; stopped after "
                   "11 new tokens\n");

  // Greedy ties go to the lowest id: every logit is 0 after token 100.
  EXPECT_EQ(generate({"--ids", "100", "-n", "1"}), "!\n");

  // -n -1: until the context is full.
  r = run({"a", "-n", "-1"});
  EXPECT_EQ(r.out, "bcdefghijkl\n");
  EXPECT_NE(r.err.find("context of 12 tokens is full"), std::string::npos);
}

TEST_F(TextGenerationTest, StopsAtEos) {
  // hello(261) -> Ġw or Ġwor Ġworl Ġworld(266) -> <|endoftext|>(267).
  EXPECT_EQ(generate({"hello", "-n", "20"}), " wor wor worl world\n");
  EXPECT_EQ(lmSeen.decodeIds.back(), 266);
  nlohmann::json j = generateJson({"hello world", "-n", "20"});
  EXPECT_EQ(j["prompt_ids"], nlohmann::json({261, 266}));
  EXPECT_EQ(j["generated_ids"], nlohmann::json::array());
  EXPECT_EQ(j["text"], "");
  EXPECT_EQ(j["stop"], "eos");
  j = generateJson({"hello", "-n", "2"});
  EXPECT_EQ(j["generated_ids"], nlohmann::json({262, 263}));
  EXPECT_EQ(j["text"], " wor");
  EXPECT_EQ(j["stop"], "length");
}

TEST_F(TextGenerationTest, IgnoreEosGeneratesExactlyN) {
  // Without the flag "hello" stops after 5 tokens (at <|endoftext|>, 267);
  // with it the end token is emitted, fed to decode, and generation goes on
  // (267 -> 0 -> 1) until -n is reached.
  nlohmann::json j = generateJson({"hello", "-n", "8", "--ignore-eos"});
  EXPECT_EQ(j["generated_ids"],
            nlohmann::json({262, 263, 264, 265, 266, 267, 0, 1}));
  EXPECT_EQ(j["stop"], "length");
  EXPECT_EQ(j["timings"]["decode_tokens"], 7);
  EXPECT_EQ(lmSeen.decodeIds,
            (std::vector<int64_t>{262, 263, 264, 265, 266, 267, 0}));
  EXPECT_EQ(lmSeen.decodePositions,
            (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(generate({"hello", "-n", "7", "--ignore-eos"}),
            " wor wor worl world<|endoftext|>!\n");
  // An end token as the very first choice does not stop it either.
  j = generateJson({"hello world", "-n", "2", "--ignore-eos"});
  EXPECT_EQ(j["generated_ids"], nlohmann::json({267, 0}));
  // The context still bounds it.
  MainResult r = run({"hello", "-n", "20", "--ignore-eos"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "note: the context of 12 tokens is full; stopped after "
                   "11 new tokens\n");
  expectError({"--ignore-eos=yes"},
              "option --ignore-eos takes no value, got 'yes'");
  r = run({"--help"});
  EXPECT_NE(r.out.find("--ignore-eos"), std::string::npos) << r.out;
}

TEST_F(TextGenerationTest, EmptyPromptStartsFromBos) {
  nlohmann::json j = generateJson({"", "-n", "2"});
  EXPECT_EQ(j["prompt_ids"], nlohmann::json({kEos}));
  EXPECT_EQ(j["generated_ids"], nlohmann::json({0, 1}));
  EXPECT_EQ(j["text"], "!\"");
  j = generateJson({"-n", "1"});
  EXPECT_EQ(j["prompt_ids"], nlohmann::json({kEos}));
}

TEST_F(TextGenerationTest, LogitsOfThePrompt) {
  std::string path = dir.file("logits.npy");
  EXPECT_EQ(generate({"hello world", "-n", "0", "--logits", path}), "\n");
  EXPECT_TRUE(lmSeen.decodeIds.empty());
  Expected<Tensor> logits = readNpy(path);
  ASSERT_TRUE(logits) << logits.message();
  EXPECT_EQ(logits->dtype, DType::F32);
  ASSERT_EQ(logits->shape, (Shape{2, kVocab}));
  const float *values = static_cast<const float *>(logits->data());
  int64_t prompt[2] = {261, 266};
  for (int64_t row = 0; row < 2; ++row)
    for (int64_t v = 0; v < kVocab; ++v)
      ASSERT_EQ(values[row * kVocab + v],
                5 - ((v - prompt[row] - 1 + kVocab) % kVocab))
          << row << " " << v;

  // A prompt longer than the largest bucket (8): rows 8 and 9 come from
  // decode; generation continues from the right logits.
  nlohmann::json j =
      generateJson({"--ids", ids(10, 10), "-n", "1", "--logits", path});
  EXPECT_EQ(j["generated_ids"], nlohmann::json({20}));
  logits = readNpy(path);
  ASSERT_TRUE(logits) << logits.message();
  ASSERT_EQ(logits->shape, (Shape{10, kVocab}));
  values = static_cast<const float *>(logits->data());
  for (int64_t row = 0; row < 10; ++row) {
    const float *r = values + row * kVocab;
    EXPECT_EQ(std::max_element(r, r + kVocab) - r, 11 + row) << row;
  }

  // --step-logits: the logits each new token was chosen from, the final
  // end-of-text choice included.
  std::string steps = dir.file("steps.npy");
  j = generateJson({"--ids", "263", "-n", "9", "--step-logits", steps});
  EXPECT_EQ(j["generated_ids"], nlohmann::json({264, 265, 266}));
  logits = readNpy(steps);
  ASSERT_TRUE(logits) << logits.message();
  ASSERT_EQ(logits->shape, (Shape{4, kVocab}));
  values = static_cast<const float *>(logits->data());
  for (int64_t row = 0; row < 4; ++row) {
    const float *r = values + row * kVocab;
    EXPECT_EQ(std::max_element(r, r + kVocab) - r, 264 + row) << row;
  }
  EXPECT_EQ(generate({"a", "-n", "0", "--step-logits", steps}), "\n");
  logits = readNpy(steps);
  ASSERT_TRUE(logits) << logits.message();
  EXPECT_EQ(logits->shape, (Shape{0, kVocab}));

  MainResult r = run({"a", "--logits", dir.file("no/such/dir/l.npy")});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: cannot create " + dir.file("no/such/dir/l.npy") +
                       ": No such file or directory\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(TextGenerationTest, ContextOverflowAndTruncate) {
  expectError({"--ids", ids(0, 13)},
              "prompt has 13 tokens but the model's context is 12 tokens "
              "(use --truncate to keep the last tokens)");
  // --truncate keeps as much of the prompt as fits with the new tokens.
  nlohmann::json j = generateJson({"--ids", ids(0, 13), "-n", "3", "--truncate"});
  EXPECT_EQ(j["prompt_ids"].size(), 9u);
  EXPECT_EQ(j["prompt_ids"][0], 4);
  EXPECT_EQ(j["generated_ids"].size(), 3u);
  EXPECT_EQ(j["stop"], "length");
  // Prefill 8, then the ninth prompt token through decode.
  EXPECT_EQ(lmSeen.prefillBuckets, (std::vector<int64_t>{8}));
  EXPECT_EQ(lmSeen.decodePositions.front(), 8);
  EXPECT_EQ(lmSeen.decodeIds.front(), 12);
  // With -n 0 the whole context is prompt.
  j = generateJson({"--ids", ids(0, 13), "-n", "0", "--truncate"});
  EXPECT_EQ(j["prompt_ids"].size(), 12u);
  EXPECT_EQ(j["prompt_ids"][0], 1);

  MainResult r = run({"--ids", ids(0, 10), "-n", "5"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "+,\n"); // ids 10, 11
  EXPECT_EQ(r.err, "note: the context of 12 tokens is full; stopped after 2 "
                   "new tokens\n");
  EXPECT_EQ(lmSeen.decodePositions, (std::vector<int64_t>{8, 9, 10}));

  // Exactly filling the context is not a context stop.
  j = generateJson({"--ids", ids(0, 10), "-n", "2"});
  EXPECT_EQ(j["stop"], "length");
}

TEST_F(TextGenerationTest, IdsParsing) {
  nlohmann::json j = generateJson({"--ids", " 1,2 ,3\t4 ", "-n", "0"});
  EXPECT_EQ(j["prompt_ids"], nlohmann::json({1, 2, 3, 4}));
  expectError({"--ids", "1 x 2"}, "--ids: 'x' is not a token id");
  expectError({"--ids", "1 -2"}, "--ids: '-2' is not a token id");
  expectError({"--ids", "1 2.5"}, "--ids: '2.5' is not a token id");
  expectError({"--ids", "268"}, "--ids: token id 268 is out of range (the "
                                "model's vocabulary has 268 tokens)");
  expectError({"--ids", "99999999999999999999"},
              "--ids: '99999999999999999999' is not a token id");
  expectError({"--ids", " , "}, "--ids expects token ids separated by "
                                "spaces or commas, got ' , '");
  expectError({"--ids", "1", "hello"},
              "give either a prompt or --ids, not both");
  expectError({"--ids"}, "option --ids needs a value (see --help)");
}

TEST_F(TextGenerationTest, BucketChoice) {
  struct Case {
    int64_t length;
    int64_t bucket;
  } cases[] = {{1, 1}, {2, 4}, {4, 4}, {5, 8}, {8, 8}, {9, 8}};
  for (const Case &c : cases) {
    nlohmann::json j = generateJson({"--ids", ids(20, c.length), "-n", "2"});
    EXPECT_EQ(lmSeen.prefillBuckets, (std::vector<int64_t>{c.bucket}))
        << c.length;
    EXPECT_EQ(j["timings"]["prefill_bucket"], c.bucket);
    // Padding with id 0 after the prompt.
    std::vector<int64_t> expected(static_cast<size_t>(c.bucket), 0);
    for (int64_t i = 0; i < std::min(c.length, c.bucket); ++i)
      expected[i] = 20 + i;
    EXPECT_EQ(lmSeen.prefillIds[0], expected) << c.length;
    // Positions continue right after the prompt, whatever the padding.
    std::vector<int64_t> positions;
    for (int64_t p = std::min(c.length, c.bucket); p <= c.length; ++p)
      positions.push_back(p);
    EXPECT_EQ(lmSeen.decodePositions, positions) << c.length;
    EXPECT_EQ(j["generated_ids"],
              nlohmann::json({20 + c.length, 21 + c.length}));
  }
}

TEST_F(TextGenerationTest, SamplingIsDeterministicWithASeed) {
  std::vector<std::string> args = {"a",   "-n",     "8",   "--temperature",
                                   "1.5", "--seed", "1234"};
  std::string first = generate(args);
  EXPECT_EQ(generate(args), first);
  // With these logits, 8 draws at temperature 1.5 do not all pick t + 1.
  EXPECT_NE(first, "bcdefghi\n");
  nlohmann::json j = generateJson(args);
  EXPECT_EQ(j["seed"], 1234);
  EXPECT_EQ(j["text"].get<std::string>() + "\n", first);
  // Each decode call gets the token sampled before it.
  std::vector<int64_t> generated = j["generated_ids"];
  EXPECT_EQ(lmSeen.decodeIds,
            std::vector<int64_t>(generated.begin(), generated.end() - 1));

  // top-k 1 and a tiny top-p are greedy, whatever the seed.
  std::string greedy = generate({"a", "-n", "8"});
  EXPECT_EQ(greedy, "bcdefghi\n");
  EXPECT_EQ(generate({"a", "-n", "8", "--temperature", "2", "--top-k", "1",
                      "--seed", "7"}),
            greedy);
  EXPECT_EQ(
      generate({"a", "-n", "8", "--temperature", "3", "--top-p", "0.0001"}),
      greedy);
  // p(t + 1) = 0.63 at temperature 1: top-p 0.6 keeps it alone.
  EXPECT_EQ(generate({"a", "-n", "8", "--temperature", "1", "--top-p", "0.6",
                      "--seed", "99"}),
            greedy);
  // top-k 2 only ever picks t + 1 or t + 2.
  j = generateJson({"--ids", "10", "-n", "8", "--temperature", "5", "--top-k",
                    "2", "--seed", "3"});
  int64_t previous = 10;
  for (int64_t id : j["generated_ids"]) {
    EXPECT_TRUE(id == previous + 1 || id == previous + 2) << j.dump();
    previous = id;
  }
  // Without --seed a random seed is used and reported.
  j = generateJson({"a", "-n", "1", "--temperature", "1"});
  EXPECT_TRUE(j["seed"].is_number_unsigned());

  MainResult r = run({"a", "-n", "2", "--top-k", "5"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "bc\n");
  EXPECT_EQ(r.err, "warning: --top-k and --top-p apply only when sampling "
                   "(--temperature > 0); decoding greedily\n");
}

TEST_F(TextGenerationTest, OptionErrors) {
  expectError({"-n", "x"}, "-n expects a number of new tokens from 0 to "
                           "1000000000 (or -1: until the end of the "
                           "context), got 'x'");
  expectError({"--max-new-tokens=-2"},
              "--max-new-tokens expects a number of new tokens from 0 to "
              "1000000000 (or -1: until the end of the context), got '-2'");
  expectError({"--temperature", "-1"},
              "--temperature expects a number >= 0, got '-1'");
  expectError({"--temperature", "nan"},
              "--temperature expects a number >= 0, got 'nan'");
  expectError({"--top-p", "1.5"},
              "--top-p expects a number from 0 to 1 (1: off), got '1.5'");
  expectError({"--top-k", "-3"},
              "--top-k expects an integer >= 0 (0: off), got '-3'");
  expectError({"--seed", "18446744073709551616"},
              "--seed expects an integer from 0 to 18446744073709551615, got "
              "'18446744073709551616'");
  expectError({"--threads", "0"},
              "--threads expects an integer from 1 to 1024, got '0'");
  expectError({"--json=yes"}, "option --json takes no value, got 'yes'");
  expectError({"--frobnicate"}, "unknown argument '--frobnicate' (see "
                                "--help; put a prompt that starts with '-' "
                                "after --)");
  expectError({"one", "two"}, "unexpected argument 'two': the prompt is "
                              "already given (quote a prompt that has "
                              "spaces)");
  expectError({"-p", "one", "-p", "two"}, "the prompt is given twice");
  expectError({"--weights", dir.file("none.safetensors")},
              "cannot open " + dir.file("none.safetensors") +
                  ": No such file or directory");
  // A prompt that starts with '-', after --.
  MainResult r = run({"-n", "1", "--", "-a"});
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(TextGenerationTest, HelpBenchThreadsAndJson) {
  MainResult r = run({"--help"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("usage: model [PROMPT] [-n N] [--temperature T]", 0),
            0u)
      << r.out;
  EXPECT_NE(r.out.find("compiled fake model (context 12 tokens, vocabulary "
                       "268)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("weights: embedded in the executable"),
            std::string::npos);
  EXPECT_TRUE(lmSeen.prefillBuckets.empty());

  r = run({"a", "-n", "3", "--bench", "--threads", "2"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "bcd\n");
  EXPECT_EQ(lmSeen.maxThreads, 2);
  EXPECT_TRUE(std::regex_match(
      r.err, std::regex("start-up: [0-9.]+ ms, peak RSS: [0-9.]+ MB\n"
                        "prefill: [0-9.]+ ms for 1 token \\(bucket 1\\)\n"
                        "decode: [0-9.]+ tokens/s \\([0-9.]+ ms/token\\) "
                        "over 2 tokens\n")))
      << r.err;
  r = run({"--ids", ids(1, 10), "-n", "0", "--bench"});
  EXPECT_TRUE(std::regex_match(
      r.err, std::regex("start-up: [0-9.]+ ms, peak RSS: [0-9.]+ MB\n"
                        "prefill: [0-9.]+ ms for 10 tokens \\(bucket 8 \\+ "
                        "2 decode steps\\)\ndecode: no decode steps\n")))
      << r.err;

  nlohmann::json j = generateJson({"a", "-n", "3", "--seed", "5"});
  ASSERT_TRUE(j.is_object()) << j.dump();
  EXPECT_EQ(j["prompt_ids"], nlohmann::json({64}));
  EXPECT_EQ(j["generated_ids"], nlohmann::json({65, 66, 67}));
  EXPECT_EQ(j["text"], "bcd");
  EXPECT_EQ(j["seed"], 5);
  EXPECT_EQ(j["stop"], "length");
  for (const char *key : {"prefill_ms", "prefill_tokens", "prefill_bucket",
                          "decode_ms", "decode_tokens", "decode_tokens_per_s"})
    EXPECT_TRUE(j["timings"].contains(key)) << key;
  EXPECT_EQ(j["timings"]["decode_tokens"], 2);
}

TEST_F(TextGenerationTest, TokenizerJsonAndWeights) {
  signature = signatureJson(R"(["tokenizer.json"])");
  model.signature = signature.c_str();
  EXPECT_EQ(generate({"hello", "-n", "2"}), " wor\n");

  // External weights: --weights overrides the embedded file.
  std::string path = dir.file("scale.safetensors");
  writeFile(path, makeF32Safetensors({{"lm.scale", {-1}}}));
  // With scale -1 the order flips: t itself becomes the most likely.
  EXPECT_EQ(generate({"a", "-n", "2", "--weights", path}), "aa\n");
  files.erase(files.begin());
  model.embeddedFiles = files.data();
  model.embeddedFileCount = files.size();
  expectError({"a"}, "the model needs 1 weight tensor but has no embedded "
                     "weights and no default weights file; pass --weights "
                     "FILE.safetensors");
  model.defaultWeightsPath = path.c_str();
  EXPECT_EQ(generate({"a", "-n", "1"}), "a\n");
}

TEST_F(TextGenerationTest, ModelErrors) {
  std::vector<KilnEmbeddedFile> noMerges = {files[0], files[1]};
  model.embeddedFiles = noMerges.data();
  model.embeddedFileCount = noMerges.size();
  expectError({"a"}, "the tokenizer file 'merges.txt' is not embedded in the "
                     "executable");
  model.embeddedFiles = files.data();
  model.embeddedFileCount = files.size();

  std::string text = signatureJson(R"(["vocab.json","merges.txt"])");
  std::string broken = text;
  broken.replace(broken.find(R"("context_length":12)"), 19,
                 R"("context_length":-1)");
  model.signature = broken.c_str();
  expectError({"a"},
              "model metadata: 'context_length' must be a positive integer");
  broken = text;
  broken.replace(broken.find(R"("prefill_lengths":[8,1,4])"), 25,
                 R"("prefill_lengths":[8,1,16])");
  model.signature = broken.c_str();
  expectError({"a"}, "model metadata: 'prefill_lengths' must hold integers "
                     "from 1 to the context length 12, found 16");
  broken = text;
  broken.replace(broken.find(R"("prefill_lengths":[8,1,4])"), 25,
                 R"("prefill_lengths":[8,1,2])");
  model.signature = broken.c_str();
  expectError({"a"}, "model signature: a text-generation model needs an "
                     "entry 'prefill_2' (entries: 'prefill_1', 'prefill_4', "
                     "'prefill_8', 'decode', 'lm_head')");
  broken = text;
  broken.replace(broken.find(R"("hidden_size":4)"), 15, R"("hidden_size":5)");
  model.signature = broken.c_str();
  expectError({"a"}, "model signature: entry 'prefill_1': output 'hidden' is "
                     "f32 [1,1,4], expected f32 [1,1,5]");
  broken = text;
  broken.replace(broken.find(R"("kind":"byte_level_bpe")"), 23,
                 R"("kind":"wordpiece")");
  model.signature = broken.c_str();
  expectError({"a"}, "model metadata: unsupported tokenizer kind 'wordpiece' "
                     "(this runtime knows byte_level_bpe)");
  broken = text;
  broken.replace(broken.find(R"("eos_token_id":267)"), 18,
                 R"("eos_token_id":268)");
  model.signature = broken.c_str();
  expectError({"a"}, "model metadata: 'eos_token_id' must be a token id "
                     "below 268, a list of them or null, found 268");
  broken = text;
  broken.replace(broken.find(R"("bos_token_id":267)"), 18,
                 R"("bos_token_id":[1])");
  model.signature = broken.c_str();
  expectError({"a"}, "model metadata: 'bos_token_id' must be a token id "
                     "below 268 or null, found [1]");
  // A list of end tokens: generation stops at any of them.
  broken = text;
  broken.replace(broken.find(R"("eos_token_id":267)"), 18,
                 R"("eos_token_id":[70,267])");
  model.signature = broken.c_str();
  EXPECT_EQ(generate({"a", "-n", "20"}), "bcdef\n");
  // No end token at all: generation runs to the context's end.
  broken = text;
  broken.replace(broken.find(R"("eos_token_id":267)"), 18,
                 R"("eos_token_id":null)");
  model.signature = broken.c_str();
  MainResult r = run({"hello world", "-n", "3"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "<|endoftext|>!\"\n");
  broken = text;
  broken.replace(broken.find(R"({"name":"position")"), 18, R"({"name":"pos")");
  model.signature = broken.c_str();
  expectError({"a"}, "model signature: entry 'decode' has no input "
                     "'position' (i64 [1,1])");
}

TEST_F(TextGenerationTest, AppMainDispatchesOnTheTask) {
  lmSeen = LmSeen();
  MainResult r = runCommandLine(runAppMain, model, {"a", "-n", "2"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "bc\n");

  // No task: the generic .npy command line.
  ModelSymbols accumulator = accumulatorModel();
  r = runCommandLine(runAppMain, accumulator, {"--help"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("--input NAME=FILE.npy"), std::string::npos) << r.out;
  // An unreadable signature is reported by the generic main.
  accumulator.signature = "{";
  r = runCommandLine(runAppMain, accumulator, {});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.rfind("error: model signature: invalid JSON: ", 0), 0u)
      << r.err;
}
