//===- ModelMainTest.cpp - The command line of generated executables ------===//
//
// Drives runModelMain with fake models written here, reading MLIR memref
// descriptors like generated code: a one-entry model computing
// y = x + w + ids[i] and n = ids[0] + ids[1], and a two-entry model with
// states and weights in two safetensors shards.
//
//===----------------------------------------------------------------------===//

#include "runtime/apps/ModelMain.h"
#include "runtime/support/Npy.h"
#include "runtime/threads/ThreadPool.h"

#include "AccumulatorModel.h"
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cstring>
#include <regex>
#include <sstream>
#include <vector>

using namespace kiln;
using namespace kiln::test;

namespace {

const char *kSignature =
    R"({"entries":[{"name":"forward","args":[)"
    R"({"name":"x","role":"input","dtype":"f32","shape":[2,3]},)"
    R"({"name":"w","role":"weight","dtype":"f32","shape":[3]},)"
    R"({"name":"ids","role":"input","dtype":"i64","shape":[2]},)"
    R"({"name":"out/y","role":"output","dtype":"f32","shape":[2,3]},)"
    R"({"name":"n","role":"output","dtype":"i64","shape":[]}]}]})";

template <int Rank> struct Descriptor {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];
};
struct Descriptor0 {
  void *allocated;
  void *aligned;
  int64_t offset;
};

struct Seen {
  int calls = 0;
  const void *weights = nullptr;
  int maxThreads = 0;
  bool descriptorsOk = true;
} seen;

extern "C" void fakeEntry(void **args) {
  auto *x = static_cast<Descriptor<2> *>(args[0]);
  auto *w = static_cast<Descriptor<1> *>(args[1]);
  auto *ids = static_cast<Descriptor<1> *>(args[2]);
  auto *y = static_cast<Descriptor<2> *>(args[3]);
  auto *n = static_cast<Descriptor0 *>(args[4]);
  ++seen.calls;
  seen.weights = w->aligned;
  seen.maxThreads = ThreadPool::global().numThreads();
  for (void *p : {x->aligned, w->aligned, ids->aligned, y->aligned, n->aligned})
    if (reinterpret_cast<uintptr_t>(p) % 64 != 0)
      seen.descriptorsOk = false;
  if (x->sizes[0] != 2 || x->sizes[1] != 3 || x->strides[0] != 3 ||
      x->strides[1] != 1 || x->offset != 0 || w->sizes[0] != 3 ||
      w->strides[0] != 1 || y->strides[0] != 3 || x->allocated != x->aligned)
    seen.descriptorsOk = false;
  const float *xs = static_cast<const float *>(x->aligned);
  const float *ws = static_cast<const float *>(w->aligned);
  const int64_t *is = static_cast<const int64_t *>(ids->aligned);
  float *ys = static_cast<float *>(y->aligned);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      ys[i * 3 + j] = xs[i * 3 + j] + ws[j] + static_cast<float>(is[i]);
  *static_cast<int64_t *>(n->aligned) = is[0] + is[1];
}

const EntryFunction kEntries[] = {fakeEntry};

struct Result {
  int status;
  std::string out, err;
};

