//===- Tensor.h - Element types, aligned buffers, tensor views --*- C++ -*-===//
//
// The runtime's vocabulary for tensor data: element types with their names
// and sizes, a 64-byte aligned owning buffer (what generated kernels expect),
// and a non-owning view {dtype, shape, data}.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_SUPPORT_TENSOR_H
#define KILN_RUNTIME_SUPPORT_TENSOR_H

#include "runtime/Contract.h"
#include "runtime/support/Error.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

/// Element types. F16 and BF16 are storage formats; I1 is a one-byte bool.
/// I8 and U8 only appear in checkpoints.
enum class DType : uint8_t { F32, F64, F16, BF16, I32, I64, I8, U8, I1 };

/// Signature spelling (runtime/Contract.h): "f32", "f64", "f16", "bf16",
/// "i32", "i64", "i8", "u8", "i1".
const char *dtypeName(DType type);
/// Parses a signature spelling; std::nullopt if unknown.
std::optional<DType> parseDTypeName(std::string_view name);
/// Bytes per element.
size_t dtypeSize(DType type);
bool isFloatingPoint(DType type);

/// Alignment of every buffer the runtime allocates, in bytes.
constexpr size_t kBufferAlignment = contract::kBufferAlignment;

using Shape = std::vector<int64_t>;

/// "[1,7,64]"; "[]" for rank 0.
std::string formatShape(const Shape &shape);
/// "f32 [1,7,64]".
std::string formatType(DType type, const Shape &shape);
/// Product of the dimensions; std::nullopt if a dimension is negative or the
/// product (or its size in bytes for elementSize > 0) overflows.
std::optional<uint64_t> checkedNumElements(const Shape &shape,
                                           size_t elementSize = 1);

/// Owning, 64-byte aligned, move-only byte buffer. A zero-byte buffer still
/// has a valid, aligned, non-null pointer.
class AlignedBuffer {
public:
  AlignedBuffer() = default;
  /// Allocates `bytes`; zero-filled when `zero` is set. Fails only when out of
  /// memory.
  static Expected<AlignedBuffer> allocate(size_t bytes, bool zero = true);

  AlignedBuffer(AlignedBuffer &&other) noexcept;
  AlignedBuffer &operator=(AlignedBuffer &&other) noexcept;
  AlignedBuffer(const AlignedBuffer &) = delete;
  AlignedBuffer &operator=(const AlignedBuffer &) = delete;
  ~AlignedBuffer();

  void *data() { return ptr; }
  const void *data() const { return ptr; }
  size_t size() const { return bytes; }

private:
  void *ptr = nullptr;
  size_t bytes = 0;
};

/// Non-owning view of a dense, row-major tensor.
struct TensorView {
  DType dtype = DType::F32;
  Shape shape;
  void *data = nullptr;

  /// Number of elements (1 for rank 0). The shape must be valid.
  uint64_t numElements() const;
  size_t byteSize() const { return numElements() * dtypeSize(dtype); }
};

/// A dense, row-major tensor that owns its aligned storage.
struct Tensor {
  DType dtype = DType::F32;
  Shape shape;
  AlignedBuffer buffer;

  /// Allocates a zero-filled tensor; fails on an invalid shape or when out of
  /// memory.
  static Expected<Tensor> allocate(DType dtype, Shape shape);

  uint64_t numElements() const { return view().numElements(); }
  size_t byteSize() const { return buffer.size(); }
  void *data() { return buffer.data(); }
  const void *data() const { return buffer.data(); }
  TensorView view() const {
    return TensorView{dtype, shape, const_cast<void *>(buffer.data())};
  }
};

/// Scalar conversions between the storage formats and f32. Rounding is to
/// nearest-even; NaN stays NaN and overflow gives infinity.
float halfToFloat(uint16_t bits);
uint16_t floatToHalf(float value);
float bfloat16ToFloat(uint16_t bits);
uint16_t floatToBFloat16(float value);

/// Converts `count` elements between floating-point types (F32, F64, F16,
/// BF16, in any direction). Other pairs fail unless `from == to`, which is a
/// plain copy.
Error convertElements(DType from, const void *src, DType to, void *dst,
                      size_t count);

} // namespace kiln

#endif // KILN_RUNTIME_SUPPORT_TENSOR_H
