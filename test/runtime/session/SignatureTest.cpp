//===- SignatureTest.cpp - Parsing kiln_model_signature -------------------===//

#include "runtime/session/Signature.h"

#include <gtest/gtest.h>

using namespace kiln;

TEST(SignatureTest, ParsesEntries) {
  Expected<ModelSignature> signature = parseModelSignature(
      R"({"entries":[{"name":"forward","args":[)"
      R"({"name":"x","role":"input","dtype":"f32","shape":[1,7,64]},)"
      R"({"name":"h.0.ln_1.weight","role":"weight",)"
      R"("dtype":"f32","shape":[64]},)"
      R"({"name":"lengths","role":"input","dtype":"i64","shape":[2]},)"
      R"({"name":"flag","role":"input","dtype":"i1","shape":[]},)"
      R"({"name":"cache","role":"state","dtype":"f32","shape":[4]},)"
      R"({"name":"y","role":"output","dtype":"bf16","shape":[1,7,64]}]},)"
      R"({"name":"other","args":[)"
      R"({"name":"h.0.ln_1.weight","role":"weight",)"
      R"("dtype":"f32","shape":[64]},)"
      R"({"name":"cache","role":"state","dtype":"f32","shape":[4]},)"
      R"({"name":"x","role":"output","dtype":"i32","shape":[3]}]}],)"
      R"("version":2,"metadata":{"task":"text-generation","n":[1,2]}})");
  ASSERT_TRUE(signature) << signature.message();
  ASSERT_EQ(signature->entries.size(), 2u);
  const EntrySignature &forward = signature->entries[0];
  EXPECT_EQ(forward.name, "forward");
  ASSERT_EQ(forward.args.size(), 6u);
  const SignatureArg &x = forward.args[0];
  EXPECT_EQ(x.name, "x");
  EXPECT_EQ(x.role, ArgRole::Input);
  EXPECT_EQ(x.dtype, DType::F32);
  EXPECT_EQ(x.shape, (Shape{1, 7, 64}));
  EXPECT_EQ(forward.args[1].role, ArgRole::Weight);
  EXPECT_EQ(forward.args[2].dtype, DType::I64);
  EXPECT_TRUE(forward.args[3].shape.empty());
  EXPECT_EQ(forward.args[3].dtype, DType::I1);
  EXPECT_EQ(forward.args[4].role, ArgRole::State);
  EXPECT_EQ(forward.args[5].role, ArgRole::Output);
  EXPECT_EQ(forward.args[5].dtype, DType::BF16);
  EXPECT_EQ(forward.find("lengths"), &forward.args[2]);
  EXPECT_EQ(forward.find("nope"), nullptr);
  EXPECT_EQ(forward.find("cache", ArgRole::State), &forward.args[4]);
  EXPECT_EQ(forward.find("cache", ArgRole::Input), nullptr);
  EXPECT_EQ(forward.count(ArgRole::Input), 3u);

  // Names of inputs and outputs are per entry.
  EXPECT_EQ(signature->entry("other"), &signature->entries[1]);
  EXPECT_EQ(signature->entry("other")->args[2].role, ArgRole::Output);
  EXPECT_EQ(signature->entry("nope"), nullptr);
  EXPECT_EQ(signature->entryNames(), "'forward', 'other'");
  std::vector<const SignatureArg *> weights =
      signature->shared(ArgRole::Weight);
  ASSERT_EQ(weights.size(), 1u);
  EXPECT_EQ(weights[0], &forward.args[1]);
  EXPECT_EQ(signature->shared(ArgRole::State).size(), 1u);

  EXPECT_EQ(signature->task, "text-generation");
  EXPECT_EQ(signature->metadata, R"({"n":[1,2],"task":"text-generation"})");
  EXPECT_EQ(parseRoleName("state"), ArgRole::State);
  EXPECT_STREQ(roleName(ArgRole::State), "state");
}

