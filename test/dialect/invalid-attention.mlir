// RUN: kiln-opt %s --split-input-file --verify-diagnostics

// Verifier and type-constraint errors of tfm.causal_mask, tfm.padding_mask
// and tfm.attention.

func.func @causal_mask_rank() {
  // expected-error @+1 {{'tfm.causal_mask' op result must be [queries, keys], got [1,7,7]}}
  %0 = tfm.causal_mask : tensor<1x7x7xf32>
  return
}

// -----

func.func @causal_mask_more_queries() {
  // expected-error @+1 {{'tfm.causal_mask' op result [8,7] has more queries than keys}}
  %0 = tfm.causal_mask : tensor<8x7xf32>
  return
}

// -----

// An additive mask needs a float type to hold the lowest finite value.
func.func @causal_mask_integer() {
  // expected-error @+1 {{'tfm.causal_mask' op result #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<7x7xi1>'}}
  %0 = tfm.causal_mask : tensor<7x7xi1>
  return
}

// -----

func.func @padding_mask_lengths_rank(%l: tensor<2x1xi64>) {
  // expected-error @+1 {{'tfm.padding_mask' op 'lengths' must be [batch], got [2,1]}}
  %0 = tfm.padding_mask %l : tensor<2x1xi64> -> tensor<2x1x1x7xf32>
  return
}

// -----

func.func @padding_mask_batch(%l: tensor<2xi64>) {
  // expected-error @+1 {{'tfm.padding_mask' op result must be [2, 1, ..., 1, keys] for 'lengths' [2], got [3,1,1,7]}}
  %0 = tfm.padding_mask %l : tensor<2xi64> -> tensor<3x1x1x7xf32>
  return
}

// -----

func.func @padding_mask_middle_axes(%l: tensor<2xi64>) {
  // expected-error @+1 {{'tfm.padding_mask' op result must be [2, 1, ..., 1, keys] for 'lengths' [2], got [2,4,1,7]}}
  %0 = tfm.padding_mask %l : tensor<2xi64> -> tensor<2x4x1x7xf32>
  return
}

// -----

func.func @padding_mask_no_key_axis(%l: tensor<2xi64>) {
  // expected-error @+1 {{'tfm.padding_mask' op result must be [2, 1, ..., 1, keys] for 'lengths' [2], got [2]}}
  %0 = tfm.padding_mask %l : tensor<2xi64> -> tensor<2xf32>
  return
}

// -----

func.func @padding_mask_float_lengths(%l: tensor<2xf32>) {
  // expected-error @+1 {{'tfm.padding_mask' op operand #0 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<2xf32>'}}
  %0 = tfm.padding_mask %l : tensor<2xf32> -> tensor<2x7xf32>
  return
}

// -----

func.func @attention_rank(%q: tensor<4x7x16xf32>) {
  // expected-error @+1 {{'tfm.attention' op 'query' [4,7,16], 'key' [4,7,16] and 'value' [4,7,16] must all be [batch, heads, seq, dim]}}
  %0 = tfm.attention %q, %q, %q {scale = 0.25 : f32} : (tensor<4x7x16xf32>, tensor<4x7x16xf32>, tensor<4x7x16xf32>) -> tensor<4x7x16xf32>
  return
}

// -----

func.func @attention_element_type(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x5x4xf16>) {
  // expected-error @+1 {{'tfm.attention' op 'key' has element type 'f16' but 'query' has 'f32'}}
  %0 = tfm.attention %q, %k, %q {scale = 0.5 : f32} : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf16>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  return
}

// -----

func.func @attention_key_head_dim(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x5x8xf32>) {
  // expected-error @+1 {{'tfm.attention' op 'key' has shape [1,2,5,8] but 'query' has shape [1,2,5,4]: batch, heads and head dim must agree}}
  %0 = tfm.attention %q, %k, %k {scale = 0.5 : f32} : (tensor<1x2x5x4xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) -> tensor<1x2x5x8xf32>
  return
}

// -----

func.func @attention_key_heads(%q: tensor<1x2x5x4xf32>, %k: tensor<1x1x5x4xf32>) {
  // expected-error @+1 {{'tfm.attention' op 'key' has shape [1,1,5,4] but 'query' has shape [1,2,5,4]: batch, heads and head dim must agree}}
  %0 = tfm.attention %q, %k, %k {scale = 0.5 : f32} : (tensor<1x2x5x4xf32>, tensor<1x1x5x4xf32>, tensor<1x1x5x4xf32>) -> tensor<1x2x5x4xf32>
  return
}

// -----

