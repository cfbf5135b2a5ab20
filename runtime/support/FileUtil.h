//===- FileUtil.h - Small file helpers for the runtime ----------*- C++ -*-===//
//
// Whole-file reads, read-only memory maps and directory creation, all
// reporting failures as one-line messages that name the path.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_SUPPORT_FILEUTIL_H
#define KILN_RUNTIME_SUPPORT_FILEUTIL_H

#include "runtime/support/Error.h"

#include <cstddef>
#include <string>

namespace kiln {

/// Reads a whole file (regular file, pipe or device) into memory.
Expected<std::string> readFileBytes(const std::string &path);

/// A read-only, private memory map of a whole regular file. Move-only.
class MappedFile {
public:
  MappedFile() = default;
  static Expected<MappedFile> open(const std::string &path);

  MappedFile(MappedFile &&other) noexcept;
  MappedFile &operator=(MappedFile &&other) noexcept;
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;
  ~MappedFile();

  const void *data() const { return ptr; }
  size_t size() const { return bytes; }

private:
  void reset();

  void *ptr = nullptr;
  size_t bytes = 0;
};

/// Creates `path` and its missing parents; succeeds if it already exists as a
/// directory.
Error createDirectories(const std::string &path);

} // namespace kiln

#endif // KILN_RUNTIME_SUPPORT_FILEUTIL_H
