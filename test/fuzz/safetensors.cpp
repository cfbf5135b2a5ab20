//===- safetensors.cpp - Fuzzes the safetensors reader --------------------===//
//
// Input: a whole safetensors file, as SafetensorsFile::fromMemory sees an
// embedded one (SafetensorsFile::open maps a file and parses the same way).
// Valid files must hand out tensors that lie inside the input and convert.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"

#include "runtime/support/Safetensors.h"

#include <cstdint>
#include <cstring>

using namespace kiln;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Expected<SafetensorsFile> file =
      SafetensorsFile::fromMemory(data, size, "fuzz.safetensors");
  if (!file) {
    fuzz::checkErrorMessage(file.message(), "fuzz.safetensors: ");
    return 0;
  }
  const auto *begin = reinterpret_cast<const unsigned char *>(data);
  uint64_t previousEnd = 0;
  for (const SafetensorsTensor &tensor : file->tensors()) {
    const auto *bytes = static_cast<const unsigned char *>(tensor.data);
    FUZZ_CHECK(bytes >= begin && bytes <= begin + size, tensor.name);
    FUZZ_CHECK(tensor.byteSize <= static_cast<size_t>(begin + size - bytes),
               tensor.name);
    FUZZ_CHECK(tensor.end - tensor.begin == tensor.byteSize, tensor.name);
    FUZZ_CHECK(tensor.begin == previousEnd, tensor.name);
    previousEnd = tensor.end;
    std::optional<uint64_t> count =
        checkedNumElements(tensor.shape, dtypeSize(tensor.dtype));
    FUZZ_CHECK(count && *count * dtypeSize(tensor.dtype) == tensor.byteSize,
               tensor.name);
    FUZZ_CHECK(file->find(tensor.name) != nullptr, tensor.name);
    // Touch every byte, as a model reading the weights would.
    unsigned sum = 0;
    for (size_t i = 0; i < tensor.byteSize; ++i)
      sum += bytes[i];
    (void)sum;
    if (isFloatingPoint(tensor.dtype)) {
      Expected<AlignedBuffer> converted = convertToF32(tensor, file->name());
      FUZZ_CHECK(converted, converted.message());
    }
  }
  Expected<const SafetensorsTensor *> missing =
      file->lookup("no such tensor \n");
  FUZZ_CHECK(!missing, "found a tensor that is not there");
  return 0;
}
