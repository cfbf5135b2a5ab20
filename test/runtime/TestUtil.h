//===- TestUtil.h - Helpers shared by the runtime unit tests ----*- C++ -*-===//

#ifndef KILN_TEST_RUNTIME_TESTUTIL_H
#define KILN_TEST_RUNTIME_TESTUTIL_H

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

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

/// A safetensors image of f32 tensors; `shapes` gives each tensor's shape
/// (default: 1-D). With `alignData`, the data section starts 64-byte aligned
/// relative to the image, otherwise 4 bytes past that.
inline std::string makeF32Safetensors(
    const std::vector<std::pair<std::string, std::vector<float>>> &tensors,
    bool alignData = true, const std::vector<std::string> &shapes = {}) {
  std::string header = "{", data;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto &[name, values] = tensors[i];
    std::string shape = i < shapes.size()
                            ? shapes[i]
                            : "[" + std::to_string(values.size()) + "]";
    size_t begin = data.size();
    data += rawBytes(values.data(), values.size());
    header += (i ? ",\"" : "\"") + name +
              "\":{\"dtype\":\"F32\",\"shape\":" + shape +
              ",\"data_offsets\":[" + std::to_string(begin) + "," +
              std::to_string(data.size()) + "]}";
  }
  header += "}";
  size_t pad = (64 - (8 + header.size()) % 64) % 64;
  header.append(alignData ? pad : pad + 4, ' ');
  return makeSafetensors(header, data);
}

/// Runs a command-line function `main(model, argc, argv, out, err)` on
/// "/path/to/model" followed by `args`.
struct MainResult {
  int status;
  std::string out, err;
};

template <typename Main, typename Model>
MainResult runCommandLine(Main main, const Model &model,
                          std::vector<std::string> args) {
  args.insert(args.begin(), "/path/to/model");
  std::vector<char *> argv;
  for (std::string &arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::ostringstream out, err;
  int status =
      main(model, static_cast<int>(args.size()), argv.data(), out, err);
  return {status, out.str(), err.str()};
}

} // namespace kiln::test

#endif // KILN_TEST_RUNTIME_TESTUTIL_H
