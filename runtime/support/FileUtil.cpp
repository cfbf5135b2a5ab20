//===- FileUtil.cpp - Small file helpers for the runtime ------------------===//

#include "runtime/support/FileUtil.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

#include <filesystem>

namespace kiln {

namespace {
/// Closes a file descriptor on every return path.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0)
      ::close(fd);
  }
};

int openReadOnly(const std::string &path) {
  int fd;
  do
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  return fd;
}
} // namespace

Expected<std::string> readFileBytes(const std::string &path) {
  int fd = openReadOnly(path);
  if (fd < 0)
    return makeError("cannot open ", path, ": ", std::strerror(errno));
  FdCloser closer{fd};
  struct stat info;
  if (::fstat(fd, &info) != 0)
    return makeError("cannot read ", path, ": ", std::strerror(errno));
  if (S_ISDIR(info.st_mode))
    return makeError("cannot read ", path, ": ", std::strerror(EISDIR));
  std::string bytes;
  if (S_ISREG(info.st_mode))
    bytes.reserve(static_cast<size_t>(info.st_size));
  // Loop until EOF rather than trusting st_size: pipes report 0.
  char chunk[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return makeError("cannot read ", path, ": ", std::strerror(errno));
    }
    if (n == 0)
      break;
    bytes.append(chunk, static_cast<size_t>(n));
  }
  return bytes;
}

Expected<MappedFile> MappedFile::open(const std::string &path) {
  int fd = openReadOnly(path);
  if (fd < 0)
    return makeError("cannot open ", path, ": ", std::strerror(errno));
  FdCloser closer{fd};
  struct stat info;
  if (::fstat(fd, &info) != 0)
    return makeError("cannot read ", path, ": ", std::strerror(errno));
  if (!S_ISREG(info.st_mode))
    return makeError("cannot map ", path, ": not a regular file");
  MappedFile file;
  if (info.st_size == 0)
    return file; // mmap rejects empty ranges; an empty map is fine.
  void *ptr = ::mmap(nullptr, static_cast<size_t>(info.st_size), PROT_READ,
                     MAP_PRIVATE, fd, 0);
  if (ptr == MAP_FAILED)
    return makeError("cannot map ", path, ": ", std::strerror(errno));
  file.ptr = ptr;
  file.bytes = static_cast<size_t>(info.st_size);
  return file;
}

MappedFile::MappedFile(MappedFile &&other) noexcept
    : ptr(other.ptr), bytes(other.bytes) {
  other.ptr = nullptr;
  other.bytes = 0;
}

MappedFile &MappedFile::operator=(MappedFile &&other) noexcept {
  if (this != &other) {
    reset();
    ptr = other.ptr;
    bytes = other.bytes;
    other.ptr = nullptr;
    other.bytes = 0;
  }
  return *this;
}

MappedFile::~MappedFile() { reset(); }

void MappedFile::reset() {
  if (ptr)
    ::munmap(ptr, bytes);
  ptr = nullptr;
  bytes = 0;
}

Error createDirectories(const std::string &path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec)
    return makeError("cannot create directory ", path, ": ", ec.message());
  if (!std::filesystem::is_directory(path, ec))
    return makeError("cannot create directory ", path,
                     ": a file with that name exists");
  return Error::success();
}

} // namespace kiln
