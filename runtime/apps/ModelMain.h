//===- ModelMain.h - The command line of generated executables --*- C++ -*-===//
//
// The generic `main` of generated executables: runModelMain parses the
// command line, loads inputs and weights, checks them against the model
// signature, runs one entry of the model and writes or prints its outputs
// and states:
//
//   model [--entry NAME] [--input NAME=FILE.npy]... [--output DIR]
//         [--weights FILE]... [--threads N] [--bench N] [--signature]
//         [--help]
//
// --entry is required when the model has several entries. States start at
// zero unless given with --input, and are written like outputs.
// Applications (apps/) replace it for models whose metadata names a task;
// apps/AppMain.h chooses.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_APPS_MODELMAIN_H
#define KILN_RUNTIME_APPS_MODELMAIN_H

#include "runtime/session/Session.h"

#include <ostream>

namespace kiln {

/// Runs the command line `argv` against `model`. Results go to `out`, errors
/// and timings to `err`. Returns the process exit status: 0 on success, 1 on
/// any error (reported as one line starting with "error: ").
int runModelMain(const ModelSymbols &model, int argc, char **argv,
                 std::ostream &out, std::ostream &err);

} // namespace kiln

#endif // KILN_RUNTIME_APPS_MODELMAIN_H
