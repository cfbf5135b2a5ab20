//===- AppMain.cpp - Choosing the command line of an executable -----------===//

#include "runtime/apps/AppMain.h"
#include "runtime/apps/CommandLine.h"
#include "runtime/apps/ImageClassification.h"
#include "runtime/apps/ModelMain.h"
#include "runtime/session/Signature.h"
#include "runtime/apps/TextEncoding.h"
#include "runtime/apps/TextGeneration.h"
#include "runtime/apps/ZeroShot.h"

#include <exception>
#include <new>

namespace kiln {

int runAppMain(const ModelSymbols &model, int argc, char **argv,
               std::ostream &out, std::ostream &err) {
  std::string task;
  try {
    // An unreadable signature is reported by the generic main.
    if (model.signature) {
      Expected<ModelSignature> signature = parseModelSignature(model.signature);
      if (signature)
        task = signature->task;
    }
  } catch (const std::bad_alloc &) {
    return reportError(err, "out of memory");
  }
  if (task == "text-generation")
    return runTextGeneration(model, argc, argv, out, err);
  if (task == "text-encoding")
    return runTextEncoding(model, argc, argv, out, err);
  if (task == "image-classification")
    return runImageClassification(model, argc, argv, out, err);
  if (task == "zero-shot-image-classification")
    return runZeroShot(model, argc, argv, out, err);
  return runModelMain(model, argc, argv, out, err);
}

} // namespace kiln
