// RUN: kiln-opt %s --split-input-file --verify-diagnostics

// Verifier and type-constraint errors of the activations, tfm.scale and
// tfm.softmax.

func.func @gelu_integer(%x: tensor<4xi32>) {
  // expected-error @+1 {{'tfm.gelu' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<4xi32>'}}
  %0 = tfm.gelu %x : tensor<4xi32>
  return
}

// -----

func.func @gelu_unknown_approximation(%x: tensor<4xf32>) {
  // expected-error @+2 {{expected ::kiln::tfm::GeluApproximation to be one of: none, tanh}}
  // expected-error @+1 {{failed to parse Tfm_GeluApproximationAttr parameter 'value' which is to be a `::kiln::tfm::GeluApproximation`}}
  %0 = tfm.gelu %x {approximation = #tfm.approximation<sigmoid>} : tensor<4xf32>
  return
}

// -----

func.func @silu_result_type(%x: tensor<4xf32>) {
  // expected-error @+1 {{'tfm.silu' op requires the same type for all operands and results}}
  %0 = "tfm.silu"(%x) : (tensor<4xf32>) -> tensor<4xf16>
  return
}

// -----

func.func @relu_dynamic(%x: tensor<?xf32>) {
  // expected-error @+1 {{'tfm.relu' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<?xf32>'}}
  %0 = tfm.relu %x : tensor<?xf32>
  return
}

// -----

func.func @quick_gelu_unranked(%x: tensor<*xf32>) {
  // expected-error @+1 {{custom op 'tfm.quick_gelu' invalid kind of type specified: expected builtin.tensor, but found 'tensor<*xf32>'}}
  %0 = tfm.quick_gelu %x : tensor<*xf32>
  return
}

// -----

func.func @scale_missing_factor(%x: tensor<4xf32>) {
  // expected-error @+1 {{'tfm.scale' op requires attribute 'factor'}}
  %0 = tfm.scale %x : tensor<4xf32>
  return
}

// -----

func.func @scale_integer(%x: tensor<4xi64>) {
  // expected-error @+1 {{'tfm.scale' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<4xi64>'}}
  %0 = tfm.scale %x {factor = 2.0 : f32} : tensor<4xi64>
  return
}

// -----

func.func @softmax_axis_too_large(%x: tensor<2x5x8xf32>) {
  // expected-error @+1 {{'tfm.softmax' op axis 3 is out of range for rank 3}}
  %0 = tfm.softmax %x {axis = 3} : tensor<2x5x8xf32>
  return
}

// -----

func.func @softmax_axis_too_negative(%x: tensor<2x5x8xf32>) {
  // expected-error @+1 {{'tfm.softmax' op axis -4 is out of range for rank 3}}
  %0 = tfm.softmax %x {axis = -4} : tensor<2x5x8xf32>
  return
}

// -----

// There is no axis to normalize over in a scalar.
func.func @softmax_scalar(%x: tensor<f32>) {
  // expected-error @+1 {{'tfm.softmax' op axis -1 is out of range for rank 0}}
  %0 = tfm.softmax %x : tensor<f32>
  return
}

// -----

func.func @softmax_result_type(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'tfm.softmax' op requires the same type for all operands and results}}
  %0 = "tfm.softmax"(%x) : (tensor<2x8xf32>) -> tensor<8x2xf32>
  return
}
