//===- Safetensors.h - Reading safetensors weight files ---------*- C++ -*-===//
//
// A safetensors file is an 8-byte little-endian header length, a JSON header
// mapping tensor names to {dtype, shape, data_offsets}, and a data section.
// The file is memory-mapped (or read from a blob embedded in the executable)
// and every header entry is validated before any tensor is handed out, so a
// generated executable never reads outside the file.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_SUPPORT_SAFETENSORS_H
#define KILN_RUNTIME_SUPPORT_SAFETENSORS_H

#include "runtime/support/Error.h"
#include "runtime/support/FileUtil.h"
#include "runtime/support/Tensor.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kiln {

/// One tensor of a safetensors file; `data` points into the mapping.
struct SafetensorsTensor {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  const void *data = nullptr;
  size_t byteSize = 0;
  /// Byte range relative to the start of the data section.
  uint64_t begin = 0, end = 0;
};

/// Safetensors spelling of a dtype ("F32", "BF16", "BOOL", ...).
const char *safetensorsDTypeName(DType type);
/// Parses a safetensors dtype spelling; std::nullopt if unknown.
std::optional<DType> parseSafetensorsDType(std::string_view name);

class SafetensorsFile {
public:
  /// Maps and validates the file at `path`.
  static Expected<SafetensorsFile> open(const std::string &path);
  /// Validates a blob that stays owned by the caller (e.g. embedded in the
  /// executable); `name` stands for it in messages.
  static Expected<SafetensorsFile> fromMemory(const void *data, size_t size,
                                              std::string name);

  /// The path or blob name used in messages.
  const std::string &name() const { return fileName; }
  /// All tensors, in data-offset order.
  const std::vector<SafetensorsTensor> &tensors() const { return entries; }
  /// The tensor called `tensorName`, or nullptr.
  const SafetensorsTensor *find(std::string_view tensorName) const;
  /// Like find, with a message naming the file and tensor on failure.
  Expected<const SafetensorsTensor *> lookup(std::string_view tensorName) const;

private:
  Error parse(const void *data, size_t size);

  std::string fileName;
  MappedFile mapping;
  std::vector<SafetensorsTensor> entries;
  std::unordered_map<std::string, size_t> index;
};

/// Converts a floating-point tensor (F32, F64, F16 or BF16) to f32 in a new
/// 64-byte aligned buffer. `fileName` is used in messages.
Expected<AlignedBuffer> convertToF32(const SafetensorsTensor &tensor,
                                     const std::string &fileName);

} // namespace kiln

#endif // KILN_RUNTIME_SUPPORT_SAFETENSORS_H
