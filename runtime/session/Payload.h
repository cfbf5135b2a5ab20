//===- Payload.h - Files appended to the running executable -----*- C++ -*-===//
//
// Reads the embedded payload of runtime/Contract.h from the executable's own
// file: maps it read-only and validates the trailer and index before handing
// out any file, so a truncated, stripped or damaged executable ends with one
// message instead of reading out of bounds.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_SESSION_PAYLOAD_H
#define KILN_RUNTIME_SESSION_PAYLOAD_H

#include "runtime/session/Session.h"
#include "runtime/support/Error.h"
#include "runtime/support/FileUtil.h"

#include <memory>
#include <string>
#include <vector>

namespace kiln {

/// The running executable's file ("/proc/self/exe" resolved; that link
/// itself if it cannot be read).
std::string currentExecutablePath();

class EmbeddedPayload {
public:
  /// Maps `path` and reads its payload, which must list `expectedFiles`
  /// files.
  static Expected<std::unique_ptr<EmbeddedPayload>>
  open(const std::string &path, uint64_t expectedFiles);
  /// Validates a payload already in memory (`size` bytes of the whole
  /// executable at `data`); `name` stands for it in messages. The caller
  /// keeps the bytes alive.
  static Expected<std::unique_ptr<EmbeddedPayload>>
  fromMemory(const void *data, uint64_t size, uint64_t expectedFiles,
             const std::string &name);

  /// The files, in the form ModelSymbols::embeddedFiles takes.
  const KilnEmbeddedFile *files() const { return entries.data(); }
  uint64_t fileCount() const { return entries.size(); }

private:
  EmbeddedPayload() = default;
  Error parse(const void *data, uint64_t size, uint64_t expectedFiles,
              const std::string &name);

  MappedFile mapping;
  std::vector<std::string> names;
  std::vector<KilnEmbeddedFile> entries;
};

} // namespace kiln

#endif // KILN_RUNTIME_SESSION_PAYLOAD_H
