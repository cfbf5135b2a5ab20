//===- Safetensors.cpp - Reading safetensors weight files -----------------===//

#include "runtime/support/Safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <unordered_set>

namespace kiln {

namespace {
struct StDTypeInfo {
  const char *name;
  DType type;
};
constexpr StDTypeInfo kStDTypes[] = {
    {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16},
    {"F64", DType::F64}, {"I64", DType::I64}, {"I32", DType::I32},
    {"I8", DType::I8},   {"U8", DType::U8},   {"BOOL", DType::I1},
};
constexpr const char *kKnownStDTypes =
    "F32, F16, BF16, F64, I64, I32, I8, U8 or BOOL";
/// The largest header the safetensors library reads (its MAX_HEADER_SIZE).
constexpr uint64_t kMaxHeaderLength = 100'000'000;

std::string formatRange(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

/// Reads a JSON array of non-negative integers that fit in int64.
bool readIndexArray(const nlohmann::json &value, std::vector<uint64_t> &out) {
  if (!value.is_array())
    return false;
  for (const nlohmann::json &item : value) {
    if (!item.is_number_unsigned())
      return false;
    uint64_t v = item.get<uint64_t>();
    if (v > static_cast<uint64_t>(INT64_MAX))
      return false;
    out.push_back(v);
  }
  return true;
}
} // namespace

const char *safetensorsDTypeName(DType type) {
  for (const StDTypeInfo &info : kStDTypes)
    if (info.type == type)
      return info.name;
  return "?";
}

std::optional<DType> parseSafetensorsDType(std::string_view name) {
  for (const StDTypeInfo &info : kStDTypes)
    if (name == info.name)
      return info.type;
  return std::nullopt;
}

Expected<SafetensorsFile> SafetensorsFile::open(const std::string &path) {
  Expected<MappedFile> mapping = MappedFile::open(path);
  if (!mapping)
    return mapping.takeError();
  SafetensorsFile file;
  file.fileName = path;
  file.mapping = std::move(*mapping);
  if (Error err = file.parse(file.mapping.data(), file.mapping.size()))
    return err;
  return file;
}

Expected<SafetensorsFile>
SafetensorsFile::fromMemory(const void *data, size_t size, std::string name) {
  SafetensorsFile file;
  file.fileName = std::move(name);
  if (Error err = file.parse(data, size))
    return err;
  return file;
}

Error SafetensorsFile::parse(const void *data, size_t size) {
  const std::string &name = fileName;
  const auto *bytes = static_cast<const unsigned char *>(data);
  if (size < 8)
    return makeError(name, ": not a safetensors file: ", size,
                     " bytes, expected at least 8 (the header length)");
  uint64_t headerLength = 0;
  for (int i = 7; i >= 0; --i)
    headerLength = headerLength << 8 | bytes[i];
  if (headerLength > size - 8)
    return makeError(name, ": header length ", headerLength,
                     " extends past the end of the file (", size - 8,
                     " bytes after the 8-byte length)");
  if (headerLength > kMaxHeaderLength)
    return makeError(name, ": header length ", headerLength,
                     " exceeds the limit of ", kMaxHeaderLength,
                     " bytes of the safetensors format");
  const unsigned char *dataSection = bytes + 8 + headerLength;
  uint64_t dataSize = size - 8 - headerLength;

  // nlohmann_json reports problems by throwing: keep every exception inside.
  // It keeps the last of repeated keys; the safetensors library refuses them
  // in a tensor's entry, so repeated keys are refused everywhere here.
  nlohmann::json header;
  std::vector<std::unordered_set<std::string>> openObjects;
  std::string tensorKey, duplicate;
  auto noRepeatedKeys = [&](int, nlohmann::json::parse_event_t event,
                            nlohmann::json &parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) {
      openObjects.emplace_back();
    } else if (event == Event::object_end) {
      openObjects.pop_back();
    } else if (event == Event::key && duplicate.empty()) {
      const std::string &key = parsed.get_ref<const std::string &>();
      if (!openObjects.back().insert(key).second)
        duplicate =
            openObjects.size() == 1
                ? "tensor '" + key + "' is listed twice"
                : "tensor '" + tensorKey + "': key '" + key + "' appears twice";
      else if (openObjects.size() == 1)
        tensorKey = key;
    }
    return true;
  };
  try {
    header = nlohmann::json::parse(bytes + 8, bytes + 8 + headerLength,
                                   noRepeatedKeys);
  } catch (const std::exception &e) {
    return makeError(name, ": invalid JSON header: ", jsonErrorMessage(e));
  }
  if (!header.is_object())
    return makeError(name, ": invalid header: expected a JSON object, found ",
                     header.type_name());
  if (!duplicate.empty())
    return makeError(name, ": invalid header: ", duplicate);

