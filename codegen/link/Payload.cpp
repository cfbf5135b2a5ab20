//===- Payload.cpp - Files appended to a linked executable ----------------===//

#include "codegen/link/Payload.h"

#include "runtime/Contract.h"
#include "runtime/support/Safetensors.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

using namespace llvm;

namespace kiln {

namespace {

uint64_t alignTo(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

/// A file descriptor closed on scope exit.
class FileDescriptor {
public:
  explicit FileDescriptor(int fd) : fd(fd) {}
  FileDescriptor(const FileDescriptor &) = delete;
  FileDescriptor &operator=(const FileDescriptor &) = delete;
  ~FileDescriptor() {
    if (fd >= 0)
      ::close(fd);
  }
  int get() const { return fd; }
  bool valid() const { return fd >= 0; }

private:
  int fd;
};

std::string systemError(const std::string &what, const std::string &path) {
  return what + " '" + path + "': " + std::strerror(errno);
}

bool writeAll(int fd, const void *data, uint64_t size, uint64_t offset,
              const std::string &path, std::string &error) {
  const char *bytes = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t written = ::pwrite(fd, bytes, size, static_cast<off_t>(offset));
    if (written < 0 && errno == EINTR)
      continue;
    if (written <= 0) {
      error = systemError("cannot write", path);
      return false;
    }
    bytes += written;
    size -= static_cast<uint64_t>(written);
    offset += static_cast<uint64_t>(written);
  }
  return true;
}

/// Copies bytes [from, from + size) of `in` to `to` in `out` through the
/// kernel (copy_file_range, else a small buffer): nothing is held in memory.
bool copyBytes(int in, uint64_t from, int out, uint64_t to, uint64_t size,
               const std::string &inPath, const std::string &outPath,
               std::string &error) {
  while (size > 0) {
    loff_t inOffset = static_cast<loff_t>(from);
    loff_t outOffset = static_cast<loff_t>(to);
    ssize_t copied = ::copy_file_range(in, &inOffset, out, &outOffset,
                                       std::min<uint64_t>(size, 1ull << 30), 0);
    if (copied < 0 && errno == EINTR)
      continue;
    if (copied < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
                       errno == EOPNOTSUPP)) {
      // Another file system, or no kernel support: copy by hand.
      std::vector<char> buffer(std::min<uint64_t>(size, 8u << 20));
      while (size > 0) {
        ssize_t got = ::pread(in, buffer.data(),
                              std::min<uint64_t>(size, buffer.size()),
                              static_cast<off_t>(from));
        if (got < 0 && errno == EINTR)
          continue;
        if (got <= 0) {
          error = got == 0 ? "'" + inPath + "' is shorter than its header says"
                           : systemError("cannot read", inPath);
          return false;
        }
        if (!writeAll(out, buffer.data(), static_cast<uint64_t>(got), to,
                      outPath, error))
          return false;
        from += static_cast<uint64_t>(got);
        to += static_cast<uint64_t>(got);
        size -= static_cast<uint64_t>(got);
      }
      return true;
    }
    if (copied <= 0) {
      error = copied == 0 ? "'" + inPath + "' is shorter than its header says"
                          : systemError("cannot copy", inPath);
      return false;
    }
    from += static_cast<uint64_t>(copied);
    to += static_cast<uint64_t>(copied);
    size -= static_cast<uint64_t>(copied);
  }
  return true;
}

/// copyBytes for the parts of the range that hold data: holes of a sparse
/// input are skipped, and stay holes in the output.
bool copyDataRanges(int in, uint64_t from, int out, uint64_t to, uint64_t size,
                    const std::string &inPath, const std::string &outPath,
                    std::string &error) {
  uint64_t end = from + size;
  uint64_t position = from;
  while (position < end) {
    off_t data = ::lseek(in, static_cast<off_t>(position), SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) // Only a hole is left.
        return true;
      // No SEEK_DATA here: copy everything.
      return copyBytes(in, position, out, to + (position - from),
                       end - position, inPath, outPath, error);
    }
    uint64_t dataBegin = static_cast<uint64_t>(data);
    if (dataBegin >= end)
      return true;
    off_t hole = ::lseek(in, data, SEEK_HOLE);
    uint64_t dataEnd =
        hole < 0 ? end : std::min<uint64_t>(end, static_cast<uint64_t>(hole));
    if (!copyBytes(in, dataBegin, out, to + (dataBegin - from),
                   dataEnd - dataBegin, inPath, outPath, error))
      return false;
    position = dataEnd;
  }
  return true;
}

