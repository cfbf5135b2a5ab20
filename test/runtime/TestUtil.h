//===- TestUtil.h - Helpers shared by the runtime unit tests ----*- C++ -*-===//

#ifndef KILN_TEST_RUNTIME_TESTUTIL_H
#define KILN_TEST_RUNTIME_TESTUTIL_H

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace kiln::test {

/// A fresh directory under the test temp dir, removed at scope exit.
class TempDir {
public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "kiln_rt_XXXXXX";
    if (!mkdtemp(pattern.data()))
      ADD_FAILURE() << "mkdtemp failed for " << pattern;
    dir = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  const std::string &path() const { return dir; }
  std::string file(const std::string &name) const { return dir + "/" + name; }

private:
  std::string dir;
};

inline void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

inline std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Little-endian bytes of an integer.
template <typename T> std::string leBytes(T value, size_t size = sizeof(T)) {
  std::string out;
  for (size_t i = 0; i < size; ++i)
    out += static_cast<char>((static_cast<uint64_t>(value) >> (8 * i)) & 0xff);
  return out;
}

/// Raw bytes of a trivially copyable array.
template <typename T> std::string rawBytes(const T *data, size_t count) {
  return std::string(reinterpret_cast<const char *>(data), count * sizeof(T));
}

/// A safetensors image: 8-byte header length, header, data.
inline std::string makeSafetensors(const std::string &header,
                                   const std::string &data) {
  return leBytes<uint64_t>(header.size()) + header + data;
}

} // namespace kiln::test

#endif // KILN_TEST_RUNTIME_TESTUTIL_H
