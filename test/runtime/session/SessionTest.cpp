//===- SessionTest.cpp - Binding and running a compiled model -------------===//

#include "runtime/session/Session.h"

#include "AccumulatorModel.h"
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace kiln;
using namespace kiln::test;

namespace {

class SessionTest : public ::testing::Test {
protected:
  void SetUp() override {
    accumulatorSeen = AccumulatorSeen();
    model = accumulatorModel();
    shardW = dir.file("model-00001-of-00002.safetensors");
    shardB = dir.file("model-00002-of-00002.safetensors");
    writeFile(shardW, accumulatorShardW());
    writeFile(shardB, accumulatorShardB());
  }

  Session open(const std::vector<std::string> &paths) {
    Expected<Session> session = Session::create(model, paths);
    EXPECT_TRUE(session) << session.message();
    if (!session)
      std::abort();
    return std::move(*session);
  }

  TempDir dir;
  ModelSymbols model;
  std::string shardW, shardB;
};

Tensor f32(std::vector<float> values) {
  Tensor t = std::move(
      *Tensor::allocate(DType::F32, {static_cast<int64_t>(values.size())}));
  std::memcpy(t.data(), values.data(), values.size() * sizeof(float));
  return t;
}

std::vector<float> values(const TensorView &view) {
  const auto *p = static_cast<const float *>(view.data);
  return std::vector<float>(p, p + view.numElements());
}

} // namespace

