//===- Passes.h - Rewrites on the tfm dialect -------------------*- C++ -*-===//

#ifndef KILN_PASSES_PASSES_H
#define KILN_PASSES_PASSES_H

#include "dialect/TfmOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

namespace kiln::tfm {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

/// Rewrites the unfused attention chain ending in `output` (the matmul with
/// V) into one tfm.attention; fails, saying why, when it is not one.
mlir::FailureOr<AttentionOp> fuseAttention(mlir::RewriterBase &rewriter,
                                           MatmulOp output);

/// Rewrites one attention op into matmul, scale, mask, softmax and matmul.
/// Returns the value that replaces the attention result.
mlir::Value decomposeAttention(mlir::RewriterBase &rewriter, AttentionOp op);

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace kiln::tfm

#endif // KILN_PASSES_PASSES_H
