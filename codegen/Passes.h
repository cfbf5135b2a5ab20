//===- Passes.h - Conversions out of the tfm dialect ------------*- C++ -*-===//

#ifndef KILN_CODEGEN_PASSES_H
#define KILN_CODEGEN_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/DialectConversion.h"

namespace kiln {

#define GEN_PASS_DECL
#include "codegen/Passes.h.inc"

/// Set by kiln-plan-memory on a function: the bytes of its temporaries'
/// arena, which the driver records as the entry's "temporary_bytes".
inline constexpr llvm::StringLiteral kArenaBytesAttr = "kiln.arena_bytes";

/// Marks an argument of prepare_weights that no other entry reads, for
/// kiln-release-consumed-weights (set by kiln-prepare-entries).
inline constexpr llvm::StringLiteral kConsumedWeightAttr =
    "kiln.consumed_weight";

/// On a kernel-able tfm op: the code generator kiln-assign-backends chose
/// for it ("halide"; absent means the LLVM path).
inline constexpr llvm::StringLiteral kBackendAttr = "kiln.backend";
/// On the external declaration of a generated Halide kernel: its spec as
/// JSON (codegen/halide/KernelSpec.h), which the driver hands to kiln-halide.
inline constexpr llvm::StringLiteral kHalideSpecAttr = "kiln.halide_spec";

/// Patterns that lower every tfm op except attention and weight.
void populateTfmToLinalgPatterns(mlir::RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "codegen/Passes.h.inc"

} // namespace kiln

#endif // KILN_CODEGEN_PASSES_H