Result runMain(const ModelSymbols &model, std::vector<std::string> args) {
  args.insert(args.begin(), "/path/to/model");
  std::vector<char *> argv;
  for (std::string &arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::ostringstream out, err;
  seen = Seen();
  int status =
      runModelMain(model, static_cast<int>(args.size()), argv.data(), out, err);
  return {status, out.str(), err.str()};
}

/// A safetensors image whose data section starts 64-byte aligned (relative
/// to the image) when `alignData` is set; tensor "w" is stored as `dtype`.
std::string weightsImage(const std::string &dtype, bool alignData,
                         const std::string &name = "w",
                         const std::string &shape = "[3]") {
  std::string data;
  if (dtype == "F16") {
    uint16_t w[3] = {0x3c00, 0x4000, 0x4200}; // 1, 2, 3
    data = rawBytes(w, 3);
  } else {
    float w[3] = {1, 2, 3};
    data = rawBytes(w, 3);
  }
  std::string header = "{\"" + name + "\":{\"dtype\":\"" + dtype +
                       "\",\"shape\":" + shape + ",\"data_offsets\":[0," +
                       std::to_string(data.size()) + "]}}";
  size_t pad = (64 - (8 + header.size()) % 64) % 64;
  header.append(alignData ? pad : pad + 4, ' ');
  return makeSafetensors(header, data);
}

class ModelMainTest : public ::testing::Test {
protected:
  void SetUp() override {
    savedThreads = ThreadPool::global().numThreads();
    model.signature = kSignature;
    model.entries = kEntries;
    model.entryCount = 1;
    float x[6] = {0.5f, 1, 2, 3, 4, 5};
    xPath = dir.file("x.npy");
    ASSERT_FALSE(writeNpy(xPath, TensorView{DType::F32, {2, 3}, x}));
    int64_t ids[2] = {10, 20};
    idsPath = dir.file("ids.npy");
    ASSERT_FALSE(writeNpy(idsPath, TensorView{DType::I64, {2}, ids}));
    weightsPath = dir.file("w.safetensors");
    writeFile(weightsPath, weightsImage("F32", true));
  }
  void TearDown() override { ThreadPool::global().setNumThreads(savedThreads); }

  std::vector<std::string> goodArgs() {
    return {"--input", "x=" + xPath, "--input=ids=" + idsPath, "--weights",
            weightsPath};
  }

  /// Expects status 1 and exactly `message` as the one line on stderr.
  void expectError(const std::vector<std::string> &args,
                   const std::string &message) {
    Result r = runMain(model, args);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "error: " + message + "\n");
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(seen.calls, 0);
  }

  TempDir dir;
  ModelSymbols model;
  std::string xPath, idsPath, weightsPath;
  int savedThreads = 1;
};

} // namespace

TEST_F(ModelMainTest, PrintsOutputs) {
  Result r = runMain(model, goodArgs());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, "out/y: f32 [2,3] = [11.5, 13, 15, 24, 26, 28]\n"
                   "n: i64 [] = 30\n");
  EXPECT_EQ(seen.calls, 1);
  EXPECT_TRUE(seen.descriptorsOk);
}

TEST_F(ModelMainTest, WritesOutputFiles) {
  std::string outDir = dir.file("results/nested");
  std::vector<std::string> args = goodArgs();
  args.insert(args.end(), {"--output", outDir});
  Result r = runMain(model, args);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  // '/' in an output name must not escape the directory.
  Expected<Tensor> y = readNpy(outDir + "/out_y.npy");
  ASSERT_TRUE(y) << y.message();
  EXPECT_EQ(y->shape, (Shape{2, 3}));
  EXPECT_EQ(static_cast<float *>(y->data())[5], 28.0f);
  Expected<Tensor> n = readNpy(outDir + "/n.npy");
  ASSERT_TRUE(n) << n.message();
  EXPECT_EQ(n->dtype, DType::I64);
  EXPECT_TRUE(n->shape.empty());
  EXPECT_EQ(*static_cast<int64_t *>(n->data()), 30);
}

TEST_F(ModelMainTest, InputErrors) {
  expectError({"--input", "x=" + xPath, "--weights", weightsPath},
              "missing input 'ids' (i64 [2]); pass each input as --input "
              "NAME=FILE.npy");
  std::vector<std::string> args = goodArgs();
  args.insert(args.end(), {"--input", "z=" + xPath});
  expectError(args, "unknown input 'z' (inputs: 'x', 'ids')");
  args = goodArgs();
  args.insert(args.end(), {"--input", "w=" + xPath});
  expectError(args, "'w' is a weight of the model, not an input (inputs: "
                    "'x', 'ids')");
  args = goodArgs();
  args.insert(args.end(), {"--input", "x=other.npy"});
  expectError(args, "input 'x' given twice (" + xPath + " and other.npy)");

  expectError({"--input", "x=" + idsPath, "--input", "ids=" + idsPath},
              "input 'x' (" + idsPath + "): expected f32 [2,3], got i64 [2]");
  float small[2] = {1, 2};
  std::string smallPath = dir.file("small.npy");
  ASSERT_FALSE(writeNpy(smallPath, TensorView{DType::F32, {2}, small}));
  expectError({"--input", "x=" + smallPath, "--input", "ids=" + idsPath},
              "input 'x' (" + smallPath + "): expected f32 [2,3], got f32 [2]");
  int32_t ids32[2] = {1, 2};
  std::string ids32Path = dir.file("ids32.npy");
  ASSERT_FALSE(writeNpy(ids32Path, TensorView{DType::I32, {2}, ids32}));
  expectError({"--input", "x=" + xPath, "--input", "ids=" + ids32Path},
              "input 'ids' (" + ids32Path +
                  "): expected i64 [2], got i32 [2] (integer inputs must "
                  "have exactly this type; convert with .astype(np.int64))");
  std::string junk = dir.file("junk.npy");
  writeFile(junk, "hello");
  expectError({"--input", "x=" + junk, "--input", "ids=" + idsPath},
              "input 'x': " + junk +
                  ": not a .npy file: expected magic \"\\x93NUMPY\", found "
                  "\"hello\"");
  expectError(
      {"--input", "x=" + dir.file("none.npy"), "--input", "ids=" + idsPath},
      "input 'x': cannot open " + dir.file("none.npy") +
          ": No such file or directory");
}

