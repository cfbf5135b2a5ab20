//===- HalideKernelOps.h - Which tfm ops a Halide kernel computes -*- C++
//-*-===//
//
// The one description of how a tfm op maps onto a kernel family of
// codegen/halide/KernelSpec.h: which ops qualify, and the spec (argument
// order, collapsed shapes, attributes) of each. kiln-assign-backends and
// `kiln compile --tune` read specs to decide; kiln-convert-to-halide-calls
// builds its calls from the same spec.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_HALIDE_HALIDEKERNELOPS_H
#define KILN_CODEGEN_HALIDE_HALIDEKERNELOPS_H

#include "codegen/halide/KernelSpec.h"

#include "mlir/IR/Operation.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <optional>

namespace kiln {

/// The spec of the kernel that computes `op` for `target`, or nothing when
/// no family covers it with the operands it has (they must be f32 data of
/// static shapes that fit a Halide buffer, in the forms the family takes).
/// Arguments are in the kernel's order: inputs as the op's operands, then
/// the output; leading dimensions merged as the kernels take them.
std::optional<halide::KernelSpec>
getHalideKernelSpec(mlir::Operation *op, const halide::KernelTarget &target);

/// A chain of elementwise tfm ops computed by one `elementwise` kernel: the
/// ops whose only use is another op of the chain, up to `root`, whose result
/// the kernel writes. `leaves` are the values the chain reads, the kernel's
/// inputs in order (of lower rank than the result: broadcast from the
/// leading dimensions); `ops` lists the chain in program order, root last.
struct ElementwiseChain {
  llvm::SmallVector<mlir::Value> leaves;
  llvm::SmallVector<mlir::Operation *> ops;
};

/// The chain `op` is the root of, or nothing: `op` is not an f32
/// elementwise op, or its only use is another one (the chain's root is
/// further down).
std::optional<ElementwiseChain> getElementwiseChain(mlir::Operation *op);

inline bool isHalideKernelOp(mlir::Operation *op) {
  return getHalideKernelSpec(op, {}).has_value();
}

/// Whether `kiln-assign-backends{backend=auto}` sends the kernel of `spec`
/// to Halide when no measurement of its own says otherwise: the kinds whose
/// Halide kernels measured faster than the LLVM path's (docs/performance.md,
/// "Halide backend").
bool prefersHalide(const halide::KernelSpec &spec);

} // namespace kiln

#endif // KILN_CODEGEN_HALIDE_HALIDEKERNELOPS_H
