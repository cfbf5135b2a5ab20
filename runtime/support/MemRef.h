//===- MemRef.h - Strided memref descriptors for entry calls ----*- C++ -*-===//
//
// A compiled model's entry point takes `void **args`, args[i] pointing to an
// MLIR strided memref descriptor:
//   struct { void *allocated; void *aligned; int64_t offset;
//            int64_t sizes[rank]; int64_t strides[rank]; }
// (rank 0: the first three fields only). MemRefArgs builds them for dense
// row-major buffers.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_SUPPORT_MEMREF_H
#define KILN_RUNTIME_SUPPORT_MEMREF_H

#include "runtime/support/Tensor.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace kiln {

/// Row-major strides, in elements, of a dense tensor of `shape`.
std::vector<int64_t> rowMajorStrides(const Shape &shape);

/// The descriptors and pointer array of one entry call. Descriptors keep
/// their addresses when more are added.
class MemRefArgs {
public:
  /// Appends a descriptor for the dense row-major buffer `data` of `shape`.
  void add(void *data, const Shape &shape);

  /// The `args` array to pass to the entry point.
  void **data() { return pointers.data(); }
  size_t size() const { return pointers.size(); }

private:
  // Each descriptor is stored as 64-bit words: two pointers, the offset,
  // the sizes and the strides.
  std::vector<std::unique_ptr<int64_t[]>> descriptors;
  std::vector<void *> pointers;
};

} // namespace kiln

#endif // KILN_RUNTIME_SUPPORT_MEMREF_H
