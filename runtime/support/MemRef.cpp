//===- MemRef.cpp - Strided memref descriptors for entry calls ------------===//

#include "runtime/support/MemRef.h"

#include <cstring>

namespace kiln {

static_assert(sizeof(void *) == sizeof(int64_t),
              "memref descriptors are laid out for 64-bit targets");

std::vector<int64_t> rowMajorStrides(const Shape &shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

void MemRefArgs::add(void *data, const Shape &shape) {
  size_t rank = shape.size();
  std::unique_ptr<int64_t[]> words(new int64_t[3 + 2 * rank]);
  // Both pointers are the buffer itself: it is already suitably aligned.
  std::memcpy(&words[0], &data, sizeof data);
  std::memcpy(&words[1], &data, sizeof data);
  words[2] = 0;
  std::vector<int64_t> strides = rowMajorStrides(shape);
  for (size_t i = 0; i < rank; ++i) {
    words[3 + i] = shape[i];
    words[3 + rank + i] = strides[i];
  }
  pointers.push_back(words.get());
  descriptors.push_back(std::move(words));
}

} // namespace kiln
