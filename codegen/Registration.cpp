//===- Registration.cpp - Everything a Kiln tool registers ----------------===//

#include "codegen/Registration.h"

#include "codegen/Passes.h"
#include "codegen/Pipeline.h"
#include "dialect/TfmOps.h"
#include "passes/Passes.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"

namespace kiln {

void registerKilnDialects(mlir::DialectRegistry &registry) {
  registry.insert<tfm::TfmDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
}

void registerKilnPasses() {
  mlir::registerAllPasses();
  tfm::registerTfmPasses();
  registerCodegenPasses();
  registerLoweringStagePipelines();
}

} // namespace kiln
