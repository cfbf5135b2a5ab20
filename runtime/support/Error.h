//===- Error.h - Recoverable errors of the Kiln runtime ---------*- C++ -*-===//
//
// The runtime reports every failure (bad file, wrong shape, ...) as a value,
// never by throwing or aborting: a generated executable must end with a one
// line message and exit code 1, whatever the input. Messages are single lines
// that name the file or tensor at fault.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_SUPPORT_ERROR_H
#define KILN_RUNTIME_SUPPORT_ERROR_H

#include <cassert>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace kiln {

/// The outcome of an operation with no result: success or a message.
class [[nodiscard]] Error {
public:
  /// A success value.
  Error() = default;

  static Error success() { return Error(); }
  /// A failure. Newlines in the message are replaced by spaces so that every
  /// error prints as one line.
  static Error failure(std::string message);

  /// True for a failure, like llvm::Error.
  explicit operator bool() const { return failed; }
  bool isFailure() const { return failed; }
  const std::string &message() const { return text; }

private:
  bool failed = false;
  std::string text;
};

/// Either a value of type T or a failure message.
template <typename T> class [[nodiscard]] Expected {
public:
  Expected(T value) : value(std::move(value)) {}
  /// Converts a failure; passing a success Error is a programming mistake.
  Expected(Error error) : error(std::move(error)) {
    assert(this->error.isFailure() && "Expected built from a success Error");
    if (!this->error.isFailure())
      this->error = Error::failure("internal error: missing error message");
  }

  /// True when a value is held, like llvm::Expected.
  explicit operator bool() const { return value.has_value(); }
  bool hasValue() const { return value.has_value(); }

  T &operator*() { return *value; }
  const T &operator*() const { return *value; }
  T *operator->() { return &*value; }
  const T *operator->() const { return &*value; }
  T &get() { return *value; }
  const T &get() const { return *value; }

  /// The failure (a success Error when a value is held).
  const Error &getError() const { return error; }
  const std::string &message() const { return error.message(); }
  Error takeError() { return std::move(error); }

private:
  std::optional<T> value;
  Error error;
};

// Pieces accepted by makeError.
inline void appendPart(std::string &out, const std::string &s) { out += s; }
inline void appendPart(std::string &out, const char *s) { out += s; }
inline void appendPart(std::string &out, std::string_view s) { out += s; }
inline void appendPart(std::string &out, char c) { out += c; }
template <typename N>
inline auto appendPart(std::string &out, N n)
    -> decltype(std::to_string(n), void()) {
  out += std::to_string(n);
}

/// Builds a failure from pieces: makeError("a.npy: expected ", n, " bytes").
template <typename... Parts> Error makeError(const Parts &...parts) {
  std::string text;
  (appendPart(text, parts), ...);
  return Error::failure(std::move(text));
}

/// nlohmann_json's exception message without its "[json.exception...] "
/// tag, for one-line errors about a JSON file.
std::string jsonErrorMessage(const std::exception &e);

} // namespace kiln

#endif // KILN_RUNTIME_SUPPORT_ERROR_H
