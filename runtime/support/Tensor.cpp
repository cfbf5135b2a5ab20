//===- Tensor.cpp - Element types, aligned buffers, tensor views ----------===//

#include "runtime/support/Tensor.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <limits>

namespace kiln {

namespace {
struct DTypeInfo {
  DType type;
  const char *name;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::F32, contract::kDTypeF32, 4},
    {DType::F64, contract::kDTypeF64, 8},
    {DType::F16, contract::kDTypeF16, 2},
    {DType::BF16, contract::kDTypeBF16, 2},
    {DType::I32, contract::kDTypeI32, 4},
    {DType::I64, contract::kDTypeI64, 8},
    {DType::I8, contract::kDTypeI8, 1},
    {DType::U8, contract::kDTypeU8, 1},
    {DType::I1, contract::kDTypeI1, 1},
};
} // namespace

const char *dtypeName(DType type) {
  for (const DTypeInfo &info : kDTypes)
    if (info.type == type)
      return info.name;
  return "?";
}

std::optional<DType> parseDTypeName(std::string_view name) {
  for (const DTypeInfo &info : kDTypes)
    if (name == info.name)
      return info.type;
  return std::nullopt;
}

size_t dtypeSize(DType type) {
  for (const DTypeInfo &info : kDTypes)
    if (info.type == type)
      return info.size;
  return 0;
}

bool isFloatingPoint(DType type) {
  return type == DType::F32 || type == DType::F64 || type == DType::F16 ||
         type == DType::BF16;
}

std::string formatShape(const Shape &shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      out += ',';
    out += std::to_string(shape[i]);
  }
  out += ']';
  return out;
}

std::string formatType(DType type, const Shape &shape) {
  return std::string(dtypeName(type)) + " " + formatShape(shape);
}

std::optional<uint64_t> checkedNumElements(const Shape &shape,
                                           size_t elementSize) {
  // Bounded by SIZE_MAX so that the byte count always fits a size_t.
  const uint64_t limit = std::numeric_limits<size_t>::max();
  uint64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0)
      return std::nullopt;
    if (dim != 0 && count > limit / static_cast<uint64_t>(dim))
      return std::nullopt;
    count *= static_cast<uint64_t>(dim);
  }
  if (elementSize > 0 && count > limit / elementSize)
    return std::nullopt;
  return count;
}

//===----------------------------------------------------------------------===//
// AlignedBuffer
//===----------------------------------------------------------------------===//

namespace {
constexpr size_t kHugePageBytes = size_t(2) << 20;
constexpr size_t kHugeBufferBytes = size_t(4) << 20;
} // namespace

Expected<AlignedBuffer> AlignedBuffer::allocate(size_t bytes, bool zero) {
  if (bytes > std::numeric_limits<size_t>::max() - kHugePageBytes)
    return makeError("out of memory: cannot allocate ", bytes, " bytes");
  // aligned_alloc wants a multiple of the alignment; never ask for 0 so that
  // empty tensors still get a distinct, valid pointer.
  // Large buffers (packed weights, the KV cache) are aligned to huge pages
  // and asked to use them: a model's worth of weights then faults in 512
  // times fewer pages at load, and the GEMMs that stream them miss the TLB
  // less.
  const size_t alignment =
      bytes >= kHugeBufferBytes ? kHugePageBytes : kBufferAlignment;
  size_t rounded = bytes == 0 ? alignment
                              : (bytes + alignment - 1) / alignment * alignment;
  void *ptr = std::aligned_alloc(alignment, rounded);
  if (!ptr)
    return makeError("out of memory: cannot allocate ", bytes, " bytes");
#ifdef MADV_HUGEPAGE
  if (alignment == kHugePageBytes)
    madvise(ptr, rounded, MADV_HUGEPAGE); // Only a hint: failure is harmless.
#endif
  if (zero)
    std::memset(ptr, 0, rounded);
  AlignedBuffer buffer;
  buffer.ptr = ptr;
  buffer.bytes = bytes;
  return buffer;
}

AlignedBuffer::AlignedBuffer(AlignedBuffer &&other) noexcept
    : ptr(other.ptr), bytes(other.bytes) {
  other.ptr = nullptr;
  other.bytes = 0;
}

AlignedBuffer &AlignedBuffer::operator=(AlignedBuffer &&other) noexcept {
  if (this != &other) {
    std::free(ptr);
    ptr = other.ptr;
    bytes = other.bytes;
    other.ptr = nullptr;
    other.bytes = 0;
  }
  return *this;
}

AlignedBuffer::~AlignedBuffer() { std::free(ptr); }

//===----------------------------------------------------------------------===//
// Tensors
//===----------------------------------------------------------------------===//

uint64_t TensorView::numElements() const {
  return checkedNumElements(shape).value_or(0);
}

Expected<Tensor> Tensor::allocate(DType dtype, Shape shape) {
  std::optional<uint64_t> count = checkedNumElements(shape, dtypeSize(dtype));
  if (!count)
    return makeError("invalid tensor shape ", formatType(dtype, shape));
  Expected<AlignedBuffer> buffer =
      AlignedBuffer::allocate(*count * dtypeSize(dtype));
  if (!buffer)
    return buffer.takeError();
  Tensor tensor;
  tensor.dtype = dtype;
  tensor.shape = std::move(shape);
  tensor.buffer = std::move(*buffer);
  return tensor;
}

