//===- Passes.h - Rewrites on the tfm dialect -------------------*- C++ -*-===//

#ifndef KILN_PASSES_PASSES_H
#define KILN_PASSES_PASSES_H

#include "dialect/TfmOps.h"
#include "runtime/Contract.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/SetVector.h"

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

/// Rewrites `conv2d(x)` flattened and transposed into tokens, ending in
/// `tokens` (the transpose or the reshape), into one tfm.patch_embed; fails,
/// saying why, when the convolution's patches overlap, pad or dilate.
mlir::FailureOr<PatchEmbedOp> fusePatchEmbed(mlir::RewriterBase &rewriter,
                                             mlir::Operation *tokens);

/// Folds the activation computed by `activationOp` into the tfm.linear that
/// produces its operand; fails, saying why, when it cannot.
mlir::LogicalResult fuseEpilogue(mlir::RewriterBase &rewriter,
                                 mlir::Operation *activationOp);

/// Rewrites `norm(add(a, b))` into tfm.add_layer_norm; fails, saying why,
/// when the add is not a residual sum used only there.
mlir::LogicalResult fuseResidualNorm(mlir::RewriterBase &rewriter,
                                     LayerNormOp norm);

/// Replaces the linear layers of `group` (same input) by one linear on their
/// concatenated weights and a slice per layer.
mlir::LogicalResult fuseLinearGroup(mlir::RewriterBase &rewriter,
                                    llvm::ArrayRef<LinearOp> group);

/// Adds to `ops`, operands first, the ops of the expression computing
/// `value` from tfm.weight and tfm.constant alone; fails if it reads
/// anything else (an argument, a non-tfm or impure op).
mlir::LogicalResult
collectWeightExpression(mlir::Value value,
                        llvm::SetVector<mlir::Operation *> &ops);

/// The load-time entry of tfm-hoist-weight-expressions, which the runtime
/// calls once at load (runtime/Contract.h).
inline constexpr llvm::StringRef kPrepareWeightsEntry =
    contract::kPrepareWeightsEntry;

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace kiln::tfm

#endif // KILN_PASSES_PASSES_H