TEST_F(ModelMainTest, OptionErrors) {
  expectError({"--threads", "0"},
              "--threads expects an integer from 1 to 1024, got '0'");
  expectError({"--threads=abc"},
              "--threads expects an integer from 1 to 1024, got 'abc'");
  expectError({"--bench", "-1"},
              "--bench expects a number of runs from 1 to 1000000, got '-1'");
  expectError({"--input", "x"}, "--input expects NAME=FILE.npy, got 'x'");
  expectError({"--input"}, "option --input needs a value (see --help)");
  expectError({"--frobnicate"}, "unknown argument '--frobnicate' (see --help)");
  expectError({"extra"}, "unknown argument 'extra' (see --help)");
}

TEST_F(ModelMainTest, WeightErrors) {
  std::vector<std::string> inputs = {"--input", "x=" + xPath, "--input",
                                     "ids=" + idsPath};
  expectError(inputs, "the model needs 1 weight tensor but has no embedded "
                      "weights and no default weights file; pass --weights "
                      "FILE.safetensors");
  std::vector<std::string> args = inputs;
  args.insert(args.end(), {"--weights", dir.file("none.safetensors")});
  expectError(args, "cannot open " + dir.file("none.safetensors") +
                        ": No such file or directory");

  std::string other = dir.file("other.safetensors");
  writeFile(other, weightsImage("F32", true, "v"));
  args = inputs;
  args.insert(args.end(), {"--weights", other});
  expectError(args, "weight 'w' not found in " + other);

  writeFile(other, weightsImage("F32", true, "w", "[1,3]"));
  expectError(args, "weight 'w' in " + other +
                        ": expected f32 [3], got f32 [1,3] (F32)");

  model.defaultWeightsPath = "/nonexistent/model.safetensors";
  expectError(inputs, "cannot open /nonexistent/model.safetensors: No such "
                      "file or directory (the model's default weights file; "
                      "pass --weights FILE.safetensors)");
}

TEST_F(ModelMainTest, WeightSources) {
  std::vector<std::string> inputs = {"--input", "x=" + xPath, "--input",
                                     "ids=" + idsPath};
  const std::string expected =
      "out/y: f32 [2,3] = [11.5, 13, 15, 24, 26, 28]\nn: i64 [] = 30\n";

  // Embedded, 64-byte aligned f32: used in place.
  std::string image = weightsImage("F32", true);
  alignas(64) static unsigned char blob[4096];
  ASSERT_LT(image.size(), sizeof blob);
  std::memcpy(blob, image.data(), image.size());
  KilnEmbeddedFile files[] = {{"vocab.json", blob, 0},
                              {"model.safetensors", blob, image.size()}};
  model.embeddedFiles = files;
  model.embeddedFileCount = 2;
  Result r = runMain(model, inputs);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, expected);
  EXPECT_GE(static_cast<const unsigned char *>(seen.weights), blob);
  EXPECT_LT(static_cast<const unsigned char *>(seen.weights),
            blob + image.size());

  // Embedded but misaligned: copied to an aligned buffer.
  image = weightsImage("F32", false);
  std::memcpy(blob, image.data(), image.size());
  files[1].size = image.size();
  r = runMain(model, inputs);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, expected);
  EXPECT_TRUE(static_cast<const unsigned char *>(seen.weights) < blob ||
              static_cast<const unsigned char *>(seen.weights) >=
                  blob + image.size());
  EXPECT_TRUE(seen.descriptorsOk);

  // F16 weights are converted to the f32 the signature wants.
  image = weightsImage("F16", false);
  std::memcpy(blob, image.data(), image.size());
  files[1].size = image.size();
  r = runMain(model, inputs);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, expected);

  // --weights wins over embedded weights.
  std::string other = dir.file("other.safetensors");
  writeFile(other, weightsImage("F32", true, "v"));
  std::vector<std::string> args = inputs;
  args.insert(args.end(), {"--weights", other});
  r = runMain(model, args);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: weight 'w' not found in " + other + "\n");

  // The default path is used when nothing else is there.
  model.embeddedFiles = nullptr;
  model.embeddedFileCount = 0;
  model.defaultWeightsPath = weightsPath.c_str();
  r = runMain(model, inputs);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, expected);

  // Embedded weights that are not a safetensors image.
  model.embeddedFiles = files;
  model.embeddedFileCount = 2;
  files[1].size = 5;
  r = runMain(model, inputs);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: embedded model.safetensors: not a safetensors "
                   "file: 5 bytes, expected at least 8 (the header length)\n");
}