TEST(SignatureTest, MetadataIsOptionalAndArgsMayBeEmpty) {
  Expected<ModelSignature> signature =
      parseModelSignature(R"({"entries":[{"name":"f","args":[]}]})");
  ASSERT_TRUE(signature) << signature.message();
  EXPECT_EQ(signature->metadata, "{}");
  EXPECT_EQ(signature->task, "");
  ASSERT_EQ(signature->entries.size(), 1u);
  EXPECT_TRUE(signature->entries[0].args.empty());
  EXPECT_EQ(signature->entries[0].temporaryBytes, 0);
}

TEST(SignatureTest, TemporaryBytesAndDerivedWeights) {
  Expected<ModelSignature> signature = parseModelSignature(
      R"({"entries":[{"name":"f","temporary_bytes":4096,"args":[)"
      R"({"name":"w","role":"weight","dtype":"f32","shape":[2]},)"
      R"({"name":"packed.w","role":"weight","dtype":"f32","shape":[2]}]},)"
      R"({"name":"prepare_weights","args":[)"
      R"({"name":"w","role":"weight","dtype":"f32","shape":[2]},)"
      R"({"name":"packed.w","role":"output","dtype":"f32","shape":[2]}]}]})");
  ASSERT_TRUE(signature) << signature.message();
  EXPECT_EQ(signature->entries[0].temporaryBytes, 4096);
  ASSERT_NE(signature->prepareWeights(), nullptr);
  EXPECT_EQ(signature->entryNames(), "'f'");
  std::vector<const SignatureArg *> weights = signature->checkpointWeights();
  ASSERT_EQ(weights.size(), 1u);
  EXPECT_EQ(weights[0]->name, "w");
}

TEST(SignatureTest, IndexBounds) {
  Expected<ModelSignature> signature = parseModelSignature(
      R"({"entries":[{"name":"f","args":[)"
      R"({"name":"ids","role":"input","dtype":"i64","shape":[2,3],)"
      R"("index_bound":5},)"
      R"({"name":"pos","role":"input","dtype":"i32","shape":[]}]}]})");
  ASSERT_TRUE(signature) << signature.message();
  const SignatureArg &ids = signature->entries[0].args[0];
  EXPECT_EQ(ids.indexBound, std::optional<int64_t>(5));
  // Optional: signatures without it parse, and every value passes.
  const SignatureArg &pos = signature->entries[0].args[1];
  EXPECT_EQ(pos.indexBound, std::nullopt);
  int32_t anything = -7;
  EXPECT_FALSE(checkIndexValues(pos, {DType::I32, {}, &anything}));

  int64_t values[6] = {0, 4, 1, 2, 3, 4};
  TensorView view{DType::I64, {2, 3}, values};
  EXPECT_FALSE(checkIndexValues(ids, view));
  values[5] = 5;
  Error past = checkIndexValues(ids, view);
  ASSERT_TRUE(past);
  EXPECT_EQ(past.message(), "index 5 at [1, 2] is outside [0, 5)");
  values[5] = 0;
  values[1] = -1;
  Error negative = checkIndexValues(ids, view);
  ASSERT_TRUE(negative);
  EXPECT_EQ(negative.message(), "index -1 at [0, 1] is outside [0, 5)");

  for (const char *bad :
       {R"({"name":"ids","role":"input","dtype":"i64","shape":[2],)"
        R"("index_bound":0})",
        R"({"name":"ids","role":"input","dtype":"i64","shape":[2],)"
        R"("index_bound":"5"})",
        R"({"name":"x","role":"input","dtype":"f32","shape":[2],)"
        R"("index_bound":5})",
        R"({"name":"y","role":"output","dtype":"i64","shape":[2],)"
        R"("index_bound":5})"}) {
    Expected<ModelSignature> parsed = parseModelSignature(
        std::string(R"({"entries":[{"name":"f","args":[)") + bad + "]}]}");
    ASSERT_FALSE(parsed) << bad;
    EXPECT_NE(parsed.message().find("'index_bound'"), std::string::npos)
        << parsed.message();
  }
}

