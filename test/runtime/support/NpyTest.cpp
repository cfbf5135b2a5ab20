//===- NpyTest.cpp - Reading and writing .npy files -----------------------===//

#include "runtime/support/Npy.h"

#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace kiln;
using namespace kiln::test;

namespace {

/// A .npy image with a hand-written header (version 1.0 unless told).
std::string npyBytes(const std::string &dict, const std::string &data,
                     int major = 1) {
  std::string header = dict + "\n";
  std::string out =
      std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  out += major == 1 ? leBytes<uint16_t>(header.size())
                    : leBytes<uint32_t>(header.size());
  return out + header + data;
}

std::string floats(std::initializer_list<float> values) {
  return rawBytes(values.begin(), values.size());
}

/// Writes `bytes` to a file and reads it back, returning the error message.
std::string readError(const TempDir &dir, const std::string &bytes) {
  std::string path = dir.file("bad.npy");
  writeFile(path, bytes);
  Expected<Tensor> tensor = readNpy(path);
  EXPECT_FALSE(tensor);
  if (tensor)
    return "";
  // Every message names the file.
  EXPECT_EQ(tensor.message().rfind(path + ": ", 0), 0u) << tensor.message();
  EXPECT_EQ(tensor.message().find('\n'), std::string::npos);
  return tensor.message();
}

} // namespace

TEST(NpyTest, RoundTripEveryDTypeAndRank) {
  TempDir dir;
  const Shape shapes[] = {{}, {5}, {2, 3}, {2, 3, 4}, {1, 2, 3, 2}, {0, 3}};
  for (DType type : {DType::F32, DType::F64, DType::F16, DType::I32, DType::I64,
                     DType::I1}) {
    for (const Shape &shape : shapes) {
      SCOPED_TRACE(formatType(type, shape));
      Expected<Tensor> tensor = Tensor::allocate(type, shape);
      ASSERT_TRUE(tensor);
      auto *bytes = static_cast<unsigned char *>(tensor->data());
      for (size_t i = 0; i < tensor->byteSize(); ++i)
        bytes[i] = type == DType::I1 ? (i % 3 == 0)
                                     : static_cast<unsigned char>(i * 7 + 1);
      std::string path = dir.file("t.npy");
      ASSERT_FALSE(writeNpy(path, tensor->view()));

      // The data starts on a 64-byte boundary, as numpy does it.
      std::string file = readFile(path);
      EXPECT_EQ((file.size() - tensor->byteSize()) % 64, 0u);

      Expected<Tensor> back = readNpy(path);
      ASSERT_TRUE(back) << back.message();
      EXPECT_EQ(back->dtype, type);
      EXPECT_EQ(back->shape, shape);
      ASSERT_EQ(back->byteSize(), tensor->byteSize());
      EXPECT_EQ(std::memcmp(back->data(), tensor->data(), tensor->byteSize()),
                0);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(back->data()) % 64, 0u);
    }
  }
}

TEST(NpyTest, HeaderSpelling) {
  Expected<Tensor> t = Tensor::allocate(DType::I64, {7});
  ASSERT_TRUE(t);
  Expected<std::string> bytes = encodeNpy(t->view());
  ASSERT_TRUE(bytes);
  EXPECT_NE(bytes->find("{'descr': '<i8', 'fortran_order': False, "
                        "'shape': (7,), }"),
            std::string::npos);
  EXPECT_EQ((*bytes)[6], 1);
  EXPECT_EQ(bytes->size(), 128u + 56u);
  EXPECT_EQ((*bytes)[127], '\n');
}

TEST(NpyTest, ReadsVersions2And3AndNumpyVariants) {
  std::string data = floats({1, 2, 3, 4});
  for (int major : {1, 2, 3}) {
    std::string image = npyBytes(
        "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 2)}",
        data, major);
    Expected<Tensor> t = parseNpy(image.data(), image.size(), "mem");
    ASSERT_TRUE(t) << t.message();
    EXPECT_EQ(t->shape, (Shape{2, 2}));
    EXPECT_EQ(static_cast<float *>(t->data())[3], 4.0f);
  }
  // Key order is free; Python 2 long suffixes and a scalar shape.
  std::string image = npyBytes(
      "{'shape': (), 'fortran_order': False, 'descr': '<f4',}", floats({7}));
  Expected<Tensor> scalar = parseNpy(image.data(), image.size(), "mem");
  ASSERT_TRUE(scalar) << scalar.message();
  EXPECT_TRUE(scalar->shape.empty());
  image = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1L,), }",
                   floats({7}));
  EXPECT_TRUE(parseNpy(image.data(), image.size(), "mem"));
}

TEST(NpyTest, BadMagic) {
  TempDir dir;
  std::string message = readError(dir, "PK\x03\x04 this is a zip file");
  EXPECT_NE(message.find("not a .npy file: expected magic \"\\x93NUMPY\", "
                         "found \"PK\\x03\\x04 t\""),
            std::string::npos)
      << message;
  message = readError(dir, "");
  EXPECT_NE(message.find("the file is empty"), std::string::npos) << message;
}

