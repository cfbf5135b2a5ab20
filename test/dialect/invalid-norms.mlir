// RUN: kiln-opt %s --split-input-file --verify-diagnostics

// Verifier and type-constraint errors of tfm.layer_norm and tfm.rms_norm.

func.func @layer_norm_scalar(%x: tensor<f32>, %g: tensor<1xf32>) {
  // expected-error @+1 {{'tfm.layer_norm' op 'input' must have rank >= 1}}
  %0 = tfm.layer_norm %x, %g, %g : tensor<f32>, tensor<1xf32>, tensor<1xf32>
  return
}

// -----

func.func @layer_norm_weight_shape(%x: tensor<2x8xf32>, %g: tensor<2x8xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{'tfm.layer_norm' op 'weight' has shape [2,8] but 'input' has shape [2,8]: expected [8]}}
  %0 = tfm.layer_norm %x, %g, %b : tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>
  return
}

// -----

func.func @layer_norm_bias_shape(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %b: tensor<2xf32>) {
  // expected-error @+1 {{'tfm.layer_norm' op 'bias' has shape [2] but 'input' has shape [2,8]: expected [8]}}
  %0 = tfm.layer_norm %x, %g, %b : tensor<2x8xf32>, tensor<8xf32>, tensor<2xf32>
  return
}

// -----

func.func @layer_norm_weight_element_type(%x: tensor<2x8xf32>, %g: tensor<8xf16>, %b: tensor<8xf32>) {
  // expected-error @+1 {{'tfm.layer_norm' op 'weight' has element type 'f16' but 'input' has 'f32'}}
  %0 = tfm.layer_norm %x, %g, %b : tensor<2x8xf32>, tensor<8xf16>, tensor<8xf32>
  return
}

// -----

func.func @layer_norm_bias_element_type(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf64>) {
  // expected-error @+1 {{'tfm.layer_norm' op 'bias' has element type 'f64' but 'input' has 'f32'}}
  %0 = tfm.layer_norm %x, %g, %b : tensor<2x8xf32>, tensor<8xf32>, tensor<8xf64>
  return
}

// -----

// The custom form writes the type once; the generic form can disagree.
func.func @layer_norm_result_type(%x: tensor<2x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'tfm.layer_norm' op failed to verify that all of {input, result} have same type}}
  %0 = "tfm.layer_norm"(%x, %g, %g) : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<8x2xf32>
  return
}

// -----

func.func @layer_norm_integer(%x: tensor<2x8xi32>, %g: tensor<8xi32>) {
  // expected-error @+1 {{'tfm.layer_norm' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<2x8xi32>'}}
  %0 = tfm.layer_norm %x, %g, %g : tensor<2x8xi32>, tensor<8xi32>, tensor<8xi32>
  return
}

// -----

func.func @rms_norm_scalar(%x: tensor<f32>, %g: tensor<1xf32>) {
  // expected-error @+1 {{'tfm.rms_norm' op 'input' must have rank >= 1}}
  %0 = tfm.rms_norm %x, %g : tensor<f32>, tensor<1xf32>
  return
}

// -----

// The weight scales the last axis, not the first.
func.func @rms_norm_weight_shape(%x: tensor<2x8xf32>, %g: tensor<2xf32>) {
  // expected-error @+1 {{'tfm.rms_norm' op 'weight' has shape [2] but 'input' has shape [2,8]: expected [8]}}
  %0 = tfm.rms_norm %x, %g : tensor<2x8xf32>, tensor<2xf32>
  return
}

// -----

func.func @rms_norm_weight_element_type(%x: tensor<2x8xbf16>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'tfm.rms_norm' op 'weight' has element type 'f32' but 'input' has 'bf16'}}
  %0 = tfm.rms_norm %x, %g : tensor<2x8xbf16>, tensor<8xf32>
  return
}

// -----

func.func @rms_norm_dynamic(%x: tensor<2x?xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'tfm.rms_norm' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<2x?xf32>'}}
  %0 = tfm.rms_norm %x, %g : tensor<2x?xf32>, tensor<8xf32>
  return
}

// -----

func.func @rms_norm_epsilon_type(%x: tensor<2x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'tfm.rms_norm' op attribute 'epsilon' failed to satisfy constraint: 32-bit float attribute}}
  %0 = tfm.rms_norm %x, %g {epsilon = 1.0e-6 : f64} : tensor<2x8xf32>, tensor<8xf32>
  return
}

// -----

func.func @add_layer_norm_residual_shape(%x: tensor<2x8xf32>, %r: tensor<1x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'tfm.add_layer_norm' op failed to verify that all of {input, residual, result} have same type}}
  %0 = "tfm.add_layer_norm"(%x, %r, %g, %g) : (tensor<2x8xf32>, tensor<1x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @add_layer_norm_bias_shape(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %b: tensor<2xf32>) {
  // expected-error @+1 {{'tfm.add_layer_norm' op 'bias' has shape [2] but 'input' has shape [2,8]: expected [8]}}
  %0 = tfm.add_layer_norm %x, %x, %g, %b : tensor<2x8xf32>, tensor<8xf32>, tensor<2xf32>
  return
}
