//===- SafetensorsTest.cpp - Reading safetensors files --------------------===//

#include "runtime/support/Safetensors.h"

#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace kiln;
using namespace kiln::test;

namespace {

/// A valid file: a f32 [2,2], a bf16 [4], an i64 scalar, an empty f32 [0]
/// and metadata.
std::string goodImage() {
  float a[4] = {1, 2, 3, 4};
  uint16_t b[4] = {0x3f80, 0xc000, 0x4040, 0}; // 1, -2, 3, 0
  int64_t c = -5;
  std::string data = rawBytes(a, 4) + rawBytes(b, 4) + rawBytes(&c, 1);
  std::string header =
      R"({"__metadata__":{"format":"pt"},)"
      R"("a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("b":{"dtype":"BF16","shape":[4],"data_offsets":[16,24]},)"
      R"("c":{"dtype":"I64","shape":[],"data_offsets":[24,32]},)"
      R"("empty":{"dtype":"F32","shape":[0],"data_offsets":[32,32]}})";
  return makeSafetensors(header, data);
}

std::string openError(const TempDir &dir, const std::string &image) {
  std::string path = dir.file("bad.safetensors");
  writeFile(path, image);
  Expected<SafetensorsFile> file = SafetensorsFile::open(path);
  EXPECT_FALSE(file);
  if (file)
    return "";
  EXPECT_EQ(file.message().rfind(path + ": ", 0), 0u) << file.message();
  EXPECT_EQ(file.message().find('\n'), std::string::npos);
  return file.message();
}

std::string entry(const std::string &name, const std::string &dtype,
                  const std::string &shape, uint64_t begin, uint64_t end) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":[" + std::to_string(begin) + "," +
         std::to_string(end) + "]}";
}

} // namespace

TEST(SafetensorsTest, GoodFileFromPathAndMemory) {
  TempDir dir;
  std::string image = goodImage();
  std::string path = dir.file("w.safetensors");
  writeFile(path, image);

  Expected<SafetensorsFile> mapped = SafetensorsFile::open(path);
  ASSERT_TRUE(mapped) << mapped.message();
  Expected<SafetensorsFile> memory =
      SafetensorsFile::fromMemory(image.data(), image.size(), "blob");
  ASSERT_TRUE(memory) << memory.message();
  EXPECT_EQ(memory->name(), "blob");

  for (SafetensorsFile *file : {&*mapped, &*memory}) {
    EXPECT_EQ(file->tensors().size(), 4u);
    const SafetensorsTensor *a = file->find("a");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->dtype, DType::F32);
    EXPECT_EQ(a->shape, (Shape{2, 2}));
    EXPECT_EQ(a->byteSize, 16u);
    float last;
    std::memcpy(&last, static_cast<const char *>(a->data) + 12, 4);
    EXPECT_EQ(last, 4.0f);

    Expected<const SafetensorsTensor *> c = file->lookup("c");
    ASSERT_TRUE(c);
    EXPECT_TRUE((*c)->shape.empty());
    int64_t value;
    std::memcpy(&value, (*c)->data, 8);
    EXPECT_EQ(value, -5);

    const SafetensorsTensor *b = file->find("b");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->dtype, DType::BF16);
    Expected<AlignedBuffer> f32 = convertToF32(*b, file->name());
    ASSERT_TRUE(f32);
    const float *values = static_cast<const float *>(f32->data());
    EXPECT_EQ(values[0], 1.0f);
    EXPECT_EQ(values[1], -2.0f);
    EXPECT_EQ(values[2], 3.0f);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(f32->data()) % 64, 0u);

    EXPECT_EQ(file->find("__metadata__"), nullptr);
    const SafetensorsTensor *empty = file->find("empty");
    ASSERT_NE(empty, nullptr);
    EXPECT_EQ(empty->byteSize, 0u);
  }
  // The mapped file's data points into the file, 8 + header bytes in.
  const SafetensorsTensor *a = mapped->find("a");
  uint64_t headerSize;
  std::memcpy(&headerSize, image.data(), 8);
  EXPECT_EQ(std::memcmp(a->data, image.data() + 8 + headerSize, 16), 0);
}

