//===- Npy.h - Reading and writing NumPy .npy files -------------*- C++ -*-===//
//
// Inputs and outputs of generated executables are .npy files. Supported:
// format versions 1.0, 2.0 and 3.0, C order, little-endian, with dtypes <f4,
// <f8, <f2, <i4, <i8 and |b1. Anything else is rejected with a one-line
// message that names the file and says what was expected and what was found.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_SUPPORT_NPY_H
#define KILN_RUNTIME_SUPPORT_NPY_H

#include "runtime/support/Error.h"
#include "runtime/support/Tensor.h"

#include <cstddef>
#include <string>

namespace kiln {

/// Reads a .npy file into a 64-byte aligned tensor.
Expected<Tensor> readNpy(const std::string &path);

/// Parses the bytes of a .npy file; `name` stands for the file in messages.
Expected<Tensor> parseNpy(const void *bytes, size_t size,
                          const std::string &name);

/// Writes `tensor` to `path` (format 1.0; 2.0 if the header needs it).
/// BF16, I8 and U8 have no .npy spelling here and fail.
Error writeNpy(const std::string &path, const TensorView &tensor);

/// The complete bytes of the .npy file writeNpy would write.
Expected<std::string> encodeNpy(const TensorView &tensor);

/// The numpy type string for `type` ("<f4"), or nullptr if unsupported.
const char *npyDescr(DType type);

} // namespace kiln

#endif // KILN_RUNTIME_SUPPORT_NPY_H
