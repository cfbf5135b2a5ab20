//===- Payload.cpp - Files appended to the running executable -------------===//

#include "runtime/session/Payload.h"

#include "runtime/Contract.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstring>
#include <exception>

namespace kiln {

std::string currentExecutablePath() {
  std::string path(4096, '\0');
  ssize_t length = ::readlink("/proc/self/exe", path.data(), path.size());
  if (length <= 0 || static_cast<size_t>(length) >= path.size())
    return "/proc/self/exe";
  path.resize(static_cast<size_t>(length));
  return path;
}

Expected<std::unique_ptr<EmbeddedPayload>>
EmbeddedPayload::open(const std::string &path, uint64_t expectedFiles) {
  Expected<MappedFile> mapping = MappedFile::open(path);
  if (!mapping)
    return mapping.takeError();
  std::unique_ptr<EmbeddedPayload> payload(new EmbeddedPayload);
  payload->mapping = std::move(*mapping);
  if (Error e = payload->parse(payload->mapping.data(),
                               payload->mapping.size(), expectedFiles, path))
    return e;
  return payload;
}

Expected<std::unique_ptr<EmbeddedPayload>>
EmbeddedPayload::fromMemory(const void *data, uint64_t size,
                            uint64_t expectedFiles, const std::string &name) {
  std::unique_ptr<EmbeddedPayload> payload(new EmbeddedPayload);
  if (Error e = payload->parse(data, size, expectedFiles, name))
    return e;
  return payload;
}

Error EmbeddedPayload::parse(const void *data, uint64_t size,
                             uint64_t expectedFiles, const std::string &name) {
  const auto *bytes = static_cast<const unsigned char *>(data);
  const std::string missing =
      ": the embedded weights and files are missing or damaged (was the "
      "executable stripped, truncated or appended to? compile it again)";
  contract::PayloadTrailer trailer;
  if (size < sizeof(trailer))
    return makeError(name, missing);
  std::memcpy(&trailer, bytes + size - sizeof(trailer), sizeof(trailer));
  if (std::memcmp(trailer.magic, contract::kPayloadMagic,
                  sizeof(trailer.magic)) != 0)
    return makeError(name, missing);
  if (trailer.fileSize != size)
    return makeError(name, missing, " (the file has ", size,
                     " bytes, its payload says ", trailer.fileSize, ")");
  uint64_t indexLimit = size - sizeof(trailer);
  if (trailer.indexOffset > indexLimit ||
      trailer.indexSize != indexLimit - trailer.indexOffset)
    return makeError(name, ": the embedded payload index is out of bounds");

  nlohmann::json index;
  try {
    index = nlohmann::json::parse(bytes + trailer.indexOffset,
                                  bytes + indexLimit);
  } catch (const std::exception &) {
    return makeError(name, ": the embedded payload index is not valid JSON");
  }
  auto filesIt = index.is_object() ? index.find(contract::kPayloadIndexFilesKey)
                                   : index.end();
  if (filesIt == index.end() || !filesIt->is_array())
    return makeError(name, ": the embedded payload index has no 'files' list");
  if (filesIt->size() != expectedFiles)
    return makeError(name, ": the embedded payload lists ", filesIt->size(),
                     " files, the model expects ", expectedFiles);
  names.reserve(filesIt->size());
  for (const nlohmann::json &file : *filesIt) {
    auto nameIt = file.is_object() ? file.find(contract::kPayloadIndexNameKey)
                                   : file.end();
    auto offsetIt = file.is_object()
                        ? file.find(contract::kPayloadIndexOffsetKey)
                        : file.end();
    auto sizeIt = file.is_object() ? file.find(contract::kPayloadIndexSizeKey)
                                   : file.end();
    if (nameIt == file.end() || !nameIt->is_string() ||
        offsetIt == file.end() || !offsetIt->is_number_unsigned() ||
        sizeIt == file.end() || !sizeIt->is_number_unsigned())
      return makeError(name, ": an entry of the embedded payload index is "
                             "not {name, offset, size}");
    uint64_t offset = offsetIt->get<uint64_t>();
    uint64_t fileSize = sizeIt->get<uint64_t>();
    if (offset % contract::kPayloadAlignment != 0 ||
        offset > trailer.indexOffset ||
        fileSize > trailer.indexOffset - offset)
      return makeError(name, ": embedded file '",
                       nameIt->get<std::string>(), "' is out of bounds");
    names.push_back(nameIt->get<std::string>());
    entries.push_back({nullptr, bytes + offset, fileSize});
  }
  // Names are stored first: the vector no longer moves.
  for (size_t i = 0; i < entries.size(); ++i)
    entries[i].name = names[i].c_str();
  return Error::success();
}

} // namespace kiln