TEST(SafetensorsTest, ConvertsHalfAndDouble) {
  uint16_t h[4] = {0x3c00, 0xbc00, 0, 0};
  double d[2] = {0.5, -8};
  std::string header = "{" + entry("h", "F16", "[4]", 0, 8) + "," +
                       entry("d", "F64", "[2]", 8, 24) + "," +
                       entry("i", "I32", "[1]", 24, 28) + "}";
  int32_t i = 3;
  std::string image = makeSafetensors(header, rawBytes(h, 4) + rawBytes(d, 2) +
                                                  rawBytes(&i, 1));
  Expected<SafetensorsFile> file =
      SafetensorsFile::fromMemory(image.data(), image.size(), "m");
  ASSERT_TRUE(file) << file.message();
  Expected<AlignedBuffer> hf = convertToF32(*file->find("h"), "m");
  ASSERT_TRUE(hf);
  EXPECT_EQ(static_cast<float *>(hf->data())[1], -1.0f);
  Expected<AlignedBuffer> df = convertToF32(*file->find("d"), "m");
  ASSERT_TRUE(df);
  EXPECT_EQ(static_cast<float *>(df->data())[1], -8.0f);
  Expected<AlignedBuffer> bad = convertToF32(*file->find("i"), "m");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.message(), "m: tensor 'i': cannot convert I32 to f32 "
                           "(expected F32, F64, F16 or BF16)");
}

TEST(SafetensorsTest, TooShort) {
  TempDir dir;
  EXPECT_NE(openError(dir, "abc")
                .find("not a safetensors file: 3 bytes, "
                      "expected at least 8"),
            std::string::npos);
  EXPECT_NE(openError(dir, "").find("0 bytes"), std::string::npos);
}

TEST(SafetensorsTest, HeaderLengthBeyondFile) {
  TempDir dir;
  std::string image = leBytes<uint64_t>(1000) + "{}";
  std::string message = openError(dir, image);
  EXPECT_NE(message.find("header length 1000 extends past the end of the file "
                         "(2 bytes after the 8-byte length)"),
            std::string::npos)
      << message;
  image = leBytes<uint64_t>(~0ull) + "{}";
  EXPECT_NE(openError(dir, image).find("extends past the end"),
            std::string::npos);
}

TEST(SafetensorsTest, InvalidJson) {
  TempDir dir;
  std::string message = openError(dir, makeSafetensors("{\"a\": [1,", ""));
  EXPECT_NE(message.find("invalid JSON header: "), std::string::npos)
      << message;
  EXPECT_EQ(message.find("[json.exception"), std::string::npos) << message;
  message = openError(dir, makeSafetensors("[1, 2]", ""));
  EXPECT_NE(message.find("invalid header: expected a JSON object, found array"),
            std::string::npos)
      << message;
  message = openError(dir, makeSafetensors("{\"a\": 3}", ""));
  EXPECT_NE(message.find("tensor 'a': expected an object"), std::string::npos)
      << message;
}

TEST(SafetensorsTest, UnknownDType) {
  TempDir dir;
  std::string message = openError(
      dir,
      makeSafetensors("{" + entry("w", "F8_E4M3", "[2]", 0, 2) + "}", "ab"));
  EXPECT_NE(message.find("tensor 'w': unknown dtype 'F8_E4M3' (expected F32, "
                         "F16, BF16, F64, I64, I32, I8, U8 or BOOL)"),
            std::string::npos)
      << message;
}

TEST(SafetensorsTest, MalformedFields) {
  TempDir dir;
  EXPECT_NE(openError(dir, makeSafetensors(R"({"w":{"shape":[1],)"
                                           R"("data_offsets":[0,4]}})",
                                           "abcd"))
                .find("tensor 'w': missing or non-string 'dtype'"),
            std::string::npos);
  EXPECT_NE(
      openError(dir, makeSafetensors(
                         "{" + entry("w", "F32", "[-1]", 0, 4) + "}", "abcd"))
          .find("tensor 'w': 'shape' must be an array of non-negative "
                "integers"),
      std::string::npos);
  EXPECT_NE(openError(dir, makeSafetensors(R"({"w":{"dtype":"F32","shape":[1],)"
                                           R"("data_offsets":[0]}})",
                                           "abcd"))
                .find("tensor 'w': 'data_offsets' must be an array of two"),
            std::string::npos);
  EXPECT_NE(
      openError(dir, makeSafetensors("{" + entry("w", "F32", "[0]", 4, 0) + "}",
                                     "abcd"))
          .find("tensor 'w': data_offsets [4, 0] end before they begin"),
      std::string::npos);
}

TEST(SafetensorsTest, OffsetsOutOfRange) {
  TempDir dir;
  std::string message = openError(
      dir, makeSafetensors("{" + entry("w", "F32", "[2]", 0, 8) + "}", "abcd"));
  EXPECT_NE(message.find("tensor 'w': data_offsets [0, 8] are outside the data "
                         "section (4 bytes)"),
            std::string::npos)
      << message;
}

TEST(SafetensorsTest, OverlappingTensors) {
  TempDir dir;
  std::string message = openError(
      dir, makeSafetensors("{" + entry("a", "F32", "[2]", 0, 8) + "," +
                               entry("b", "F32", "[2]", 4, 12) + "}",
                           std::string(12, '\0')));
  EXPECT_NE(message.find("tensors 'a' [0, 8] and 'b' [4, 12] overlap"),
            std::string::npos)
      << message;
}

