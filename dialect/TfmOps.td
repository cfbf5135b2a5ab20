//===- TfmOps.td - Operations of the tfm dialect -----------*- tablegen -*-===//
//
// Shapes are static. Where an op broadcasts, it follows numpy's rules: shapes
// are aligned at the trailing axis and a dimension of size 1 stretches.
// Verifiers name the operand at fault and print the shapes involved.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_TFMOPS_TD
#define KILN_DIALECT_TFMOPS_TD

include "dialect/TfmBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

// I64Attr reads back unsigned; axes may be negative (counting from the end),
// so ops with an `axis` read it through these.
defvar Tfm_AxisAccessors = [{
    /// `axis` as written, possibly negative.
    int64_t getSignedAxis() { return getAxisAttr().getInt(); }
    /// `axis` as an index in [0, rank) of the first operand.
    int64_t getNormalizedAxis() {
      int64_t rank = ::llvm::cast<::mlir::RankedTensorType>(
          (*this)->getOperand(0).getType()).getRank();
      return getSignedAxis() < 0 ? getSignedAxis() + rank : getSignedAxis();
    }
}];

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

def Tfm_WeightOp : Tfm_Op<"weight", [Pure]> {
  let summary = "A named tensor of the checkpoint";
  let description = [{
    Yields the checkpoint tensor called `name` (for example
    `h.0.attn.c_attn.weight`). The IR holds only the name and the type; the
    bytes stay in the checkpoint and are bound when the program is linked or
    started.

    ```mlir
    %w = tfm.weight "h.0.attn.c_attn.weight" : tensor<64x192xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Tfm_AnyTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tfm_ConstantOp : Tfm_Op<"constant",
    [ConstantLike, Pure, AllTypesMatch<["value", "result"]>]> {
  let summary = "A small constant tensor";
  let description = [{
    A literal tensor, for small values a builder invents (position indices,
    masks in tests). Model parameters use `tfm.weight` instead.

    ```mlir
    %c = tfm.constant dense<[0, 1, 2]> : tensor<3xi64>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Tfm_AnyTensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

def Tfm_LinearOp : Tfm_Op<"linear", [Pure]> {
  let summary = "Fully connected layer: act(x · Wᵀ + b)";
  let description = [{
    `result[..., n] = act(sum_k input[..., k] * weight[n, k] + bias[n])`.

    - `input`: `[..., K]`, any rank ≥ 1.
    - `weight`: `[N, K]`, the layout of `torch.nn.Linear`; with
      `weight_in_out` it is stored `[K, N]` instead (GPT-2's `Conv1D`), and
      the product reads it that way without a transpose.
    - `bias` (optional): `[N]`.
    - With `weight_panels` the weight is `[P, K, W]`, laid out by
      `tfm.pack_panels` in column panels of width W for the GEMM kernels:
      `weight[n / W, k, n % W]` is the coefficient of input k in output n
      (`tfm-pack-weights` sets it; N is then the result's last dimension).
    - `activation` (default `none`) is applied to the sum; the epilogue fusion
      pass sets it, model builders leave it `none`.

    The verifier checks that K agrees between input and weight, that bias has
    N elements and that the result is `[..., N]` with the input's leading
    dimensions. All element types are equal.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_FloatTensor:$weight,
                   Optional<Tfm_FloatTensor>:$bias,
                   DefaultValuedAttr<Tfm_ActivationAttr,
                                     "::kiln::tfm::Activation::none">:$activation,
                   UnitAttr:$weight_in_out, UnitAttr:$weight_panels);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// N and K whatever the weight layout.
    int64_t getOutFeatures() {
      if (getWeightPanels())
        return getResult().getType().getShape().back();
      return getWeight().getType().getShape()[getWeightInOut() ? 1 : 0];
    }
    int64_t getInFeatures() {
      return getWeight().getType().getShape()[getWeightInOut() ? 0 : 1];
    }
  }];
}

def Tfm_Conv2dOp : Tfm_Op<"conv2d", [Pure]> {
  let summary = "2-D convolution over NCHW images (torch.nn.Conv2d)";
  let description = [{
    With `input` `[B, C, H, W]`, `weight` `[O, C, KH, KW]` and the optional
    `bias` `[O]`:

    `result[b, o, y, x] = bias[o] + sum_{c, i, j} weight[o, c, i, j] ·
    input[b, c, y·sh + i·dh − ph, x·sw + j·dw − pw]`, reading zeros outside
    the image, for a result `[B, O, OH, OW]` with
    `OH = (H + 2·ph − dh·(KH − 1) − 1) / sh + 1` (and OW alike).

    `strides` = [sh, sw], `padding` = [ph, pw] (zeros on both sides of each
    axis, as torch's symmetric padding), `dilation` = [dh, dw]. One group.
    `tfm-fuse-patch-embed` turns the non-overlapping form that vision models
    use to cut an image into patches into `tfm.patch_embed`.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_FloatTensor:$weight,
                   Optional<Tfm_FloatTensor>:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$padding,
                   DenseI64ArrayAttr:$dilation);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tfm_PatchEmbedOp : Tfm_Op<"patch_embed", [Pure]> {
  let summary = "Project non-overlapping image patches: one GEMM over patches";
  let description = [{
    With `input` `[B, C, H, W]`, `weight` `[E, C, PH, PW]` and the optional
    `bias` `[E]`, H a multiple of PH and W of PW:

    `result[b, q, e] = bias[e] + sum_{c, i, j} weight[e, c, i, j] ·
    input[b, c, qy·PH + i, qx·PW + j]` with `q = qy · (W / PW) + qx`, a
    result `[B, (H / PH) · (W / PW), E]`.

    It is `conv2d` with kernel = stride = patch, flattened over the patch
    grid and transposed to tokens, as ViT, CLIP and Swin embed images. As one
    op it is a GEMM with M = patches, K = C·PH·PW, N = E whose rows are read
    straight from the image, with no im2col copy.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_FloatTensor:$weight,
                   Optional<Tfm_FloatTensor>:$bias);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tfm_PackPanelsOp : Tfm_Op<"pack_panels", [Pure]> {
  let summary = "Lay a weight out in column panels for the GEMM kernels";
  let description = [{
    For a linear layer's weight, as the product reads it, B `[K, N]` (the
    transpose of an `[N, K]` weight, or the weight itself with `in_out`):
    `result[p, k, j] = B[k, p·W + j]`, and 0 where `p·W + j >= N`. The
    result is `[P, K, W]` with `P = ceil(N / W)`.

    Each panel is the contiguous `K × W` block the GEMM micro-kernel streams
    through, so a kernel given panels does no packing of its own. The panel
    width W is the kernel's register-tile width (32 for AVX-512, 16 for
    AVX2). On a weight, the computation is hoisted out of the entries and
    runs once at load (`tfm-hoist-weight-expressions`).
  }];
  let arguments = (ins Tfm_FloatTensor:$weight, UnitAttr:$in_out);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $weight attr-dict `:` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_MatmulOp : Tfm_Op<"matmul", [Pure]> {
  let summary = "Batched matrix product with optional transposes";
  let description = [{
    `result[b..., m, n] = sum_k A[b..., m, k] * B[b..., k, n]` where
    `A = transpose_lhs ? swap_last_two(lhs) : lhs` and likewise for `B`.

    Both operands have the same rank r ≥ 2. The leading r-2 (batch)
    dimensions broadcast numpy-style (equal, or 1 on one side). The verifier
    checks the contraction dimension and the result shape.

    ```mlir
    %s = tfm.matmul %q, %k {transpose_rhs}
        : (tensor<1x4x7x16xf32>, tensor<1x4x7x16xf32>) -> tensor<1x4x7x7xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$lhs, Tfm_FloatTensor:$rhs,
                   UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

def Tfm_LayerNormOp : Tfm_Op<"layer_norm", [Pure,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "Layer normalization over the last axis";
  let description = [{
    With `x = input[..., :]` (the last axis, size D):
    `result = (x - mean(x)) / sqrt(var(x) + epsilon) * weight + bias`,
    where `var` is the biased variance (divided by D), as in
    `torch.nn.LayerNorm`. `weight` and `bias` are `[D]`.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_FloatTensor:$weight,
                   Tfm_FloatTensor:$bias,
                   DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` type($input) `,` type($weight)
    `,` type($bias)
  }];
  let hasVerifier = 1;
}

def Tfm_AddLayerNormOp : Tfm_Op<"add_layer_norm", [Pure,
    AllTypesMatch<["input", "residual", "result"]>]> {
  let summary = "Layer normalization of a residual sum";
  let description = [{
    `result = layer_norm(input + residual)` over the last axis, with the
    semantics of `tfm.layer_norm`. A post-LN transformer block (BERT) ends
    each sub-layer this way; `tfm-fuse-residual-norm` forms it when the sum
    has no other use, so the sum is never written to memory: each row is
    added, normalized and written in one pass.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_FloatTensor:$residual,
                   Tfm_FloatTensor:$weight, Tfm_FloatTensor:$bias,
                   DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $residual `,` $weight `,` $bias attr-dict `:` type($input) `,`
    type($weight) `,` type($bias)
  }];
  let hasVerifier = 1;
}

def Tfm_RmsNormOp : Tfm_Op<"rms_norm", [Pure,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "Root-mean-square normalization over the last axis";
  let description = [{
    `result = x / sqrt(mean(x²) + epsilon) * weight` over the last axis (size
    D), as in T5's and LLaMA's RMSNorm. `weight` is `[D]`.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_FloatTensor:$weight,
                   DefaultValuedAttr<F32Attr, "1.0e-6">:$epsilon);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

class Tfm_UnaryOp<string mnemonic, list<Trait> traits = []>
    : Tfm_Op<mnemonic, !listconcat(traits, [Pure, SameOperandsAndResultType])> {
  let arguments = (ins Tfm_FloatTensor:$input);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Tfm_GeluOp : Tfm_UnaryOp<"gelu"> {
  let summary = "Gaussian error linear unit";
  let description = [{
    `approximation = none`: `0.5 x (1 + erf(x / √2))` (`torch.nn.GELU()`).
    `approximation = tanh`: `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))`
    (`gelu_new` of GPT-2, `GELU(approximate="tanh")`).
  }];
  let arguments = (ins Tfm_FloatTensor:$input,
                   DefaultValuedAttr<Tfm_GeluApproximationAttr,
                       "::kiln::tfm::GeluApproximation::none">:$approximation);
}

def Tfm_QuickGeluOp : Tfm_UnaryOp<"quick_gelu"> {
  let summary = "CLIP's gelu approximation: x · σ(1.702 x)";
}

def Tfm_SiluOp : Tfm_UnaryOp<"silu"> {
  let summary = "Sigmoid linear unit: x · σ(x)";
}

def Tfm_ReluOp : Tfm_UnaryOp<"relu"> {
  let summary = "max(x, 0)";
}

def Tfm_TanhOp : Tfm_UnaryOp<"tanh"> {
  let summary = "Hyperbolic tangent (BERT's pooler, classification heads)";
}

def Tfm_ScaleOp : Tfm_UnaryOp<"scale"> {
  let summary = "Multiplication by a compile-time constant";
  let description = [{
    `result = input * factor`. Attention builders use it for the 1/√d score
    scaling, so the fusion passes can recognize it.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, F32Attr:$factor);
  let hasFolder = 1;
}

def Tfm_SoftmaxOp : Tfm_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "Softmax along one axis";
  let description = [{
    `result = exp(x - max(x)) / sum(exp(x - max(x)))` along `axis`
    (negative values count from the end, as in PyTorch).
  }];
  let arguments = (ins Tfm_FloatTensor:$input,
                   DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
  let extraClassDeclaration = Tfm_AxisAccessors;
}

//===----------------------------------------------------------------------===//
// Elementwise binary ops with broadcasting
//===----------------------------------------------------------------------===//

class Tfm_BinaryOp<string mnemonic, string formula>
    : Tfm_Op<mnemonic, [Pure]> {
  let summary = "Elementwise " # formula # " with numpy broadcasting";
  let description = [{
    The operands broadcast numpy-style; the result has the broadcast shape
    and the operands' element type, a float or a signless integer (i32, i64;
    integer division is signed and truncates). i1 tensors are rejected: they
    have no arithmetic.
  }];
  let arguments = (ins Tfm_NumericTensor:$lhs, Tfm_NumericTensor:$rhs);
  let results = (outs Tfm_NumericTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_AddOp : Tfm_BinaryOp<"add", "lhs + rhs">;
def Tfm_SubOp : Tfm_BinaryOp<"sub", "lhs - rhs">;
def Tfm_MulOp : Tfm_BinaryOp<"mul", "lhs * rhs">;
def Tfm_DivOp : Tfm_BinaryOp<"div", "lhs / rhs">;

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

def Tfm_ReshapeOp : Tfm_Op<"reshape", [Pure]> {
  let summary = "Reinterpret a row-major tensor with another shape";
  let description = [{
    The element count and type stay the same; elements keep their row-major
    order (`torch.reshape` on a contiguous tensor).
  }];
  let arguments = (ins Tfm_AnyTensor:$input);
  let results = (outs Tfm_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tfm_TransposeOp : Tfm_Op<"transpose", [Pure]> {
  let summary = "Permute the axes of a tensor";
  let description = [{
    `result.shape[i] = input.shape[permutation[i]]`, as `torch.permute`.
  }];
  let arguments = (ins Tfm_AnyTensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs Tfm_AnyTensor:$result);
  let assemblyFormat = "$input $permutation attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tfm_SliceOp : Tfm_Op<"slice", [Pure]> {
  let summary = "A strided box of a tensor";
  let description = [{
    `result[i...] = input[offsets[d] + i_d * strides[d] ...]`; the result
    type gives the sizes. Every offset and every read index must lie inside
    the input (an empty slice too needs an offset inside the axis, as
    `tensor.extract_slice` does).
  }];
  let arguments = (ins Tfm_AnyTensor:$input, DenseI64ArrayAttr:$offsets,
                   DenseI64ArrayAttr:$strides);
  let results = (outs Tfm_AnyTensor:$result);
  let assemblyFormat = [{
    $input `offsets` `=` $offsets `strides` `=` $strides attr-dict `:`
    type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_ConcatOp : Tfm_Op<"concat", [Pure]> {
  let summary = "Join tensors along one axis";
  let description = [{
    All inputs have the same rank and element type and agree on every
    dimension except `axis`; the result's `axis` dimension is the sum.
  }];
  let arguments = (ins Variadic<Tfm_AnyTensor>:$inputs, I64Attr:$axis);
  let results = (outs Tfm_AnyTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = Tfm_AxisAccessors;
}

def Tfm_GatherOp : Tfm_Op<"gather", [Pure]> {
  let summary = "Take slices of a tensor at integer indices along one axis";
  let description = [{
    `result[a..., i..., b...] = input[a..., indices[i...], b...]` with `a`
    ranging over the axes before `axis` and `b` over those after it
    (`numpy.take`). Indices outside `[0, dim)` are clamped into range: the
    generated code never reads out of bounds.
  }];
  let arguments = (ins Tfm_AnyTensor:$input, Tfm_IndexTensor:$indices,
                   I64Attr:$axis);
  let results = (outs Tfm_AnyTensor:$result);
  let assemblyFormat = [{
    $input `[` $indices `]` attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = Tfm_AxisAccessors;
}

def Tfm_EmbeddingOp : Tfm_Op<"embedding", [Pure]> {
  let summary = "Look rows of an embedding table up by id";
  let description = [{
    `result[i..., :] = table[ids[i...], :]` for a table `[V, D]`: the result
    is `ids.shape + [D]` (`torch.nn.Embedding`). Ids outside `[0, V)` are
    clamped into range.
  }];
  let arguments = (ins Tfm_FloatTensor:$table, Tfm_IndexTensor:$ids);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $table `[` $ids `]` attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Attention parts
//===----------------------------------------------------------------------===//

def Tfm_CausalMaskOp : Tfm_Op<"causal_mask", [Pure]> {
  let summary = "Additive causal mask [Sq, Sk]";
  let description = [{
    `result[i, j] = 0` if `j <= i + (Sk - Sq)`, else the lowest finite value
    of the element type. The queries are the last Sq of the Sk positions, so
    the same mask serves a full forward pass (Sq = Sk) and decoding against a
    cache (Sq < Sk). The result broadcasts onto scores `[..., Sq, Sk]`.
  }];
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tfm_PaddingMaskOp : Tfm_Op<"padding_mask", [Pure]> {
  let summary = "Additive key-padding mask from sequence lengths";
  let description = [{
    For `lengths` `[B]` and a result `[B, 1, ..., 1, Sk]`:
    `result[b, ..., j] = 0` if `j < lengths[b]`, else the lowest finite value
    of the element type. The unit middle axes let the mask broadcast onto
    scores `[B, H, Sq, Sk]`. A row with every key masked gives uniform
    softmax weights, as the reference implementations' additive masks do.
  }];
  let arguments = (ins Tfm_IndexTensor:$lengths);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$lengths attr-dict `:` type($lengths) `->` type($result)";
  let hasVerifier = 1;
}

def Tfm_AttentionOp : Tfm_Op<"attention", [Pure, AttrSizedOperandSegments]> {
  let summary = "Scaled dot-product attention with a mask";
  let description = [{
    With `query` `[B, H, Sq, D]`, `key` `[B, H, Sk, D]`, `value`
    `[B, H, Sk, Dv]`:

    `S = scale · Q·Kᵀ + M + bias`, `result = softmax(S, axis=-1) · V`,
    a result of shape `[B, H, Sq, Dv]`.

    - `mask = none`: M = 0.
    - `mask = causal`: M is `tfm.causal_mask` (queries are the last Sq keys).
    - `mask = padding`: M is `tfm.padding_mask(lengths)`; `lengths` `[B]` is
      then required, and not allowed for the other kinds.
    - `bias` (optional) is added to the scores and broadcasts onto
      `[B, H, Sq, Sk]` (relative position biases, ALiBi, explicit masks).

    The batch and head dimensions of key and value match the query's.
  }];
  let arguments = (ins Tfm_FloatTensor:$query, Tfm_FloatTensor:$key,
                   Tfm_FloatTensor:$value,
                   Optional<Tfm_IndexTensor>:$lengths,
                   Optional<Tfm_FloatTensor>:$bias,
                   DefaultValuedAttr<Tfm_MaskKindAttr,
                                     "::kiln::tfm::MaskKind::none">:$mask,
                   F32Attr:$scale);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`lengths` `(` $lengths^ `)`)?
    (`bias` `(` $bias^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Generation state
//===----------------------------------------------------------------------===//

def Tfm_KvCacheWriteOp : Tfm_Op<"kv_cache_write", [Pure,
    AllTypesMatch<["cache", "result"]>]> {
  let summary = "Store new keys or values into a cache at a position";
  let description = [{
    `result = cache` except `result[..., position + i, ...] = update[..., i,
    ...]` along `axis` for every i < update.shape[axis]. `position` is a
    one-element integer tensor read at run time; it is clamped so that the
    update lies inside the cache.

    A decoder keeps its keys and values across calls in cache tensors that
    the runtime owns. When the entry function returns the result in place of
    the cache argument (marked `tfm.state`), bufferization updates the
    runtime's buffer in place: each decoded token costs one row of writes, not
    a copy of the cache.

    ```mlir
    %k2 = tfm.kv_cache_write %cache[%pos], %k {axis = 2}
        : (tensor<1x12x1024x64xf32>, tensor<1x1xi64>, tensor<1x12x1x64xf32>)
          -> tensor<1x12x1024x64xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$cache, Tfm_IndexTensor:$position,
                   Tfm_FloatTensor:$update, I64Attr:$axis);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $cache `[` $position `]` `,` $update attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = Tfm_AxisAccessors;
}

#endif // KILN_DIALECT_TFMOPS_TD