TEST(SignatureTest, KernelScratch) {
  const std::string entries =
      R"("entries":[{"name":"f","args":[)"
      R"({"name":"x","role":"input","dtype":"f32","shape":[2]}]}])";
  Expected<ModelSignature> signature = parseModelSignature(
      "{" + entries +
      R"(,"kernel_scratch":{"gemm_depth":768,"gemm_width":50257,)"
      R"("norm_width":768,"head_dim":64}})");
  ASSERT_TRUE(signature) << signature.message();
  EXPECT_EQ(signature->kernelScratch.gemmDepth, 768);
  EXPECT_EQ(signature->kernelScratch.gemmWidth, 50257);
  EXPECT_EQ(signature->kernelScratch.normWidth, 768);
  EXPECT_EQ(signature->kernelScratch.headDim, 64);
  // Optional, as are its fields.
  signature = parseModelSignature("{" + entries + "}");
  ASSERT_TRUE(signature) << signature.message();
  EXPECT_TRUE(signature->kernelScratch.empty());
  signature = parseModelSignature("{" + entries +
                                  R"(,"kernel_scratch":{"norm_width":8}})");
  ASSERT_TRUE(signature) << signature.message();
  EXPECT_EQ(signature->kernelScratch.normWidth, 8);
  EXPECT_EQ(signature->kernelScratch.gemmDepth, 0);

  for (const char *bad :
       {R"("kernel_scratch":[1])", R"("kernel_scratch":{"head_dim":-1})",
        R"("kernel_scratch":{"head_dim":"64"})"}) {
    Expected<ModelSignature> parsed =
        parseModelSignature("{" + entries + "," + bad + "}");
    ASSERT_FALSE(parsed) << bad;
    EXPECT_NE(parsed.message().find("'kernel_scratch"), std::string::npos)
        << parsed.message();
  }
}