//===----------------------------------------------------------------------===//
// Floating-point conversions
//===----------------------------------------------------------------------===//

static uint32_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

static float bitsFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

float halfToFloat(uint16_t bits) {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  uint32_t exponent = (bits >> 10) & 0x1f;
  uint32_t mantissa = bits & 0x3ff;
  if (exponent == 0x1f) // Infinity or NaN (payload kept).
    return bitsFloat(sign | 0x7f800000 | (mantissa << 13));
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in f32.
    float magnitude = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
    return sign ? -magnitude : magnitude;
  }
  // Rebias the exponent from 15 to 127.
  return bitsFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t floatToHalf(float value) {
  uint32_t bits = floatBits(value);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  uint32_t magnitude = bits & 0x7fffffff;
  if (magnitude >= 0x7f800000) {
    if (magnitude == 0x7f800000)
      return sign | 0x7c00;
    // Keep NaNs quiet and non-zero whatever the payload.
    return sign | 0x7e00 | ((magnitude >> 13) & 0x3ff);
  }
  // 65520 is halfway between the largest half (65504) and 2^16: from there on
  // round-to-nearest-even gives infinity.
  if (magnitude >= 0x477ff000)
    return sign | 0x7c00;
  if (magnitude < 0x38800000) {
    // Below the smallest normal half (2^-14): a subnormal or zero, counted in
    // units of 2^-24. Half of the smallest subnormal or less rounds to zero.
    if (magnitude <= 0x33000000)
      return sign;
    uint32_t exponent = magnitude >> 23;
    uint32_t mantissa = (magnitude & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - exponent; // In [14, 24].
    uint32_t result = mantissa >> shift;
    uint32_t rest = mantissa & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (result & 1)))
      ++result; // May carry into the smallest normal, which is correct.
    return sign | static_cast<uint16_t>(result);
  }
  // Normal: rebias from 127 to 15 and drop 13 mantissa bits, rounding to
  // nearest-even. A carry out of the mantissa correctly bumps the exponent.
  uint32_t result = (magnitude - 0x38000000) >> 13;
  uint32_t rest = magnitude & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (result & 1)))
    ++result;
  return sign | static_cast<uint16_t>(result);
}

float bfloat16ToFloat(uint16_t bits) {
  return bitsFloat(static_cast<uint32_t>(bits) << 16);
}

uint16_t floatToBFloat16(float value) {
  uint32_t bits = floatBits(value);
  if ((bits & 0x7fffffff) > 0x7f800000) // NaN: truncating could give Inf.
    return static_cast<uint16_t>((bits >> 16) | 0x40);
  // Round to nearest-even on the 16 dropped bits; overflow gives infinity.
  uint32_t roundingBias = 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>((bits + roundingBias) >> 16);
}

static double loadFloat(DType type, const unsigned char *p) {
  switch (type) {
  case DType::F32: {
    float v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  case DType::F64: {
    double v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  case DType::F16:
  case DType::BF16: {
    uint16_t v;
    std::memcpy(&v, p, sizeof v);
    return type == DType::F16 ? halfToFloat(v) : bfloat16ToFloat(v);
  }
  default:
    return 0;
  }
}

static void storeFloat(DType type, unsigned char *p, double value) {
  switch (type) {
  case DType::F32: {
    float v = static_cast<float>(value);
    std::memcpy(p, &v, sizeof v);
    return;
  }
  case DType::F64:
    std::memcpy(p, &value, sizeof value);
    return;
  case DType::F16:
  case DType::BF16: {
    // f64 sources round twice (to f32, then to 16 bits); weights are never
    // stored that way in practice.
    float f = static_cast<float>(value);
    uint16_t v = type == DType::F16 ? floatToHalf(f) : floatToBFloat16(f);
    std::memcpy(p, &v, sizeof v);
    return;
  }
  default:
    return;
  }
}

Error convertElements(DType from, const void *src, DType to, void *dst,
                      size_t count) {
  if (from == to) {
    if (count)
      std::memcpy(dst, src, count * dtypeSize(from));
    return Error::success();
  }
  if (!isFloatingPoint(from) || !isFloatingPoint(to))
    return makeError("cannot convert ", dtypeName(from), " to ", dtypeName(to));
  const auto *in = static_cast<const unsigned char *>(src);
  auto *out = static_cast<unsigned char *>(dst);
  size_t inSize = dtypeSize(from), outSize = dtypeSize(to);
  // The common checkpoint cases get tight loops; the rest goes through double.
  if (to == DType::F32 && (from == DType::F16 || from == DType::BF16)) {
    for (size_t i = 0; i < count; ++i) {
      uint16_t v;
      std::memcpy(&v, in + 2 * i, 2);
      float f = from == DType::F16 ? halfToFloat(v) : bfloat16ToFloat(v);
      std::memcpy(out + 4 * i, &f, 4);
    }
    return Error::success();
  }
  for (size_t i = 0; i < count; ++i)
    storeFloat(to, out + i * outSize, loadFloat(from, in + i * inSize));
  return Error::success();
}

} // namespace kiln
