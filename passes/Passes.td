//===- Passes.td - Rewrites on the tfm dialect -------------*- tablegen -*-===//

#ifndef KILN_PASSES_PASSES_TD
#define KILN_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def TfmDecomposeAttention : Pass<"tfm-decompose-attention"> {
  let summary = "Expand tfm.attention into matmul, mask, softmax and matmul";
  let description = [{
    Rewrites every `tfm.attention` into the unfused form the model builders
    emit: `tfm.matmul` (Q·Kᵀ), `tfm.scale`, the additive `tfm.causal_mask` or
    `tfm.padding_mask`, the optional bias, `tfm.softmax` on the last axis and
    `tfm.matmul` with V. The result is bit-for-bit the reference semantics;
    it is the lowering used when no specialized attention kernel applies.
    Does nothing on IR without `tfm.attention`.
  }];
  let dependentDialects = ["::kiln::tfm::TfmDialect"];
}

def TfmFuseAttention : Pass<"tfm-fuse-attention"> {
  let summary = "Recognize unfused masked attention and rewrite it into tfm.attention";
  let description = [{
    Matches the form model builders emit,
    `matmul(softmax(mask(scale(matmul(Q, K, transpose_rhs))), axis = -1), V)`,
    where the scale may also sit on Q (`matmul(scale(Q), Kᵀ)`) or be absent,
    and the additive mask is `tfm.causal_mask`, `tfm.padding_mask(lengths)`,
    any other tensor that broadcasts onto the scores (becoming the bias), or
    absent. It rewrites the chain into one `tfm.attention` with the mask kind
    as an attribute, so later stages can run attention without building the
    score matrix.

    Nothing is fused when an intermediate (scores, scaled scores, masked
    scores, probabilities) has another use, when softmax is not over the key
    axis, or when the shapes are not [batch, heads, seq, dim]; with `--debug`
    the pattern says which condition failed.
  }];
  let dependentDialects = ["::kiln::tfm::TfmDialect"];
}

def TfmOutlineWeights : Pass<"tfm-outline-weights", "::mlir::ModuleOp"> {
  let summary = "Turn tfm.weight ops into arguments of the entry function";
  let description = [{
    Every public function's `tfm.weight` ops become trailing function
    arguments carrying a `tfm.weight` argument attribute with the checkpoint
    name; uses of the same name share one argument. After this pass the entry
    function's signature is the whole contract with the runtime: inputs,
    then weights (bound by name at link or start time). Functions without
    `tfm.weight` are left unchanged.
  }];
  let dependentDialects = ["::kiln::tfm::TfmDialect"];
}

#endif // KILN_PASSES_PASSES_TD