TEST(SignatureTest, Errors) {
  struct Case {
    const char *json;
    const char *message;
  } cases[] = {
      {"", "model signature: invalid JSON: "},
      {R"({"entries":[)", "model signature: invalid JSON: "},
      {"[1]", "model signature: expected a JSON object, found array"},
      {R"({"metadata":{}})", "model signature: expected an 'entries' array"},
      {R"({"entry":"f","args":[]})",
       "model signature: expected an 'entries' array, found a version 1 "
       "signature (a single 'args' array); recompile the model"},
      {R"({"entries":[]})", "model signature: 'entries' is empty"},
      {R"({"version":1,"entries":[{"name":"f","args":[]}]})",
       "model signature: unsupported version 1 (this runtime reads version "
       "2)"},
      {R"({"entries":[3]})",
       "model signature: entries[0]: expected an object, found number"},
      {R"({"entries":[{"args":[]}]})",
       "model signature: entries[0]: 'name' must be a non-empty string"},
      {R"({"entries":[{"name":"f"}]})",
       "model signature: entries[0] ('f'): expected an 'args' array"},
      {R"({"entries":[{"name":"f","args":[],"temporary_bytes":-4}]})",
       "model signature: entries[0] ('f'): 'temporary_bytes' must be a "
       "non-negative integer"},
      {R"({"entries":[{"name":"f","args":[]},{"name":"f","args":[]}]})",
       "model signature: entries[1] ('f'): duplicate entry name"},
      {R"({"entries":[{"name":"f","args":[3]}]})",
       "model signature: entries[0] ('f') args[0]: expected an object, found "
       "number"},
      {R"({"entries":[{"name":"f","args":[)"
       R"({"role":"input","dtype":"f32","shape":[]}]}]})",
       "model signature: entries[0] ('f') args[0]: 'name' must be a non-empty "
       "string"},
      {R"({"entries":[{"name":"f","args":[)"
       R"({"name":"x","role":"in","dtype":"f32","shape":[]}]}]})",
       "model signature: entries[0] ('f') args[0] ('x'): unknown role 'in' "
       "(expected input, weight, state, output or scratch)"},
      {R"({"entries":[{"name":"f","args":[)"
       R"({"name":"x","role":"input","dtype":"f8","shape":[]}]}]})",
       "args[0] ('x'): unknown dtype 'f8'"},
      {R"({"entries":[{"name":"f","args":[)"
       R"({"name":"x","role":"input","dtype":"f32","shape":[2,-1]}]}]})",
       "args[0] ('x'): 'shape' must hold non-negative integers, found -1"},
      {R"({"entries":[{"name":"f","args":[)"
       R"({"name":"x","role":"input","dtype":"f32","shape":[1.5]}]}]})",
       "found 1.5"},
      {R"({"entries":[{"name":"f","args":[)"
       R"({"name":"x","role":"input","dtype":"f32"}]}]})",
       "'shape' must be an array"},
      {R"({"entries":[{"name":"f","args":[)"
       R"({"name":"x","role":"input","dtype":"f32","shape":[]},)"
       R"({"name":"x","role":"output","dtype":"f32","shape":[]}]}]})",
       "model signature: entries[0] ('f') args[1] ('x'): duplicate argument "
       "name"},
      {R"({"entries":[{"name":"f","args":[)"
       R"({"name":"w","role":"weight","dtype":"f32","shape":[3]}]},)"
       R"({"name":"g","args":[)"
       R"({"name":"w","role":"weight","dtype":"f16","shape":[3]}]}]})",
       "model signature: 'w' is a weight f32 [3] in entry 'f' but a weight "
       "f16 [3] in entry 'g'"},
      {R"({"entries":[{"name":"f","args":[)"
       R"({"name":"c","role":"state","dtype":"f32","shape":[3]}]},)"
       R"({"name":"g","args":[)"
       R"({"name":"c","role":"weight","dtype":"f32","shape":[3]}]}]})",
       "model signature: 'c' is a state f32 [3] in entry 'f' but a weight "
       "f32 [3] in entry 'g'"},
      {R"({"entries":[{"name":"f","args":[)"
       R"({"name":"c","role":"state","dtype":"f32","shape":[3]}]},)"
       R"({"name":"g","args":[)"
       R"({"name":"c","role":"state","dtype":"f32","shape":[4]}]}]})",
       "but a state f32 [4] in entry 'g'"},
      {R"({"entries":[{"name":"f","args":[]}],"metadata":[]})",
       "model signature: 'metadata' must be an object, found array"},
  };
  for (const Case &c : cases) {
    Expected<ModelSignature> signature = parseModelSignature(c.json);
    ASSERT_FALSE(signature) << c.json;
    EXPECT_NE(signature.message().find(c.message), std::string::npos)
        << c.json << " -> " << signature.message();
    EXPECT_EQ(signature.message().find('\n'), std::string::npos);
  }
}

TEST(SignatureTest, CheckEntryArgs) {
  Expected<ModelSignature> signature = parseModelSignature(
      R"({"entries":[{"name":"f","args":[)"
      R"({"name":"x","role":"input","dtype":"f32","shape":[2]},)"
      R"({"name":"w","role":"weight","dtype":"f32","shape":[2]},)"
      R"({"name":"y","role":"output","dtype":"f32","shape":[2]}]}]})");
  ASSERT_TRUE(signature) << signature.message();
  ExpectedArg x{{"x", ArgRole::Input, DType::F32, {2}}};
  ExpectedArg y{{"y", ArgRole::Output, DType::F32, {2}}};
  ExpectedArg extra{{"z", ArgRole::Output, DType::F32, {2}}, true};
  // Weights are not checked; an optional output may be missing.
  EXPECT_FALSE(checkEntryArgs(*signature, "test", "f", {x, y, extra}));
  Error missing = checkEntryArgs(*signature, "test", "g", {x});
  EXPECT_EQ(missing.message(), "model signature: a test model needs an entry "
                               "'g' (entries: 'f')");
  Error unexpected = checkEntryArgs(*signature, "test", "f", {x});
  EXPECT_EQ(unexpected.message(),
            "model signature: entry 'f' has an unexpected output 'y'");
  ExpectedArg wide{{"x", ArgRole::Input, DType::F32, {3}}};
  Error shape = checkEntryArgs(*signature, "test", "f", {wide, y});
  EXPECT_EQ(shape.message(),
            "model signature: entry 'f': input 'x' is f32 [2], expected f32 "
            "[3]");
}
