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
