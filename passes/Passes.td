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

    A causal or padding mask may have other uses (one mask for all layers);
    it is recomputed from the lengths. Nothing is fused when an
    intermediate (scores, scaled scores, masked scores, probabilities) has
    another use, when softmax is not over the key
    axis, or when the shapes are not [batch, heads, seq, dim]; with `--debug`
    the pattern says which condition failed.
  }];
  let dependentDialects = ["::kiln::tfm::TfmDialect"];
}

def TfmFusePatchEmbed : Pass<"tfm-fuse-patch-embed"> {
  let summary = "Rewrite a patchifying convolution and its flatten into tfm.patch_embed";
  let description = [{
    Matches the patch embedding of vision transformers as the reference
    computes it, `conv2d(x).flatten(2).transpose(1, 2)`:
    `tfm.transpose [0, 2, 1]` of `tfm.reshape [B, E, GH·GW]` of
    `tfm.conv2d`, or `tfm.reshape [B, GH·GW, E]` of `tfm.transpose
    [0, 2, 3, 1]` of it, where the convolution's stride equals its kernel
    size, without padding or dilation, on an image that is a whole number of
    patches. The chain becomes one `tfm.patch_embed`: a GEMM over the
    patches, read in place from the image, producing the tokens in order.

    Nothing is fused when the convolution or the grid has another use, or
    for overlapping or skipping strides, padding or dilation; the pattern
    says which condition failed.
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

def TfmFuseEpilogue : Pass<"tfm-fuse-epilogue"> {
  let summary = "Fold pointwise activations into the linear layer before them";
  let description = [{
    Rewrites `act(tfm.linear(x))` (act one of gelu, gelu with the tanh
    approximation, quick_gelu, silu, relu, tanh) into `tfm.linear(x)` with
    `activation = act`, so the activation is applied on the GEMM's output
    rather than as a separate pass over memory. Nothing is fused when the
    linear already has an activation or its result has another use.
  }];
  let dependentDialects = ["::kiln::tfm::TfmDialect"];
}

def TfmFuseQkv : Pass<"tfm-fuse-qkv"> {
  let summary = "Merge linear layers that read the same input into one";
  let description = [{
    Linear layers in one block that read the same input value, with the
    same weight layout and element type, all with or all without a bias, and
    no activation, become one `tfm.linear` on the concatenation of their
    weights (and biases) along the output features, followed by one
    `tfm.slice` per original layer: attention's query, key and value
    projections become a single GEMM over the input. The weight
    concatenation is left for `tfm-hoist-weight-expressions` to run once at
    load.
  }];
  let dependentDialects = ["::kiln::tfm::TfmDialect"];
}

def TfmFuseResidualNorm : Pass<"tfm-fuse-residual-norm"> {
  let summary = "Fold a residual add into the LayerNorm that follows it";
  let description = [{
    Rewrites `tfm.layer_norm(tfm.add(a, b))` into `tfm.add_layer_norm(a, b)`
    when the sum has no other use and both operands have the normalized
    shape (no broadcast), so the sum is never materialized. Pre-LN blocks,
    whose sum is also the next residual, are left alone.
  }];
  let dependentDialects = ["::kiln::tfm::TfmDialect"];
}

def TfmPackWeights : Pass<"tfm-pack-weights"> {
  let summary = "Give linear layers their weights in GEMM panel layout";
  let description = [{
    For every f32 `tfm.linear` whose weight is computed from checkpoint
    tensors alone, inserts `tfm.pack_panels` on the weight and marks the
    layer `weight_panels`, so the GEMM kernel reads B in the layout of its
    register tile and packs nothing per call. Checkpoint tensors that are
    also read otherwise (a tied embedding) are not packed, which would keep
    two copies in memory. `panel-width` is the kernel's tile width: 32 with
    AVX-512, 16 with AVX2.
  }];
  let options = [
    Option<"panelWidth", "panel-width", "int", "16",
           "columns per panel (the GEMM micro-kernel's tile width)">,
  ];
  let dependentDialects = ["::kiln::tfm::TfmDialect"];
}

def TfmHoistWeightExpressions : Pass<"tfm-hoist-weight-expressions",
                                     "::mlir::ModuleOp"> {
  let summary = "Move weight-only computations into a load-time entry";
  let description = [{
    `tfm.pack_panels`, `tfm.concat` and `tfm.transpose` computed from
    checkpoint tensors alone are moved out of the public functions into a
    new public function `prepare_weights` that returns each distinct
    expression once, its result named (`tfm.name`) by the expression. In
    the functions the expression is replaced by a `tfm.weight` of that
    name. The runtime calls `prepare_weights` once after binding the
    checkpoint and binds its results as weights, as IREE runs initializers
    at module load.
  }];
  let dependentDialects = ["::kiln::tfm::TfmDialect",
                           "::mlir::func::FuncDialect"];
}

#endif // KILN_PASSES_PASSES_TD
