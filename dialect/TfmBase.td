//===- TfmBase.td - The tfm dialect and its attributes -----*- tablegen -*-===//
//
// The `tfm` dialect describes transformer models at the level their authors
// think in: linear layers, normalizations, activations and attention.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_TFMBASE_TD
#define KILN_DIALECT_TFMBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Tfm_Dialect : Dialect {
  let name = "tfm";
  let cppNamespace = "::kiln::tfm";
  let summary = "Transformer-level operations on ranked tensors";
  let description = [{
    Ops of this dialect work on statically shaped ranked tensors. Weights enter
    the IR as `tfm.weight` ops that name a tensor of the checkpoint; the data
    itself never lives in the IR. Every op carries the model's module path
    (`h.3.attn.c_attn`) as its location, so diagnostics speak the model
    author's language.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 0;
}

class Tfm_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tfm_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Tfm_MaskKind : I32EnumAttr<"MaskKind", "attention mask applied to scores", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"causal", 1>,
    I32EnumAttrCase<"padding", 2>,
  ]> {
  let cppNamespace = "::kiln::tfm";
  let genSpecializedAttr = 0;
}
def Tfm_MaskKindAttr : EnumAttr<Tfm_Dialect, Tfm_MaskKind, "mask"> {
  let assemblyFormat = "`<` $value `>`";
}

def Tfm_Activation : I32EnumAttr<"Activation", "pointwise activation", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"gelu", 1>,
    I32EnumAttrCase<"gelu_tanh", 2>,
    I32EnumAttrCase<"quick_gelu", 3>,
    I32EnumAttrCase<"silu", 4>,
    I32EnumAttrCase<"relu", 5>,
    I32EnumAttrCase<"tanh", 6>,
  ]> {
  let cppNamespace = "::kiln::tfm";
  let genSpecializedAttr = 0;
}
def Tfm_ActivationAttr : EnumAttr<Tfm_Dialect, Tfm_Activation, "activation"> {
  let assemblyFormat = "`<` $value `>`";
}

def Tfm_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "how gelu is evaluated", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"tanh", 1>,
  ]> {
  let cppNamespace = "::kiln::tfm";
  let genSpecializedAttr = 0;
}
def Tfm_GeluApproximationAttr
    : EnumAttr<Tfm_Dialect, Tfm_GeluApproximation, "approximation"> {
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Tfm_FloatTensor : StaticShapeTensorOf<[F16, BF16, F32, F64]>;
def Tfm_IndexTensor : StaticShapeTensorOf<[I32, I64]>;
def Tfm_AnyTensor : StaticShapeTensorOf<[F16, BF16, F32, F64, I1, I32, I64]>;
// Element types with arithmetic: i1 (masks) has no `+`, `-`, `*` or `/`.
def Tfm_NumericTensor : StaticShapeTensorOf<[F16, BF16, F32, F64, I32, I64]>;

#endif // KILN_DIALECT_TFMBASE_TD
