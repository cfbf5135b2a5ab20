//===- TokenizerTestUtil.h - Shared helpers of the tokenizer tests -*- C++ -*-//

#ifndef KILN_TEST_RUNTIME_TOKENIZER_TOKENIZERTESTUTIL_H
#define KILN_TEST_RUNTIME_TOKENIZER_TOKENIZERTESTUTIL_H

#include "../TestUtil.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace kiln::test {

/// test/fixtures/tokenizer: vocabularies and reference cases.
inline const std::string kTokenizerFixtures =
    std::string(KILN_TEST_FIXTURES) + "/tokenizer";

/// A fixture JSON file; a missing or malformed one fails the test.
inline nlohmann::json readJson(const std::string &path) {
  std::string text = readFile(path);
  EXPECT_FALSE(text.empty()) << "cannot read " << path;
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

inline std::vector<int32_t> idsOf(const nlohmann::json &array) {
  return array.get<std::vector<int32_t>>();
}

/// Text for failure messages: escapes what a terminal would hide.
inline std::string printable(const std::string &text) {
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7F) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02X", c);
      out += buffer;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out.size() > 200 ? out.substr(0, 200) + "..." : out;
}

} // namespace kiln::test

#endif // KILN_TEST_RUNTIME_TOKENIZER_TOKENIZERTESTUTIL_H