TEST_F(SessionTest, StatesPersistAcrossCallsAndEntries) {
  Session session = open({shardW, shardB});
  EXPECT_EQ(session.signature().entries.size(), 2u);
  ASSERT_NE(session.entry("step"), nullptr);
  EXPECT_EQ(session.entry("step")->args.size(), 6u);
  EXPECT_EQ(session.entry("nope"), nullptr);
  EXPECT_EQ(session.signature().task, "test");
  EXPECT_EQ(session.signature().metadata, R"({"answer":42,"task":"test"})");

  // States start at zero.
  TensorView acc = session.state("acc");
  ASSERT_NE(acc.data, nullptr);
  EXPECT_EQ(acc.shape, (Shape{3}));
  EXPECT_EQ(values(acc), (std::vector<float>{0, 0, 0}));
  TensorView count = session.state("count");
  EXPECT_EQ(count.dtype, DType::I64);
  EXPECT_EQ(*static_cast<int64_t *>(count.data), 0);
  EXPECT_EQ(session.state("nope").data, nullptr);

  Tensor x = f32({1, 1, 1}), y = f32({0, 0, 0});
  ASSERT_FALSE(session.run("init", {{"x", x.view()}}, {{"y", y.view()}}));
  EXPECT_EQ(values(y.view()), (std::vector<float>{1, 2, 3}));
  ASSERT_FALSE(session.run("step", {{"x", x.view()}}, {{"y", y.view()}}));
  EXPECT_EQ(values(y.view()), (std::vector<float>{12, 24, 36}));
  ASSERT_FALSE(session.run("step", {{"x", x.view()}}, {{"y", y.view()}}));
  EXPECT_EQ(values(y.view()), (std::vector<float>{23, 46, 69}));
  EXPECT_EQ(values(session.state("acc")), (std::vector<float>{23, 46, 69}));
  EXPECT_EQ(*static_cast<int64_t *>(count.data), 2);

  // One state buffer and one weight binding, shared by both entries; the
  // aligned f32 weight is used in place from the mapping.
  EXPECT_EQ(accumulatorSeen.initAcc, accumulatorSeen.stepAcc);
  EXPECT_EQ(accumulatorSeen.initAcc, acc.data);
  EXPECT_EQ(accumulatorSeen.initW, accumulatorSeen.stepW);
  EXPECT_EQ(session.weight("w").data, accumulatorSeen.initW);
  EXPECT_EQ(values(session.weight("b")), (std::vector<float>{10, 20, 30}));
  EXPECT_EQ(session.weightsSource(), shardW + ", " + shardB);

  session.resetStates();
  EXPECT_EQ(values(acc), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(*static_cast<int64_t *>(count.data), 0);
}

TEST_F(SessionTest, BoundCallsAndUnalignedBuffers) {
  Session session = open({shardB, shardW});
  // Views that are not 64-byte aligned are staged through aligned copies.
  alignas(64) float storage[16] = {0, 2, 2, 2, 0, 0, 0, 0};
  TensorView x{DType::F32, {3}, storage + 1};
  TensorView y{DType::F32, {3}, storage + 5};
  Expected<BoundCall> init = session.bind("init", {{"x", x}}, {{"y", y}});
  ASSERT_TRUE(init) << init.message();
  Expected<BoundCall> step = session.bind("step", {{"x", x}}, {{"y", y}});
  ASSERT_TRUE(step) << step.message();
  (*init)();
  EXPECT_EQ(values(y), (std::vector<float>{2, 4, 6}));
  storage[1] = 0; // bound calls read the inputs at each call
  (*step)();
  EXPECT_EQ(values(y), (std::vector<float>{12, 28, 42}));
  EXPECT_EQ(accumulatorSeen.stepCalls, 1);
}

TEST_F(SessionTest, RunErrors) {
  Session session = open({shardW, shardB});
  Tensor x = f32({1, 1, 1}), y = f32({0, 0, 0}), small = f32({1, 2});
  auto expectError = [&](Error error, const std::string &message) {
    ASSERT_TRUE(error.isFailure());
    EXPECT_EQ(error.message(), message);
  };
  expectError(session.run("decode", {{"x", x.view()}}, {{"y", y.view()}}),
              "unknown entry 'decode' (entries: 'init', 'step')");
  expectError(session.run("init", {{"z", x.view()}}, {{"y", y.view()}}),
              "entry 'init': unknown input 'z' (inputs: 'x')");
  expectError(session.run("init", {{"acc", x.view()}}, {{"y", y.view()}}),
              "entry 'init': unknown input 'acc' (inputs: 'x')");
  expectError(session.run("init", {{"x", x.view()}}, {{"x", y.view()}}),
              "entry 'init': unknown output 'x' (outputs: 'y')");
  expectError(session.run("init", {{"x", x.view()}, {"x", x.view()}},
                          {{"y", y.view()}}),
              "entry 'init': input 'x' given twice");
  expectError(session.run("init", {}, {{"y", y.view()}}),
              "entry 'init': missing input 'x' (f32 [3])");
  expectError(session.run("init", {{"x", x.view()}}, {}),
              "entry 'init': missing output 'y' (f32 [3])");
  expectError(session.run("init", {{"x", small.view()}}, {{"y", y.view()}}),
              "entry 'init': input 'x': expected f32 [3], got f32 [2]");
  expectError(session.run("init", {{"x", {DType::I64, {3}, x.data()}}},
                          {{"y", y.view()}}),
              "entry 'init': input 'x': expected f32 [3], got i64 [3]");
  expectError(session.run("init", {{"x", {DType::F32, {3}, nullptr}}},
                          {{"y", y.view()}}),
              "entry 'init': input 'x' has no data");
  EXPECT_EQ(accumulatorSeen.initCalls, 0);
}

namespace {

extern "C" void copyIds(void **args) {
  const auto *ids = static_cast<const int64_t *>(memrefData(args, 0));
  auto *y = static_cast<int64_t *>(memrefData(args, 1));
  y[0] = ids[0];
  y[1] = ids[1];
}

} // namespace

TEST(SessionIndexTest, InputsOutsideTheirTableAreRefused) {
  static const EntryFunction entries[] = {copyIds};
  ModelSymbols model;
  model.signature =
      R"({"entries":[{"name":"lookup","args":[)"
      R"({"name":"ids","role":"input","dtype":"i64","shape":[2],)"
      R"("index_bound":4},)"
      R"({"name":"y","role":"output","dtype":"i64","shape":[2]}]}]})";
  model.entries = entries;
  model.entryCount = 1;
  Expected<Session> session = Session::create(model);
  ASSERT_TRUE(session) << session.message();
  int64_t ids[2] = {3, 4}, y[2] = {-1, -1};
  TensorView idsView{DType::I64, {2}, ids}, yView{DType::I64, {2}, y};
  Error error = session->run("lookup", {{"ids", idsView}}, {{"y", yView}});
  ASSERT_TRUE(error);
  EXPECT_EQ(error.message(),
            "entry 'lookup': input 'ids': index 4 at [1] is outside [0, 4)");
  EXPECT_EQ(y[0], -1) << "the entry must not run";
  ids[1] = 0;
  ASSERT_FALSE(session->run("lookup", {{"ids", idsView}}, {{"y", yView}}));
  EXPECT_EQ(y[0], 3);
}

TEST(SessionScratchTest, KernelScratchIsAllocatedAtCreation) {
  static const EntryFunction entries[] = {copyIds};
  const std::string entriesJson =
      R"("entries":[{"name":"lookup","args":[)"
      R"({"name":"ids","role":"input","dtype":"i64","shape":[2]},)"
      R"({"name":"y","role":"output","dtype":"i64","shape":[2]}]}])";
  ModelSymbols model;
  model.entries = entries;
  model.entryCount = 1;
  // Reserved now, so that the generated code's kernel calls never allocate.
  std::string fits =
      "{" + entriesJson + R"(,"kernel_scratch":{"gemm_depth":4096}})";
  model.signature = fits.c_str();
  Expected<Session> session = Session::create(model);
  ASSERT_TRUE(session) << session.message();
  // More than there is memory: an error of create, not of a later call.
  std::string huge = "{" + entriesJson + R"(,"kernel_scratch":{"gemm_depth":)" +
                     std::to_string(int64_t(1) << 58) + "}}";
  model.signature = huge.c_str();
  Expected<Session> failed = Session::create(model);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.message().rfind("out of memory: cannot allocate the "
                                   "kernels' scratch buffers for ",
                                   0),
            0u)
      << failed.message();
}