func.func @attention_value_keys(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x9x4xf32>, %v: tensor<1x2x5x4xf32>) {
  // expected-error @+1 {{'tfm.attention' op 'value' has shape [1,2,5,4] but 'key' has shape [1,2,9,4]: batch, heads and key count must agree}}
  %0 = tfm.attention %q, %k, %v {scale = 0.5 : f32} : (tensor<1x2x5x4xf32>, tensor<1x2x9x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  return
}

// -----

func.func @attention_padding_without_lengths(%q: tensor<2x2x5x4xf32>) {
  // expected-error @+1 {{'tfm.attention' op 'lengths' is required by mask = padding and allowed only there}}
  %0 = tfm.attention %q, %q, %q {mask = #tfm.mask<padding>, scale = 0.5 : f32} : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>) -> tensor<2x2x5x4xf32>
  return
}

// -----

func.func @attention_lengths_without_padding(%q: tensor<2x2x5x4xf32>, %l: tensor<2xi64>) {
  // expected-error @+1 {{'tfm.attention' op 'lengths' is required by mask = padding and allowed only there}}
  %0 = tfm.attention %q, %q, %q lengths(%l) {mask = #tfm.mask<causal>, scale = 0.5 : f32} : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2xi64>) -> tensor<2x2x5x4xf32>
  return
}

// -----

func.func @attention_lengths_shape(%q: tensor<2x2x5x4xf32>, %l: tensor<3xi64>) {
  // expected-error @+1 {{'tfm.attention' op 'lengths' has shape [3] but the batch is 2}}
  %0 = tfm.attention %q, %q, %q lengths(%l) {mask = #tfm.mask<padding>, scale = 0.5 : f32} : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<3xi64>) -> tensor<2x2x5x4xf32>
  return
}

// -----

func.func @attention_causal_more_queries(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x5x4xf32>) {
  // expected-error @+1 {{'tfm.attention' op causal mask with more queries (8) than keys (5)}}
  %0 = tfm.attention %q, %k, %k {mask = #tfm.mask<causal>, scale = 0.5 : f32} : (tensor<1x2x8x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x8x4xf32>
  return
}

// -----

// Sq = 5 and Sk = 9: the bias has the two swapped.
func.func @attention_bias_shape(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x9x4xf32>, %b: tensor<9x5xf32>) {
  // expected-error @+1 {{'tfm.attention' op 'bias' has shape [9,5] which does not broadcast to the scores [1,2,5,9]}}
  %0 = tfm.attention %q, %k, %k bias(%b) {scale = 0.5 : f32} : (tensor<1x2x5x4xf32>, tensor<1x2x9x4xf32>, tensor<1x2x9x4xf32>, tensor<9x5xf32>) -> tensor<1x2x5x4xf32>
  return
}

// -----

// A bias may broadcast onto the scores, not grow them.
func.func @attention_bias_larger(%q: tensor<1x2x5x4xf32>, %b: tensor<3x2x5x5xf32>) {
  // expected-error @+1 {{'tfm.attention' op 'bias' has shape [3,2,5,5] which does not broadcast to the scores [1,2,5,5]}}
  %0 = tfm.attention %q, %q, %q bias(%b) {scale = 0.5 : f32} : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<3x2x5x5xf32>) -> tensor<1x2x5x4xf32>
  return
}

// -----

func.func @attention_bias_element_type(%q: tensor<1x2x5x4xf32>, %b: tensor<5x5xf16>) {
  // expected-error @+1 {{'tfm.attention' op 'bias' has element type 'f16' but 'query' has 'f32'}}
  %0 = tfm.attention %q, %q, %q bias(%b) {scale = 0.5 : f32} : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<5x5xf16>) -> tensor<1x2x5x4xf32>
  return
}

// -----

// The result takes its last axis from the value.
func.func @attention_result_shape(%q: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x8xf32>) {
  // expected-error @+1 {{'tfm.attention' op result has shape [1,2,5,4] but the operands give [1,2,5,8]}}
  %0 = tfm.attention %q, %q, %v {scale = 0.5 : f32} : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x8xf32>) -> tensor<1x2x5x4xf32>
  return
}

// -----

func.func @attention_missing_scale(%q: tensor<1x2x5x4xf32>) {
  // expected-error @+1 {{'tfm.attention' op requires attribute 'scale'}}
  %0 = tfm.attention %q, %q, %q : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  return
}

// -----

func.func @attention_unknown_mask(%q: tensor<1x2x5x4xf32>) {
  // expected-error @+2 {{expected ::kiln::tfm::MaskKind to be one of: none, causal, padding}}
  // expected-error @+1 {{failed to parse Tfm_MaskKindAttr parameter 'value' which is to be a `::kiln::tfm::MaskKind`}}
  %0 = tfm.attention %q, %q, %q {mask = #tfm.mask<sliding>, scale = 0.5 : f32} : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  return
}

// -----

func.func @attention_dynamic(%q: tensor<1x2x?x4xf32>) {
  // expected-error @+1 {{'tfm.attention' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<1x2x?x4xf32>'}}
  %0 = tfm.attention %q, %q, %q {scale = 0.5 : f32} : (tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32>
  return
}