/// Writes `path` (a safetensors file) at `offset` with every tensor aligned to
/// kPayloadTensorAlignment; returns the bytes written through `size`.
bool writeAlignedSafetensors(const PayloadFile &file, int out,
                             const std::string &outPath, uint64_t offset,
                             uint64_t &size, std::string &error) {
  // The reader validates the header without touching the tensors' pages.
  Expected<SafetensorsFile> source = SafetensorsFile::open(file.path);
  if (!source) {
    error = source.message();
    return false;
  }
  FileDescriptor in(::open(file.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) {
    error = systemError("cannot open", file.path);
    return false;
  }
  uint64_t sourceHeaderLength = 0;
  unsigned char lengthBytes[8];
  if (::pread(in.get(), lengthBytes, 8, 0) != 8) {
    error = systemError("cannot read", file.path);
    return false;
  }
  for (int i = 7; i >= 0; --i)
    sourceHeaderLength = sourceHeaderLength << 8 | lengthBytes[i];
  uint64_t sourceData = 8 + sourceHeaderLength;

  const uint64_t alignment = contract::kPayloadTensorAlignment;
  struct Placement {
    const SafetensorsTensor *tensor;
    uint64_t begin;
  };
  std::vector<Placement> placements;
  nlohmann::json header = nlohmann::json::object();
  uint64_t cursor = 0;
  unsigned paddings = 0;
  // tensors() is in data-offset order, so the layout follows the source's.
  for (const SafetensorsTensor &tensor : source->tensors()) {
    uint64_t begin = alignTo(cursor, alignment);
    if (begin > cursor) {
      header[contract::kPayloadPaddingTensorPrefix +
             std::to_string(paddings++)] = {
          {"dtype", "U8"},
          {"shape", {begin - cursor}},
          {"data_offsets", {cursor, begin}}};
    }
    nlohmann::json shape = nlohmann::json::array();
    for (int64_t dim : tensor.shape)
      shape.push_back(dim);
    header[tensor.name] = {{"dtype", safetensorsDTypeName(tensor.dtype)},
                           {"shape", shape},
                           {"data_offsets", {begin, begin + tensor.byteSize}}};
    placements.push_back({&tensor, begin});
    cursor = begin + tensor.byteSize;
  }
  std::string headerText = header.dump();
  // Spaces after the JSON (allowed by the format) align the data section.
  headerText.resize(alignTo(8 + headerText.size(), alignment) - 8, ' ');
  unsigned char length[8];
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<unsigned char>(headerText.size() >> (8 * i));
  if (!writeAll(out, length, 8, offset, outPath, error) ||
      !writeAll(out, headerText.data(), headerText.size(), offset + 8, outPath,
                error))
    return false;
  uint64_t data = offset + 8 + headerText.size();
  for (const Placement &placement : placements)
    if (!copyDataRanges(in.get(), sourceData + placement.tensor->begin, out,
                        data + placement.begin, placement.tensor->byteSize,
                        file.path, outPath, error))
      return false;
  size = 8 + headerText.size() + cursor;
  return true;
}

bool endsWith(StringRef text, StringRef suffix) {
  return text.size() >= suffix.size() &&
         text.substr(text.size() - suffix.size()) == suffix;
}

} // namespace

bool appendPayload(StringRef executable, ArrayRef<PayloadFile> files,
                   std::string &error) {
  std::string outPath = executable.str();
  FileDescriptor out(::open(outPath.c_str(), O_WRONLY | O_CLOEXEC));
  if (!out.valid()) {
    error = systemError("cannot open", outPath);
    return false;
  }
  struct stat status;
  if (::fstat(out.get(), &status) != 0) {
    error = systemError("cannot stat", outPath);
    return false;
  }
  uint64_t offset = static_cast<uint64_t>(status.st_size);
  nlohmann::json index = nlohmann::json::array();
  for (const PayloadFile &file : files) {
    offset = alignTo(offset, contract::kPayloadAlignment);
    uint64_t size = 0;
    if (endsWith(file.name, contract::kSafetensorsSuffix)) {
      if (!writeAlignedSafetensors(file, out.get(), outPath, offset, size,
                                   error))
        return false;
    } else {
      FileDescriptor in(::open(file.path.c_str(), O_RDONLY | O_CLOEXEC));
      struct stat inStatus;
      if (!in.valid() || ::fstat(in.get(), &inStatus) != 0) {
        error = systemError("cannot read", file.path);
        return false;
      }
      size = static_cast<uint64_t>(inStatus.st_size);
      if (!copyDataRanges(in.get(), 0, out.get(), offset, size, file.path,
                          outPath, error))
        return false;
    }
    index.push_back({{contract::kPayloadIndexNameKey, file.name},
                     {contract::kPayloadIndexOffsetKey, offset},
                     {contract::kPayloadIndexSizeKey, size}});
    offset += size;
  }
  std::string indexText =
      nlohmann::json{{contract::kPayloadIndexFilesKey, index}}.dump();
  contract::PayloadTrailer trailer;
  std::memcpy(trailer.magic, contract::kPayloadMagic, sizeof(trailer.magic));
  trailer.indexOffset = offset;
  trailer.indexSize = indexText.size();
  trailer.fileSize = offset + indexText.size() + sizeof(trailer);
  if (!writeAll(out.get(), indexText.data(), indexText.size(), offset, outPath,
                error) ||
      !writeAll(out.get(), &trailer, sizeof(trailer), offset + indexText.size(),
                outPath, error))
    return false;
  // The copies may have left holes at the end of the last file.
  if (::ftruncate(out.get(), static_cast<off_t>(trailer.fileSize)) != 0) {
    error = systemError("cannot resize", outPath);
    return false;
  }
  return true;
}

} // namespace kiln