TEST_F(SessionTest, WeightsFromEmbeddedShards) {
  std::string w = accumulatorShardW(), b = accumulatorShardB(false);
  alignas(64) static unsigned char blobW[1024], blobB[1024];
  std::memcpy(blobW, w.data(), w.size());
  std::memcpy(blobB, b.data(), b.size());
  static const char vocab[] = "{}";
  KilnEmbeddedFile files[] = {
      {"vocab.json", reinterpret_cast<const unsigned char *>(vocab), 2},
      {"model-00001-of-00002.safetensors", blobW, w.size()},
      {"model-00002-of-00002.safetensors", blobB, b.size()}};
  model.embeddedFiles = files;
  model.embeddedFileCount = 3;
  // Ignored: embedded weights win over the default paths.
  model.defaultWeightsPath = "/nonexistent/a.safetensors";

  Session session = open({});
  EXPECT_EQ(session.weightsSource(),
            "embedded model-00001-of-00002.safetensors, embedded "
            "model-00002-of-00002.safetensors");
  // Aligned: in place. Misaligned: copied.
  const auto *wData =
      static_cast<const unsigned char *>(session.weight("w").data);
  EXPECT_TRUE(wData >= blobW && wData < blobW + w.size());
  const auto *bData =
      static_cast<const unsigned char *>(session.weight("b").data);
  EXPECT_FALSE(bData >= blobB && bData < blobB + b.size());
  EXPECT_EQ(values(session.weight("b")), (std::vector<float>{10, 20, 30}));

  std::optional<std::string_view> file = session.embeddedFile("vocab.json");
  ASSERT_TRUE(file);
  EXPECT_EQ(*file, "{}");
  EXPECT_FALSE(session.embeddedFile("merges.txt"));
  EXPECT_EQ(findEmbeddedFile(model, "vocab.json"), file);

  // Explicit paths override the embedded shards.
  Expected<Session> other = Session::create(model, {shardW});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.message(), "weight 'b' not found in " + shardW);
}

TEST_F(SessionTest, WeightsFromDefaultPaths) {
  std::string list = shardW + "\n\n" + shardB + "\n";
  model.defaultWeightsPath = list.c_str();
  Session session = open({});
  EXPECT_EQ(values(session.weight("b")), (std::vector<float>{10, 20, 30}));

  EXPECT_EQ(splitWeightsPaths("a\nb\r\n\nc"),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(splitWeightsPaths(nullptr).empty());
  EXPECT_TRUE(splitWeightsPaths("").empty());

  std::string missing = shardW + "\n/nonexistent/b.safetensors";
  model.defaultWeightsPath = missing.c_str();
  Expected<Session> broken = Session::create(model);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.message(),
            "cannot open /nonexistent/b.safetensors: No such file or "
            "directory (the model's default weights file; pass --weights "
            "FILE.safetensors)");
}

TEST_F(SessionTest, WeightErrors) {
  auto expectError = [&](const std::vector<std::string> &paths,
                         const std::string &message) {
    Expected<Session> session = Session::create(model, paths);
    ASSERT_FALSE(session);
    EXPECT_EQ(session.message(), message);
  };
  expectError({}, "the model needs 2 weight tensors but has no embedded "
                  "weights and no default weights file; pass --weights "
                  "FILE.safetensors");
  expectError({shardW}, "weight 'b' not found in " + shardW);
  expectError({shardW, shardB, shardW},
              "weight 'w' is in both " + shardW + " and " + shardW);
  std::string both = dir.file("both.safetensors");
  writeFile(both, makeF32Safetensors({{"w", {1, 2, 3}}, {"b", {1, 2}}}));
  expectError({both}, "weight 'b' in " + both +
                          ": expected f32 [3], got f32 [2] (F32)");
}

TEST_F(SessionTest, ModelObjectErrors) {
  ModelSymbols broken = model;
  broken.entryCount = 1;
  Expected<Session> session = Session::create(broken, {shardW, shardB});
  ASSERT_FALSE(session);
  EXPECT_EQ(session.message(), "the model object has 1 entry function but its "
                               "signature lists 2 entries");
  broken.entries = nullptr;
  session = Session::create(broken, {shardW, shardB});
  ASSERT_FALSE(session);
  EXPECT_EQ(session.message(),
            "the executable has no model (kiln_model_entries missing)");
  EntryFunction withNull[] = {accumulatorInit, nullptr};
  broken = model;
  broken.entries = withNull;
  session = Session::create(broken, {shardW, shardB});
  ASSERT_FALSE(session);
  EXPECT_EQ(session.message(),
            "the model object has no function for entry 'step'");
  broken = model;
  broken.signature = R"({"args":[]})";
  session = Session::create(broken);
  ASSERT_FALSE(session);
  EXPECT_EQ(session.message(),
            "model signature: expected an 'entries' array, found a version 1 "
            "signature (a single 'args' array); recompile the model");
}

