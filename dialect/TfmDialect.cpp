//===- TfmDialect.cpp - The tfm dialect -----------------------------------===//

#include "dialect/TfmOps.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace kiln::tfm;

#include "dialect/TfmDialect.cpp.inc"
#include "dialect/TfmEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/TfmAttrs.cpp.inc"

void TfmDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialect/TfmAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialect/TfmOps.cpp.inc"
      >();
}