TEST_F(ModelMainTest, HelpAndSignature) {
  Result r = runMain(model, {"--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("usage: model [--entry NAME] [--input NAME=FILE.npy]"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("inputs:\n  x      f32 [2,3]\n  ids    i64 [2]\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("outputs:\n  out/y  f32 [2,3]\n  n      i64 []\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("weights: 1 tensor, --weights FILE.safetensors "
                       "required"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(seen.calls, 0);

  r = runMain(model, {"--signature"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, std::string(kSignature) + "\n");

  ModelSymbols broken = model;
  broken.signature = "{\"entries\": 3}";
  r = runMain(broken, {"--help"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: model signature: expected an 'entries' array\n");
}

TEST_F(ModelMainTest, ThreadsAndBench) {
  std::vector<std::string> args = goodArgs();
  args.insert(args.end(), {"--threads", "3", "--bench", "4"});
  Result r = runMain(model, args);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(seen.calls, 5);
  EXPECT_EQ(seen.maxThreads, 3);
  EXPECT_TRUE(std::regex_match(
      r.err, std::regex("start-up: [0-9.]+ ms, peak RSS: [0-9.]+ MB\n"
                        "bench: median [0-9.]+ ms, min [0-9.]+ ms over 4 "
                        "runs\nthreads: [0-9]+\n")))
      << r.err;
  EXPECT_NE(r.out.find("n: i64 [] = 30"), std::string::npos);
}

TEST_F(ModelMainTest, OutputDirectoryErrors) {
  std::string file = dir.file("plain");
  writeFile(file, "x");
  std::vector<std::string> args = goodArgs();
  args.insert(args.end(), {"--output", file});
  Result r = runMain(model, args);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.rfind("error: cannot create directory " + file, 0), 0u)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

namespace {

class MultiEntryTest : public ::testing::Test {
protected:
  void SetUp() override {
    accumulatorSeen = AccumulatorSeen();
    model = accumulatorModel();
    shardW = dir.file("w.safetensors");
    shardB = dir.file("b.safetensors");
    writeFile(shardW, accumulatorShardW());
    writeFile(shardB, accumulatorShardB(false));
    float ones[3] = {1, 1, 1};
    xPath = dir.file("x.npy");
    ASSERT_FALSE(writeNpy(xPath, TensorView{DType::F32, {3}, ones}));
  }

  MainResult run(const std::vector<std::string> &args) {
    accumulatorSeen = AccumulatorSeen();
    return runCommandLine(runModelMain, model, args);
  }
  void expectError(const std::vector<std::string> &args,
                   const std::string &message) {
    MainResult r = run(args);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "error: " + message + "\n");
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(accumulatorSeen.initCalls + accumulatorSeen.stepCalls, 0);
  }

  TempDir dir;
  ModelSymbols model;
  std::string shardW, shardB, xPath;
};

} // namespace

TEST_F(MultiEntryTest, EntrySelection) {
  std::vector<std::string> args = {"--input", "x=" + xPath, "--weights",
                                   shardW,    "--weights",  shardB};
  expectError(args, "the model has 2 entries; pass --entry NAME (entries: "
                    "'init', 'step')");
  args.insert(args.end(), {"--entry", "decode"});
  expectError(args, "unknown entry 'decode' (entries: 'init', 'step')");
  expectError({"--entry", "decode", "--help"},
              "unknown entry 'decode' (entries: 'init', 'step')");
  expectError({"--entry="}, "--entry expects an entry name, got ''");

  args.back() = "init";
  MainResult r = run(args);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "y: f32 [3] = [1, 2, 3]\nacc: f32 [3] = [1, 2, 3]\n");
  EXPECT_EQ(accumulatorSeen.initCalls, 1);
  EXPECT_EQ(accumulatorSeen.stepCalls, 0);
}

TEST_F(MultiEntryTest, StatesAreInputsAndOutputs) {
  float start[3] = {1, 1, 1};
  std::string accPath = dir.file("acc.npy");
  ASSERT_FALSE(writeNpy(accPath, TensorView{DType::F32, {3}, start}));
  std::string outDir = dir.file("out");
  // Sharded weights: one --weights per shard.
  MainResult r = run({"--entry", "step", "--input", "x=" + xPath, "--input",
                      "acc=" + accPath, "--weights", shardW, "--weights",
                      shardB, "--output", outDir});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  Expected<Tensor> y = readNpy(outDir + "/y.npy");
  ASSERT_TRUE(y) << y.message();
  const float *ys = static_cast<const float *>(y->data());
  EXPECT_EQ(std::vector<float>(ys, ys + 3), (std::vector<float>{12, 23, 34}));
  Expected<Tensor> acc = readNpy(outDir + "/acc.npy");
  ASSERT_TRUE(acc) << acc.message();
  EXPECT_EQ(static_cast<const float *>(acc->data())[2], 34);
  Expected<Tensor> count = readNpy(outDir + "/count.npy");
  ASSERT_TRUE(count) << count.message();
  EXPECT_EQ(count->dtype, DType::I64);
  EXPECT_EQ(*static_cast<const int64_t *>(count->data()), 1);

  // States not given start at zero and are printed after the outputs.
  r = run({"--entry", "step", "--input", "x=" + xPath, "--weights", shardW,
           "--weights", shardB});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "y: f32 [3] = [11, 22, 33]\nacc: f32 [3] = [11, 22, 33]\n"
                   "count: i64 [] = 1\n");

  std::vector<std::string> base = {"--entry", "step",      "--weights",
                                   shardW,    "--weights", shardB,
                                   "--input", "x=" + xPath};
  std::vector<std::string> args = base;
  args.insert(args.end(),
              {"--input", "acc=" + xPath, "--input", "acc=" + accPath});
  expectError(args,
              "state 'acc' given twice (" + xPath + " and " + accPath + ")");
  args = base;
  args.insert(args.end(), {"--input", "z=" + xPath});
  expectError(args, "unknown input 'z' (inputs: 'x'; states: 'acc', "
                    "'count')");
  args = base;
  args.insert(args.end(), {"--input", "count=" + xPath});
  expectError(args,
              "state 'count' (" + xPath + "): expected i64 [], got f32 [3]");
  args = base;
  args.insert(args.end(), {"--input", "y=" + xPath});
  expectError(args, "'y' is an output of the model, not an input (inputs: "
                    "'x'; states: 'acc', 'count')");
  args = {"--entry", "step", "--input", "x=" + xPath, "--weights", shardW};
  expectError(args, "weight 'b' not found in " + shardW);
}

TEST_F(MultiEntryTest, Help) {
  MainResult r = run({"--help"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("usage: model --entry NAME [--input NAME=FILE.npy]"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("entries (pass --entry NAME --help for details):\n"
                       "  init: inputs 'x'; outputs 'y'\n"
                       "  step: inputs 'x'; outputs 'y'\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("weights: 2 tensors, --weights FILE.safetensors "
                       "required"),
            std::string::npos)
      << r.out;

  std::string list = shardW + "\n" + shardB;
  model.defaultWeightsPath = list.c_str();
  r = run({"--help", "--entry", "step"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Runs entry 'step' of the compiled model."),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("inputs:\n  x      f32 [3]\n\noutputs:\n"
                       "  y      f32 [3]\n\nstates:\n  acc    f32 [3]\n"
                       "  count  i64 []\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("weights: 2 tensors, read from " + shardW + ", " +
                       shardB + " unless --weights is given"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(accumulatorSeen.initCalls + accumulatorSeen.stepCalls, 0);
}
