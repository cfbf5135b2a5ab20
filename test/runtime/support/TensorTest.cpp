//===- TensorTest.cpp - Element types, buffers and conversions ------------===//

#include "runtime/support/Tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

using namespace kiln;

TEST(TensorTest, DTypeNamesAndSizes) {
  struct Case {
    DType type;
    const char *name;
    size_t size;
  } cases[] = {
      {DType::F32, "f32", 4},   {DType::F64, "f64", 8}, {DType::F16, "f16", 2},
      {DType::BF16, "bf16", 2}, {DType::I32, "i32", 4}, {DType::I64, "i64", 8},
      {DType::I8, "i8", 1},     {DType::U8, "u8", 1},   {DType::I1, "i1", 1}};
  for (const Case &c : cases) {
    EXPECT_STREQ(dtypeName(c.type), c.name);
    EXPECT_EQ(dtypeSize(c.type), c.size);
    EXPECT_EQ(parseDTypeName(c.name), c.type);
  }
  EXPECT_FALSE(parseDTypeName("f8"));
  EXPECT_FALSE(parseDTypeName("F32"));
}

TEST(TensorTest, FormatShape) {
  EXPECT_EQ(formatShape({}), "[]");
  EXPECT_EQ(formatShape({1, 7, 64}), "[1,7,64]");
  EXPECT_EQ(formatType(DType::I64, {2}), "i64 [2]");
}

TEST(TensorTest, CheckedNumElements) {
  EXPECT_EQ(checkedNumElements({}), 1u);
  EXPECT_EQ(checkedNumElements({2, 0, 5}), 0u);
  EXPECT_EQ(checkedNumElements({2, 3}, 4), 6u);
  EXPECT_FALSE(checkedNumElements({-1, 3}));
  EXPECT_FALSE(checkedNumElements({1LL << 40, 1LL << 40}));
  EXPECT_FALSE(checkedNumElements({1LL << 62}, 8));
}

TEST(TensorTest, AlignedBuffers) {
  for (size_t bytes : {0, 1, 63, 64, 65, 4096, 100000}) {
    Expected<AlignedBuffer> buffer = AlignedBuffer::allocate(bytes);
    ASSERT_TRUE(buffer);
    EXPECT_NE(buffer->data(), nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer->data()) % 64, 0u);
    EXPECT_EQ(buffer->size(), bytes);
    for (size_t i = 0; i < bytes; ++i)
      ASSERT_EQ(static_cast<unsigned char *>(buffer->data())[i], 0);
  }
  Expected<AlignedBuffer> a = AlignedBuffer::allocate(16);
  ASSERT_TRUE(a);
  void *p = a->data();
  AlignedBuffer b = std::move(*a);
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(a->data(), nullptr);
}

TEST(TensorTest, TensorAllocate) {
  Expected<Tensor> t = Tensor::allocate(DType::F64, {2, 3});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->numElements(), 6u);
  EXPECT_EQ(t->byteSize(), 48u);
  EXPECT_FALSE(Tensor::allocate(DType::F32, {-2}));
}

TEST(TensorTest, HalfConversions) {
  EXPECT_EQ(halfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(halfToFloat(0xc000), -2.0f);
  EXPECT_EQ(halfToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(halfToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(halfToFloat(0x0400), std::ldexp(1.0f, -14));
  EXPECT_TRUE(std::isinf(halfToFloat(0x7c00)));
  EXPECT_TRUE(std::isnan(halfToFloat(0x7e00)));
  EXPECT_TRUE(std::signbit(halfToFloat(0x8000)));

  EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(floatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(floatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(65519.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(65520.0f), 0x7c00);
  EXPECT_EQ(floatToHalf(1e10f), 0x7c00);
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -25)), 0x0000); // Tie to even.
  EXPECT_EQ(floatToHalf(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(floatToHalf(std::ldexp(3.0f, -25)), 0x0002); // 1.5 ulp: to even.
  EXPECT_EQ(floatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00); // Tie: even.
  EXPECT_EQ(floatToHalf(1.0f + std::ldexp(3.0f, -11)), 0x3c02); // Tie: even.
  EXPECT_EQ(floatToHalf(-0.0f), 0x8000);
  uint16_t nan = floatToHalf(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x3ff, 0);
  // Every half survives a round trip through f32.
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    if ((bits & 0x7c00) == 0x7c00 && (bits & 0x3ff))
      continue; // NaN payloads need not round trip exactly.
    ASSERT_EQ(floatToHalf(halfToFloat(static_cast<uint16_t>(bits))), bits);
  }
}

TEST(TensorTest, BFloat16Conversions) {
  EXPECT_EQ(bfloat16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(floatToBFloat16(1.0f), 0x3f80);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1.0).
  EXPECT_EQ(floatToBFloat16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  EXPECT_EQ(floatToBFloat16(1.0f + std::ldexp(3.0f, -8)), 0x3f82);
  EXPECT_TRUE(std::isnan(bfloat16ToFloat(
      floatToBFloat16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_TRUE(std::isinf(bfloat16ToFloat(floatToBFloat16(3.4e38f))));
}

TEST(TensorTest, ConvertElements) {
  double src[3] = {1.5, -2.25, 1e-3};
  float dst[3];
  ASSERT_FALSE(convertElements(DType::F64, src, DType::F32, dst, 3));
  EXPECT_EQ(dst[0], 1.5f);
  EXPECT_EQ(dst[1], -2.25f);
  EXPECT_EQ(dst[2], 1e-3f);
  uint16_t half[3];
  ASSERT_FALSE(convertElements(DType::F32, dst, DType::F16, half, 3));
  EXPECT_EQ(half[0], 0x3e00);
  int32_t ints[2] = {1, 2};
  int64_t wide[2];
  Error e = convertElements(DType::I32, ints, DType::I64, wide, 2);
  ASSERT_TRUE(e);
  EXPECT_EQ(e.message(), "cannot convert i32 to i64");
  int32_t copy[2];
  ASSERT_FALSE(convertElements(DType::I32, ints, DType::I32, copy, 2));
  EXPECT_EQ(copy[1], 2);
}

TEST(TensorTest, ErrorsAreOneLine) {
  Error e = makeError("a\nb", 3, '\r', std::string("c"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e.message(), "a b3 c");
  EXPECT_FALSE(Error::success());
}
