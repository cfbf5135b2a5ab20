//===- Main.cpp - main() of every generated executable --------------------===//
//
// Linked into each compiled model (library kiln_runtime_main). The model
// object defines:
//   extern "C" const char kiln_model_signature[];      // JSON, see Signature.h
//   extern "C" void kiln_model_entry(void **args);     // memref descriptors
// and optionally:
//   extern "C" const unsigned char kiln_embedded_weights[];   // safetensors
//   extern "C" const uint64_t kiln_embedded_weights_size;
//   extern "C" const char kiln_default_weights_path[];
// The optional ones are weak here so that models without them still link.
//
//===----------------------------------------------------------------------===//

#include "runtime/ModelMain.h"

#include <cstdint>
#include <iostream>

extern "C" {
extern const char kiln_model_signature[];
void kiln_model_entry(void **args);
extern const unsigned char kiln_embedded_weights[] __attribute__((weak));
extern const uint64_t kiln_embedded_weights_size __attribute__((weak));
extern const char kiln_default_weights_path[] __attribute__((weak));
}

int main(int argc, char **argv) {
  kiln::ModelSymbols model;
  model.signature = kiln_model_signature;
  model.entry = kiln_model_entry;
  // Undefined weak symbols have address 0. Read through volatile pointers so
  // that the compiler cannot assume the addresses are non-null.
  const unsigned char *volatile weights = kiln_embedded_weights;
  const uint64_t *volatile weightsSize = &kiln_embedded_weights_size;
  const char *volatile defaultPath = kiln_default_weights_path;
  if (weights && weightsSize) {
    model.embeddedWeights = weights;
    model.embeddedWeightsSize = *weightsSize;
  }
  model.defaultWeightsPath = defaultPath;
  int status = kiln::runModelMain(model, argc, argv, std::cout, std::cerr);
  std::cout.flush();
  return status;
}
