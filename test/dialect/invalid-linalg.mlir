// RUN: kiln-opt %s --split-input-file --verify-diagnostics

// Verifier and type-constraint errors of tfm.linear and tfm.matmul.

func.func @linear_scalar_input(%x: tensor<f32>, %w: tensor<4x1xf32>) {
  // expected-error @+1 {{'tfm.linear' op 'input' must have rank >= 1}}
  %0 = tfm.linear %x, %w : (tensor<f32>, tensor<4x1xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<2x8xf32>, %w: tensor<2x16x8xf32>) {
  // expected-error @+1 {{'tfm.linear' op 'weight' must be [out, in], got [2,16,8]}}
  %0 = tfm.linear %x, %w : (tensor<2x8xf32>, tensor<2x16x8xf32>) -> tensor<2x16xf32>
  return
}

// -----

// The weight is [out, in] as in torch.nn.Linear, not [in, out].
func.func @linear_contraction(%x: tensor<2x8xf32>, %w: tensor<8x16xf32>) {
  // expected-error @+1 {{'tfm.linear' op 'weight' [out, in] has shape [8,16] but 'input' has shape [2,8]: the input features must agree}}
  %0 = tfm.linear %x, %w : (tensor<2x8xf32>, tensor<8x16xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @linear_bias_shape(%x: tensor<2x8xf32>, %w: tensor<16x8xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{'tfm.linear' op 'bias' has shape [8] but 'weight' has shape [16,8]: expected [16]}}
  %0 = tfm.linear %x, %w, %b : (tensor<2x8xf32>, tensor<16x8xf32>, tensor<8xf32>) -> tensor<2x16xf32>
  return
}

// -----

func.func @linear_weight_element_type(%x: tensor<2x8xf32>, %w: tensor<16x8xf16>) {
  // expected-error @+1 {{'tfm.linear' op 'weight' has element type 'f16' but 'input' has 'f32'}}
  %0 = tfm.linear %x, %w : (tensor<2x8xf32>, tensor<16x8xf16>) -> tensor<2x16xf32>
  return
}

// -----

func.func @linear_bias_element_type(%x: tensor<2x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xbf16>) {
  // expected-error @+1 {{'tfm.linear' op 'bias' has element type 'bf16' but 'input' has 'f32'}}
  %0 = tfm.linear %x, %w, %b : (tensor<2x8xf32>, tensor<16x8xf32>, tensor<16xbf16>) -> tensor<2x16xf32>
  return
}

// -----

func.func @linear_result_element_type(%x: tensor<2x8xf32>, %w: tensor<16x8xf32>) {
  // expected-error @+1 {{'tfm.linear' op 'result' has element type 'f64' but 'input' has 'f32'}}
  %0 = tfm.linear %x, %w : (tensor<2x8xf32>, tensor<16x8xf32>) -> tensor<2x16xf64>
  return
}

// -----

func.func @linear_result_shape(%x: tensor<2x5x8xf32>, %w: tensor<16x8xf32>) {
  // expected-error @+1 {{'tfm.linear' op result has shape [10,16] but the operands give [2,5,16]}}
  %0 = tfm.linear %x, %w : (tensor<2x5x8xf32>, tensor<16x8xf32>) -> tensor<10x16xf32>
  return
}

// -----

func.func @linear_integer_input(%x: tensor<2x8xi32>, %w: tensor<16x8xf32>) {
  // expected-error @+1 {{'tfm.linear' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<2x8xi32>'}}
  %0 = tfm.linear %x, %w : (tensor<2x8xi32>, tensor<16x8xf32>) -> tensor<2x16xf32>
  return
}

// -----

func.func @linear_dynamic_input(%x: tensor<?x8xf32>, %w: tensor<16x8xf32>) {
  // expected-error @+1 {{'tfm.linear' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<?x8xf32>'}}
  %0 = tfm.linear %x, %w : (tensor<?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @linear_unknown_activation(%x: tensor<2x8xf32>, %w: tensor<16x8xf32>) {
  // expected-error @+2 {{expected ::kiln::tfm::Activation to be one of: none, gelu, gelu_tanh, quick_gelu, silu, relu}}
  // expected-error @+1 {{failed to parse Tfm_ActivationAttr parameter 'value' which is to be a `::kiln::tfm::Activation`}}
  %0 = tfm.linear %x, %w {activation = #tfm.activation<swish>} : (tensor<2x8xf32>, tensor<16x8xf32>) -> tensor<2x16xf32>
  return
}

// -----

func.func @matmul_rank_one(%a: tensor<8xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{'tfm.matmul' op operands must have the same rank >= 2, got [8] and [8]}}
  %0 = tfm.matmul %a, %b : (tensor<8xf32>, tensor<8xf32>) -> tensor<f32>
  return
}

// -----

// Batch dimensions broadcast, but the ranks must be equal.
func.func @matmul_rank_mismatch(%a: tensor<2x4x8xf32>, %b: tensor<8x16xf32>) {
  // expected-error @+1 {{'tfm.matmul' op operands must have the same rank >= 2, got [2,4,8] and [8,16]}}
  %0 = tfm.matmul %a, %b : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  return
}

// -----

func.func @matmul_element_type(%a: tensor<4x8xf32>, %b: tensor<8x16xf16>) {
  // expected-error @+1 {{'tfm.matmul' op 'rhs' has element type 'f16' but 'lhs' has 'f32'}}
  %0 = tfm.matmul %a, %b : (tensor<4x8xf32>, tensor<8x16xf16>) -> tensor<4x16xf32>
  return
}

// -----

// Without transpose_rhs, [16, 8] contributes 16 to the contraction.
func.func @matmul_contraction(%a: tensor<4x8xf32>, %b: tensor<16x8xf32>) {
  // expected-error @+1 {{'tfm.matmul' op contraction dimensions differ: 'lhs' [4,8] gives 8, 'rhs' [16,8] gives 16}}
  %0 = tfm.matmul %a, %b : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_contraction_transposed(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>) {
  // expected-error @+1 {{'tfm.matmul' op contraction dimensions differ: 'lhs' [4,8] gives 4, 'rhs' [8,16] gives 8}}
  %0 = tfm.matmul %a, %b {transpose_lhs} : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x4x8xf32>, %b: tensor<3x8x16xf32>) {
  // expected-error @+1 {{'tfm.matmul' op batch dimensions of 'lhs' [2,4,8] and 'rhs' [3,8,16] do not broadcast}}
  %0 = tfm.matmul %a, %b : (tensor<2x4x8xf32>, tensor<3x8x16xf32>) -> tensor<2x4x16xf32>
  return
}

// -----

func.func @matmul_result_shape(%a: tensor<1x4x8xf32>, %b: tensor<3x8x16xf32>) {
  // expected-error @+1 {{'tfm.matmul' op result has shape [1,4,16] but the operands give [3,4,16]}}
  %0 = tfm.matmul %a, %b : (tensor<1x4x8xf32>, tensor<3x8x16xf32>) -> tensor<1x4x16xf32>
  return
}

// -----

func.func @matmul_integer(%a: tensor<4x8xi64>, %b: tensor<8x16xi64>) {
  // expected-error @+1 {{'tfm.matmul' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<4x8xi64>'}}
  %0 = tfm.matmul %a, %b : (tensor<4x8xi64>, tensor<8x16xi64>) -> tensor<4x16xi64>
  return
}

// -----

func.func @pack_panels_count(%w: tensor<20x8xf32>) {
  // expected-error @+1 {{'tfm.pack_panels' op result [1,8,16] is not the panels of a weight with 20 outputs and 8 inputs: expected [ceil(20 / width), 8, width]}}
  %p = tfm.pack_panels %w : tensor<20x8xf32> -> tensor<1x8x16xf32>
  return
}

// -----

func.func @pack_panels_in_out(%w: tensor<20x8xf32>) {
  // With in_out the weight is [in, out]: 8 outputs of 20 inputs.
  // expected-error @+1 {{'tfm.pack_panels' op result [2,8,16] is not the panels of a weight with 8 outputs and 20 inputs}}
  %p = tfm.pack_panels %w {in_out} : tensor<20x8xf32> -> tensor<2x8x16xf32>
  return
}

// -----

func.func @pack_panels_rank(%w: tensor<20x8xf32>) {
  // expected-error @+1 {{'tfm.pack_panels' op packs an [out, in] (or with 'in_out' [in, out]) weight into [panels, in, width], got [20,8] -> [2,128]}}
  %p = tfm.pack_panels %w : tensor<20x8xf32> -> tensor<2x128xf32>
  return
}

// -----

func.func @linear_panels_cover(%x: tensor<3x8xf32>, %p: tensor<2x8x16xf32>) {
  // expected-error @+1 {{'tfm.linear' op 'weight' panels [2,8,16] do not cover the [3,40] result: expected ceil(N / width) panels}}
  %y = tfm.linear %x, %p {weight_panels} : (tensor<3x8xf32>, tensor<2x8x16xf32>) -> tensor<3x40xf32>
  return
}

// -----

func.func @linear_panels_rank(%x: tensor<3x8xf32>, %w: tensor<20x8xf32>) {
  // expected-error @+1 {{'tfm.linear' op 'weight' must be [panels, in, width], got [20,8]}}
  %y = tfm.linear %x, %w {weight_panels} : (tensor<3x8xf32>, tensor<20x8xf32>) -> tensor<3x20xf32>
  return
}

// -----

func.func @linear_panels_in_out(%x: tensor<3x8xf32>, %p: tensor<2x8x16xf32>) {
  // expected-error @+1 {{'tfm.linear' op 'weight_in_out' and 'weight_panels' exclude each other}}
  %y = tfm.linear %x, %p {weight_panels, weight_in_out} : (tensor<3x8xf32>, tensor<2x8x16xf32>) -> tensor<3x20xf32>
  return
}
