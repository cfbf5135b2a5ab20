//===- ModelMain.h - The command line of generated executables --*- C++ -*-===//
//
// `main` of every generated executable (Main.cpp) hands the symbols of the
// compiled model to runModelMain, which parses the command line, loads inputs
// and weights, checks them against the model signature, runs the model and
// writes or prints the outputs:
//
//   model [--input NAME=FILE.npy]... [--output DIR] [--weights FILE]
//         [--threads N] [--bench N] [--signature] [--help]
//
// Kept apart from Main.cpp so that unit tests can drive it with a fake model.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_MODELMAIN_H
#define KILN_RUNTIME_MODELMAIN_H

#include <cstdint>
#include <ostream>

namespace kiln {

/// What a compiled model object provides (see the ABI in Main.cpp).
struct ModelSymbols {
  /// kiln_model_signature: NUL-terminated JSON.
  const char *signature = nullptr;
  /// kiln_model_entry: args[i] points to the memref descriptor of arg i.
  void (*entry)(void **args) = nullptr;
  /// kiln_embedded_weights / _size: an embedded safetensors image, if any.
  const unsigned char *embeddedWeights = nullptr;
  uint64_t embeddedWeightsSize = 0;
  /// kiln_default_weights_path: safetensors file to map when neither
  /// embedded weights nor --weights are given; null or empty if none.
  const char *defaultWeightsPath = nullptr;
};

/// Runs the command line `argv` against `model`. Results go to `out`, errors
/// and timings to `err`. Returns the process exit status: 0 on success, 1 on
/// any error (reported as one line starting with "error: ").
int runModelMain(const ModelSymbols &model, int argc, char **argv,
                 std::ostream &out, std::ostream &err);

} // namespace kiln

#endif // KILN_RUNTIME_MODELMAIN_H