namespace {

// prepare_weights(w) -> doubled = 2 * w; scale(x, doubled) -> y = x * doubled.
const char *kPreparedSignature =
    R"({"entries":[)"
    R"({"name":"scale","args":[)"
    R"({"name":"x","role":"input","dtype":"f32","shape":[3]},)"
    R"({"name":"packed.w","role":"weight","dtype":"f32","shape":[3]},)"
    R"({"name":"y","role":"output","dtype":"f32","shape":[3]},)"
    R"({"name":"kiln.arena","role":"scratch","dtype":"u8","shape":[4096]}]},)"
    R"({"name":"prepare_weights","args":[)"
    R"({"name":"w","role":"weight","dtype":"f32","shape":[3]},)"
    R"({"name":"packed.w","role":"output","dtype":"f32","shape":[3]},)"
    R"({"name":"kiln.arena","role":"scratch","dtype":"u8","shape":[8192]}]}]})";

int prepareCalls = 0;
void *prepareScratch = nullptr, *scaleScratch = nullptr;

extern "C" void prepareDouble(void **args) {
  auto *w = static_cast<const float *>(memrefData(args, 0));
  auto *doubled = static_cast<float *>(memrefData(args, 1));
  prepareScratch = memrefData(args, 2);
  // The arena is working memory: the kernel may write all of it.
  std::memset(prepareScratch, 0xAB, 8192);
  ++prepareCalls;
  for (int i = 0; i < 3; ++i)
    doubled[i] = 2 * w[i];
}

extern "C" void scaleByPrepared(void **args) {
  auto *x = static_cast<const float *>(memrefData(args, 0));
  auto *doubled = static_cast<const float *>(memrefData(args, 1));
  auto *y = static_cast<float *>(memrefData(args, 2));
  scaleScratch = memrefData(args, 3);
  std::memset(scaleScratch, 0xCD, 4096);
  for (int i = 0; i < 3; ++i)
    y[i] = x[i] * doubled[i];
}

const EntryFunction kPreparedEntries[] = {scaleByPrepared, prepareDouble};

} // namespace

TEST_F(SessionTest, DerivedWeightsArePreparedOnceAtLoad) {
  prepareCalls = 0;
  ModelSymbols prepared;
  prepared.signature = kPreparedSignature;
  prepared.entries = kPreparedEntries;
  prepared.entryCount = 2;
  // The file holds only w: the derived "packed.w" comes from prepare_weights.
  Expected<Session> loaded = Session::create(prepared, {shardW});
  ASSERT_TRUE(loaded) << loaded.message();
  EXPECT_EQ(prepareCalls, 1);
  EXPECT_EQ(values(loaded->weight("packed.w")), (std::vector<float>{2, 4, 6}));

  // Users see only their entries.
  std::vector<const EntrySignature *> user = loaded->signature().userEntries();
  ASSERT_EQ(user.size(), 1u);
  EXPECT_EQ(user[0]->name, "scale");
  EXPECT_EQ(loaded->signature().entryNames(), "'scale'");

  Tensor x = f32({1, 1, 0.5f});
  Tensor y = f32({0, 0, 0});
  ASSERT_FALSE(loaded->run("scale", {{"x", x.view()}}, {{"y", y.view()}}));
  EXPECT_EQ(values(y.view()), (std::vector<float>{2, 4, 3}));
  EXPECT_EQ(prepareCalls, 1);
  // The session's scratch buffer serves the user entries and is not an
  // argument users give; prepare_weights, needing more, borrowed a larger
  // one for the load.
  EXPECT_NE(prepareScratch, nullptr);
  EXPECT_NE(scaleScratch, nullptr);
  EXPECT_NE(scaleScratch, prepareScratch);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(scaleScratch) % 64, 0u);
  void *first = scaleScratch;
  ASSERT_FALSE(loaded->run("scale", {{"x", x.view()}}, {{"y", y.view()}}));
  EXPECT_EQ(scaleScratch, first);
  Expected<BoundCall> call =
      loaded->bind("scale", {{"x", x.view()}}, {{"y", y.view()}});
  ASSERT_TRUE(call) << call.message();

  // A missing source weight is reported by its checkpoint name.
  Expected<Session> missing = Session::create(prepared, {shardB});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.message(), "weight 'w' not found in " + shardB);
}
