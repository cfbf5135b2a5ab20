//===- kiln-opt.cpp - mlir-opt with the tfm dialect and Kiln passes -------===//

#include "codegen/Registration.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  kiln::registerKilnDialects(registry);
  kiln::registerKilnPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "Kiln optimizer: the tfm dialect and its passes\n",
      registry));
}
