//===- FuzzCheck.h - Checks shared by the fuzz targets ----------*- C++ -*-===//
//
// A failed check prints what broke and aborts, which libFuzzer reports as a
// crash and saves the input for.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_FUZZ_FUZZCHECK_H
#define KILN_TEST_FUZZ_FUZZCHECK_H

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#define FUZZ_CHECK(condition, message)                                         \
  do {                                                                         \
    if (!(condition)) {                                                        \
      std::fprintf(stderr, "%s:%d: fuzz check failed: %s: %s\n", __FILE__,     \
                   __LINE__, #condition, std::string(message).c_str());        \
      std::abort();                                                            \
    }                                                                          \
  } while (false)

namespace kiln::fuzz {

/// Reader errors are one non-empty line that starts with the name the
/// reader was given for its input ("model.safetensors: ...").
inline void checkErrorMessage(const std::string &message,
                              std::string_view name) {
  FUZZ_CHECK(!message.empty(), "empty error message");
  FUZZ_CHECK(message.find('\n') == std::string::npos, message);
  FUZZ_CHECK(message.compare(0, name.size(), name) == 0,
             "the message does not start with '" + std::string(name) +
                 "': " + message);
}

} // namespace kiln::fuzz

#endif // KILN_TEST_FUZZ_FUZZCHECK_H
