//===- payload.cpp - Fuzzes the embedded payload reader -------------------===//
//
// Input: one byte, the number of files the model expects (low 3 bits), then
// an executable whose end holds the payload (runtime/Contract.h):
// EmbeddedPayload::fromMemory validates it as EmbeddedPayload::open does the
// mapped executable. The files it hands out must lie inside the input, and
// the safetensors among them are read as a generated executable reads them.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"

#include "runtime/session/Payload.h"
#include "runtime/support/Safetensors.h"

#include <cstdint>
#include <cstring>

using namespace kiln;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  uint64_t expectedFiles = data[0] & 7;
  const uint8_t *exe = data + 1;
  size_t exeSize = size - 1;
  Expected<std::unique_ptr<EmbeddedPayload>> payload =
      EmbeddedPayload::fromMemory(exe, exeSize, expectedFiles, "fuzz.exe");
  if (!payload) {
    fuzz::checkErrorMessage(payload.message(), "fuzz.exe: ");
    return 0;
  }
  FUZZ_CHECK((*payload)->fileCount() == expectedFiles, "file count");
  for (uint64_t i = 0; i < (*payload)->fileCount(); ++i) {
    const KilnEmbeddedFile &file = (*payload)->files()[i];
    FUZZ_CHECK(file.name != nullptr, "no name");
    FUZZ_CHECK(file.data >= exe && file.data <= exe + exeSize, file.name);
    FUZZ_CHECK(file.size <= static_cast<uint64_t>(exe + exeSize - file.data),
               file.name);
    unsigned sum = 0;
    for (uint64_t j = 0; j < file.size; ++j)
      sum += file.data[j];
    (void)sum;
    std::string name = file.name;
    if (name.size() >= 12 &&
        name.compare(name.size() - 12, 12, ".safetensors") == 0) {
      Expected<SafetensorsFile> weights =
          SafetensorsFile::fromMemory(file.data, file.size, name);
      if (!weights)
        fuzz::checkErrorMessage(weights.message(), name);
    }
  }
  return 0;
}
