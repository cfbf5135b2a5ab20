//===- Signature.h - The model signature of a generated object --*- C++ -*-===//
//
// Every compiled model exports `kiln_model_signature`, a JSON description of
// the arguments of its entry point, in order:
//   {"entry":"forward","args":[{"name":"x","role":"input","dtype":"f32",
//                               "shape":[1,7,64]}, ...]}
// This header turns that text into structs, validating it on the way.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_SIGNATURE_H
#define KILN_RUNTIME_SIGNATURE_H

#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

enum class ArgRole { Input, Weight, Output };

/// "input", "weight" or "output".
const char *roleName(ArgRole role);
std::optional<ArgRole> parseRoleName(std::string_view name);

struct SignatureArg {
  std::string name;
  ArgRole role = ArgRole::Input;
  DType dtype = DType::F32;
  Shape shape;
};

struct Signature {
  /// The model function's name; empty if the JSON has none.
  std::string entry;
  /// Entry-point arguments, in call order.
  std::vector<SignatureArg> args;

  /// The argument called `name`, or nullptr.
  const SignatureArg *find(std::string_view name) const;
};

/// Parses and validates signature JSON: an object with an "args" array (and
/// an optional "entry" string); each arg has a non-empty unique "name", a
/// known "role" and "dtype", and a "shape" of non-negative integers.
Expected<Signature> parseSignature(std::string_view json);

} // namespace kiln

#endif // KILN_RUNTIME_SIGNATURE_H
