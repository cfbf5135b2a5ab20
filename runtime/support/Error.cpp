//===- Error.cpp - Recoverable errors of the Kiln runtime -----------------===//

#include "runtime/support/Error.h"

namespace kiln {

Error Error::failure(std::string message) {
  // One error, one line: callers print messages verbatim after "error: ".
  for (char &c : message)
    if (c == '\n' || c == '\r')
      c = ' ';
  Error error;
  error.failed = true;
  error.text = std::move(message);
  return error;
}

std::string jsonErrorMessage(const std::exception &e) {
  std::string what = e.what();
  if (!what.empty() && what[0] == '[') {
    size_t close = what.find("] ");
    if (close != std::string::npos)
      what = what.substr(close + 2);
  }
  return what;
}

} // namespace kiln