TEST(NpyTest, UnsupportedVersion) {
  TempDir dir;
  std::string image = npyBytes(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", floats({1}));
  image[6] = 4;
  std::string message = readError(dir, image);
  EXPECT_NE(message.find("unsupported .npy format version 4.0 (expected 1.0, "
                         "2.0 or 3.0)"),
            std::string::npos)
      << message;
}

TEST(NpyTest, TruncatedHeader) {
  TempDir dir;
  std::string image = npyBytes(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", floats({1}));
  std::string message = readError(dir, image.substr(0, 9));
  EXPECT_NE(message.find("truncated .npy header: file has 9 bytes, expected at "
                         "least 10"),
            std::string::npos)
      << message;
  message = readError(dir, image.substr(0, 40));
  EXPECT_NE(message.find("truncated .npy header: header length"),
            std::string::npos)
      << message;
}

TEST(NpyTest, HeaderLengthPastTheEnd) {
  TempDir dir;
  std::string image = npyBytes(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", floats({1}));
  image[8] = '\xff';
  image[9] = '\x7f';
  std::string message = readError(dir, image);
  EXPECT_NE(message.find("header length 32767 extends past the end of the "
                         "file"),
            std::string::npos)
      << message;
}

TEST(NpyTest, TruncatedData) {
  TempDir dir;
  std::string image =
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
               floats({1, 2, 3, 4, 5}));
  std::string message = readError(dir, image);
  EXPECT_NE(message.find("truncated data: expected 24 data bytes for <f4 "
                         "(2, 3), found 20"),
            std::string::npos)
      << message;
  image = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
                   floats({1, 2}));
  message = readError(dir, image);
  EXPECT_NE(message.find("expected 4 data bytes for <f4 (1,), found 8 "
                         "(trailing bytes)"),
            std::string::npos)
      << message;
}

TEST(NpyTest, FortranOrder) {
  TempDir dir;
  std::string message = readError(
      dir, npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, "
                    "2), }",
                    floats({1, 2, 3, 4})));
  EXPECT_NE(message.find("Fortran-order arrays are not supported (expected "
                         "fortran_order False"),
            std::string::npos)
      << message;
}

TEST(NpyTest, UnknownDType) {
  TempDir dir;
  std::string message = readError(
      dir, npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }",
                    "ab"));
  EXPECT_NE(message.find("unsupported .npy dtype '|u1' (expected <f4, <f8, "
                         "<f2, <i4, <i8 or |b1)"),
            std::string::npos)
      << message;
  message = readError(
      dir, npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
                    floats({1})));
  EXPECT_NE(message.find("big-endian data is not supported"), std::string::npos)
      << message;
  message = readError(dir, npyBytes("{'descr': [('a', '<f4')], "
                                    "'fortran_order': False, 'shape': (1,), }",
                                    floats({1})));
  EXPECT_NE(message.find("structured arrays are not supported"),
            std::string::npos)
      << message;
}

TEST(NpyTest, MalformedDict) {
  TempDir dir;
  struct Case {
    const char *dict;
    const char *expected;
  } cases[] = {
      {"['descr', '<f4']", "expected '{' at offset 0, found '['"},
      {"{'descr': '<f4', 'fortran_order': False 'shape': (1,)}",
       "expected ',' or '}' at offset 40, found 'shape'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,}",
       "expected an integer or ')' in 'shape' at offset 53, found '}'"},
      {"{'descr': '<f4', 'fortran_order': False}", "missing key 'shape'"},
      {"{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
       "expected True or False for 'fortran_order'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
       "negative dimension -1"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
       "unexpected key 'x'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': "
       "(1,)}",
       "duplicate key 'descr'"},
      {"{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}",
       "expected ',' or '}' at offset 17, found 'fortran_order'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x",
       "expected end of header after '}'"},
      {"{'descr': '<f4", "unterminated string at offset 10"},
  };
  for (const Case &c : cases) {
    std::string message = readError(dir, npyBytes(c.dict, floats({1})));
    EXPECT_NE(message.find(c.expected), std::string::npos)
        << c.dict << " -> " << message;
  }
}

TEST(NpyTest, MissingFile) {
  Expected<Tensor> t = readNpy("/nonexistent/dir/x.npy");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.message(),
            "cannot open /nonexistent/dir/x.npy: No such file or directory");
}

TEST(NpyTest, WriteErrors) {
  Expected<Tensor> t = Tensor::allocate(DType::BF16, {2});
  ASSERT_TRUE(t);
  Error e = writeNpy("/tmp/never.npy", t->view());
  ASSERT_TRUE(e);
  EXPECT_NE(e.message().find("cannot write bf16 as .npy"), std::string::npos)
      << e.message();
  Expected<Tensor> f = Tensor::allocate(DType::F32, {2});
  ASSERT_TRUE(f);
  e = writeNpy("/nonexistent/dir/y.npy", f->view());
  ASSERT_TRUE(e);
  EXPECT_EQ(e.message(),
            "cannot create /nonexistent/dir/y.npy: No such file or directory");
}
