//===- Registration.h - Everything a Kiln tool registers --------*- C++ -*-===//

#ifndef KILN_CODEGEN_REGISTRATION_H
#define KILN_CODEGEN_REGISTRATION_H

#include "mlir/IR/DialectRegistry.h"

namespace kiln {

/// The tfm dialect plus every upstream dialect and extension the pipeline
/// goes through (linalg, tensor, bufferization, scf, omp, llvm, ...).
void registerKilnDialects(mlir::DialectRegistry &registry);

/// The tfm passes, the codegen passes and the upstream passes that the
/// lowering pipeline names, and the pipeline of each stage
/// (`kiln-stage-<name>`).
void registerKilnPasses();

} // namespace kiln

#endif // KILN_CODEGEN_REGISTRATION_H