// Stricter than kiln used to be, as the safetensors library is: the tensors
// tile the data section, keys are not repeated, the header is at most 100 MB
// and __metadata__ maps names to strings.
TEST(SafetensorsTest, TensorsTileTheDataSection) {
  TempDir dir;
  std::string message = openError(
      dir, makeSafetensors("{" + entry("a", "F32", "[1]", 0, 4) + "," +
                               entry("b", "F32", "[1]", 8, 12) + "}",
                           std::string(12, '\0')));
  EXPECT_NE(message.find(": bytes [4, 8] of the data section belong to no "
                         "tensor (tensor 'b' starts at 8)"),
            std::string::npos)
      << message;
  message =
      openError(dir, makeSafetensors("{" + entry("a", "F32", "[1]", 4, 8) + "}",
                                     std::string(8, '\0')));
  EXPECT_NE(message.find(": bytes [0, 4] of the data section belong to no "
                         "tensor (tensor 'a' starts at 4)"),
            std::string::npos)
      << message;
  message =
      openError(dir, makeSafetensors("{" + entry("a", "F32", "[1]", 0, 4) + "}",
                                     std::string(6, '\0')));
  EXPECT_NE(message.find(": bytes [4, 6] of the data section belong to no "
                         "tensor (the tensors end at 4)"),
            std::string::npos)
      << message;
  // An empty tensor inside another one's bytes.
  message = openError(
      dir, makeSafetensors("{" + entry("a", "F32", "[2]", 0, 8) + "," +
                               entry("e", "F32", "[0]", 4, 4) + "}",
                           std::string(8, '\0')));
  EXPECT_NE(message.find("tensors 'a' [0, 8] and 'e' [4, 4] overlap"),
            std::string::npos)
      << message;
}

TEST(SafetensorsTest, RepeatedKeys) {
  TempDir dir;
  std::string message = openError(
      dir, makeSafetensors("{" + entry("a", "F32", "[1]", 0, 4) + "," +
                               entry("a", "F32", "[1]", 4, 8) + "}",
                           std::string(8, '\0')));
  EXPECT_NE(message.find(": invalid header: tensor 'a' is listed twice"),
            std::string::npos)
      << message;
  message = openError(dir, makeSafetensors(R"({"a":{"dtype":"F32","shape":[1],)"
                                           R"("dtype":"I32",)"
                                           R"("data_offsets":[0,4]}})",
                                           std::string(4, '\0')));
  EXPECT_NE(
      message.find(": invalid header: tensor 'a': key 'dtype' appears twice"),
      std::string::npos)
      << message;
}

TEST(SafetensorsTest, HeaderLimitAndMetadata) {
  TempDir dir;
  std::string image = leBytes<uint64_t>(100'000'001) + "{}";
  image.resize(8 + 100'000'001, ' ');
  std::string message = openError(dir, image);
  EXPECT_NE(message.find(": header length 100000001 exceeds the limit of "
                         "100000000 bytes of the safetensors format"),
            std::string::npos)
      << message;
  message = openError(dir, makeSafetensors(R"({"__metadata__":{"n":1}})", ""));
  EXPECT_NE(message.find(": '__metadata__' must be an object of strings"),
            std::string::npos)
      << message;
  std::string ok = makeSafetensors(R"({"__metadata__":null})", "");
  EXPECT_TRUE(SafetensorsFile::fromMemory(ok.data(), ok.size(), "m"));
}

TEST(SafetensorsTest, SizeShapeMismatch) {
  TempDir dir;
  std::string message =
      openError(dir, makeSafetensors("{" + entry("w", "F32", "[3]", 0, 8) + "}",
                                     "abcdefgh"));
  EXPECT_NE(message.find("tensor 'w': shape [3] of F32 needs 12 bytes, but "
                         "data_offsets [0, 8] hold 8"),
            std::string::npos)
      << message;
}

TEST(SafetensorsTest, MissingTensor) {
  std::string image = goodImage();
  Expected<SafetensorsFile> file =
      SafetensorsFile::fromMemory(image.data(), image.size(), "w.safetensors");
  ASSERT_TRUE(file);
  Expected<const SafetensorsTensor *> missing = file->lookup("h.0.attn");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.message(),
            "w.safetensors: tensor 'h.0.attn' not found (the file has 4 "
            "tensors)");
}

TEST(SafetensorsTest, MissingFile) {
  Expected<SafetensorsFile> file =
      SafetensorsFile::open("/nonexistent/w.safetensors");
  ASSERT_FALSE(file);
  EXPECT_EQ(file.message(),
            "cannot open /nonexistent/w.safetensors: No such file or "
            "directory");
}
