//===- AppMain.h - Choosing the command line of an executable ---*- C++ -*-===//
//
// main() of generated executables calls runAppMain, which picks the command
// line from the model's metadata.task: "text-generation" runs
// runTextGeneration (TextGeneration.h), "text-encoding" runs
// runTextEncoding (TextEncoding.h), "image-classification" runs
// runImageClassification (ImageClassification.h),
// "zero-shot-image-classification" runs runZeroShot (ZeroShot.h); anything
// else, or no task, runs the generic .npy command line (ModelMain.h).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_APPS_APPMAIN_H
#define KILN_RUNTIME_APPS_APPMAIN_H

#include "runtime/session/Session.h"

#include <ostream>

namespace kiln {

int runAppMain(const ModelSymbols &model, int argc, char **argv,
               std::ostream &out, std::ostream &err);

} // namespace kiln

#endif // KILN_RUNTIME_APPS_APPMAIN_H