  try {
    for (auto it = header.begin(); it != header.end(); ++it) {
      const std::string &tensorName = it.key();
      if (tensorName == "__metadata__") {
        // A map of strings; nothing in it matters here.
        const nlohmann::json &metadata = it.value();
        bool strings = metadata.is_null() || metadata.is_object();
        if (metadata.is_object())
          for (const nlohmann::json &value : metadata)
            strings = strings && value.is_string();
        if (!strings)
          return makeError(name, ": '__metadata__' must be an object of "
                                 "strings");
        continue;
      }
      std::string where = name + ": tensor '" + tensorName + "'";
      const nlohmann::json &info = it.value();
      if (!info.is_object())
        return makeError(where,
                         ": expected an object with dtype, shape and "
                         "data_offsets, found ",
                         info.type_name());

      auto dtypeIt = info.find("dtype");
      if (dtypeIt == info.end() || !dtypeIt->is_string())
        return makeError(where, ": missing or non-string 'dtype'");
      std::string dtypeName = dtypeIt->get<std::string>();
      std::optional<DType> dtype = parseSafetensorsDType(dtypeName);
      if (!dtype)
        return makeError(where, ": unknown dtype '", dtypeName, "' (expected ",
                         kKnownStDTypes, ")");

      auto shapeIt = info.find("shape");
      std::vector<uint64_t> dims;
      if (shapeIt == info.end() || !readIndexArray(*shapeIt, dims))
        return makeError(where, ": 'shape' must be an array of non-negative "
                                "integers");
      Shape shape(dims.begin(), dims.end());

      auto offsetsIt = info.find("data_offsets");
      std::vector<uint64_t> offsets;
      if (offsetsIt == info.end() || !readIndexArray(*offsetsIt, offsets) ||
          offsets.size() != 2)
        return makeError(where, ": 'data_offsets' must be an array of two "
                                "non-negative integers");
      uint64_t begin = offsets[0], end = offsets[1];
      if (begin > end)
        return makeError(where, ": data_offsets ", formatRange(begin, end),
                         " end before they begin");
      if (end > dataSize)
        return makeError(where, ": data_offsets ", formatRange(begin, end),
                         " are outside the data section (", dataSize,
                         " bytes)");

      std::optional<uint64_t> count =
          checkedNumElements(shape, dtypeSize(*dtype));
      if (!count || *count * dtypeSize(*dtype) != end - begin)
        return makeError(where, ": shape ", formatShape(shape), " of ",
                         dtypeName, " needs ",
                         count ? std::to_string(*count * dtypeSize(*dtype))
                               : std::string("too many"),
                         " bytes, but data_offsets ", formatRange(begin, end),
                         " hold ", end - begin);

      SafetensorsTensor tensor;
      tensor.name = tensorName;
      tensor.dtype = *dtype;
      tensor.shape = std::move(shape);
      tensor.data = dataSection + begin;
      tensor.byteSize = static_cast<size_t>(end - begin);
      tensor.begin = begin;
      tensor.end = end;
      entries.push_back(std::move(tensor));
    }
  } catch (const std::exception &e) {
    return makeError(name, ": invalid header: ", e.what());
  }

  std::sort(entries.begin(), entries.end(),
            [](const SafetensorsTensor &a, const SafetensorsTensor &b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  // As in the safetensors library, the tensors tile the data section: in
  // offset order each starts where the previous one ends, the first at 0, and
  // the last ends with the file.
  const SafetensorsTensor *previous = nullptr;
  uint64_t covered = 0;
  for (const SafetensorsTensor &tensor : entries) {
    if (tensor.begin < covered)
      return makeError(name, ": tensors '", previous->name, "' ",
                       formatRange(previous->begin, previous->end), " and '",
                       tensor.name, "' ", formatRange(tensor.begin, tensor.end),
                       " overlap");
    if (tensor.begin > covered)
      return makeError(name, ": bytes ", formatRange(covered, tensor.begin),
                       " of the data section belong to no tensor (tensor '",
                       tensor.name, "' starts at ", tensor.begin, ")");
    covered = tensor.end;
    previous = &tensor;
  }
  if (covered != dataSize)
    return makeError(name, ": bytes ", formatRange(covered, dataSize),
                     " of the data section belong to no tensor (the "
                     "tensors end at ",
                     covered, ")");
  for (size_t i = 0; i < entries.size(); ++i)
    index.emplace(entries[i].name, i);
  return Error::success();
}

const SafetensorsTensor *
SafetensorsFile::find(std::string_view tensorName) const {
  auto it = index.find(std::string(tensorName));
  return it == index.end() ? nullptr : &entries[it->second];
}

Expected<const SafetensorsTensor *>
SafetensorsFile::lookup(std::string_view tensorName) const {
  if (const SafetensorsTensor *tensor = find(tensorName))
    return tensor;
  return makeError(fileName, ": tensor '", std::string(tensorName),
                   "' not found (the file has ", entries.size(), " tensors)");
}

Expected<AlignedBuffer> convertToF32(const SafetensorsTensor &tensor,
                                     const std::string &fileName) {
  if (!isFloatingPoint(tensor.dtype))
    return makeError(fileName, ": tensor '", tensor.name, "': cannot convert ",
                     safetensorsDTypeName(tensor.dtype),
                     " to f32 (expected F32, F64, F16 or BF16)");
  size_t count = tensor.byteSize / dtypeSize(tensor.dtype);
  Expected<AlignedBuffer> buffer =
      AlignedBuffer::allocate(count * sizeof(float), /*zero=*/false);
  if (!buffer)
    return makeError(fileName, ": tensor '", tensor.name,
                     "': ", buffer.message());
  if (Error err = convertElements(tensor.dtype, tensor.data, DType::F32,
                                  buffer->data(), count))
    return makeError(fileName, ": tensor '", tensor.name, "': ", err.message());
  return buffer;
}

} // namespace kiln
