//===- npy.cpp - Fuzzes the .npy reader -----------------------------------===//
//
// Input: a whole .npy file, as parseNpy sees it (readNpy reads the file and
// calls it). A file that reads must write back and read again to the same
// tensor.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"

#include "runtime/support/Npy.h"

#include <cstdint>
#include <cstring>

using namespace kiln;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Expected<Tensor> tensor = parseNpy(data, size, "fuzz.npy");
  if (!tensor) {
    fuzz::checkErrorMessage(tensor.message(), "fuzz.npy: ");
    return 0;
  }
  TensorView view = tensor->view();
  FUZZ_CHECK(view.byteSize() <= size, "more data than input");
  Expected<std::string> encoded = encodeNpy(view);
  FUZZ_CHECK(encoded, encoded.message());
  Expected<Tensor> again =
      parseNpy(encoded->data(), encoded->size(), "again.npy");
  FUZZ_CHECK(again, again.message());
  FUZZ_CHECK(again->dtype == tensor->dtype, "dtype changed");
  FUZZ_CHECK(again->shape == tensor->shape, "shape changed");
  FUZZ_CHECK(view.byteSize() == again->view().byteSize(), "size changed");
  FUZZ_CHECK(view.byteSize() == 0 || std::memcmp(again->data(), tensor->data(),
                                                 view.byteSize()) == 0,
             "data changed");
  return 0;
}
