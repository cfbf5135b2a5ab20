//===- SignatureTest.cpp - Parsing kiln_model_signature -------------------===//

#include "runtime/Signature.h"

#include <gtest/gtest.h>

using namespace kiln;

TEST(SignatureTest, ParsesArguments) {
  Expected<Signature> signature = parseSignature(
      R"({"entry":"forward","args":[)"
      R"({"name":"x","role":"input","dtype":"f32","shape":[1,7,64]},)"
      R"({"name":"h.0.ln_1.weight","role":"weight",)"
      R"("dtype":"f32","shape":[64]},)"
      R"({"name":"lengths","role":"input","dtype":"i64","shape":[2]},)"
      R"({"name":"flag","role":"input","dtype":"i1","shape":[]},)"
      R"({"name":"y","role":"output","dtype":"bf16","shape":[1,7,64]}]})");
  ASSERT_TRUE(signature) << signature.message();
  EXPECT_EQ(signature->entry, "forward");
  ASSERT_EQ(signature->args.size(), 5u);
  const SignatureArg &x = signature->args[0];
  EXPECT_EQ(x.name, "x");
  EXPECT_EQ(x.role, ArgRole::Input);
  EXPECT_EQ(x.dtype, DType::F32);
  EXPECT_EQ(x.shape, (Shape{1, 7, 64}));
  EXPECT_EQ(signature->args[1].role, ArgRole::Weight);
  EXPECT_EQ(signature->args[2].dtype, DType::I64);
  EXPECT_TRUE(signature->args[3].shape.empty());
  EXPECT_EQ(signature->args[3].dtype, DType::I1);
  EXPECT_EQ(signature->args[4].role, ArgRole::Output);
  EXPECT_EQ(signature->args[4].dtype, DType::BF16);
  EXPECT_EQ(signature->find("lengths"), &signature->args[2]);
  EXPECT_EQ(signature->find("nope"), nullptr);
}

TEST(SignatureTest, EntryIsOptionalAndArgsMayBeEmpty) {
  Expected<Signature> signature = parseSignature(R"({"args":[]})");
  ASSERT_TRUE(signature) << signature.message();
  EXPECT_EQ(signature->entry, "");
  EXPECT_TRUE(signature->args.empty());
}

TEST(SignatureTest, Errors) {
  struct Case {
    const char *json;
    const char *message;
  } cases[] = {
      {"", "model signature: invalid JSON: "},
      {R"({"args":[)", "model signature: invalid JSON: "},
      {"[1]", "model signature: expected a JSON object, found array"},
      {R"({"entry":"f"})", "model signature: expected an 'args' array"},
      {R"({"entry":3,"args":[]})", "model signature: 'entry' must be a string"},
      {R"({"args":[3]})",
       "model signature: args[0]: expected an object, found number"},
      {R"({"args":[{"role":"input","dtype":"f32","shape":[]}]})",
       "model signature: args[0]: 'name' must be a non-empty string"},
      {R"({"args":[{"name":"x","role":"in","dtype":"f32","shape":[]}]})",
       "model signature: args[0] ('x'): unknown role 'in' (expected input, "
       "weight or output)"},
      {R"({"args":[{"name":"x","role":"input","dtype":"f8","shape":[]}]})",
       "model signature: args[0] ('x'): unknown dtype 'f8'"},
      {R"({"args":[{"name":"x","role":"input","dtype":"f32","shape":[2,-1]}]})",
       "model signature: args[0] ('x'): 'shape' must hold non-negative "
       "integers, found -1"},
      {R"({"args":[{"name":"x","role":"input","dtype":"f32","shape":[1.5]}]})",
       "found 1.5"},
      {R"({"args":[{"name":"x","role":"input","dtype":"f32"}]})",
       "'shape' must be an array"},
      {R"({"args":[{"name":"x","role":"input","dtype":"f32","shape":[]},)"
       R"({"name":"x","role":"output","dtype":"f32","shape":[]}]})",
       "model signature: args[1] ('x'): duplicate argument name"},
  };
  for (const Case &c : cases) {
    Expected<Signature> signature = parseSignature(c.json);
    ASSERT_FALSE(signature) << c.json;
    EXPECT_NE(signature.message().find(c.message), std::string::npos)
        << c.json << " -> " << signature.message();
    EXPECT_EQ(signature.message().find('\n'), std::string::npos);
  }
}
