// RUN: kiln-opt %s --split-input-file --verify-diagnostics

// Verifier and type-constraint errors of tfm.weight and tfm.constant.

func.func @weight_empty_name() -> tensor<4xf32> {
  // expected-error @+1 {{'tfm.weight' op needs a non-empty checkpoint tensor name}}
  %0 = tfm.weight "" : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @weight_dynamic_shape() -> tensor<?x4xf32> {
  // expected-error @+1 {{'tfm.weight' op result #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float or 1-bit signless integer or 32-bit signless integer or 64-bit signless integer values, but got 'tensor<?x4xf32>'}}
  %0 = tfm.weight "w" : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

func.func @weight_element_type() -> tensor<4xi8> {
  // expected-error @+1 {{'tfm.weight' op result #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float or 1-bit signless integer or 32-bit signless integer or 64-bit signless integer values, but got 'tensor<4xi8>'}}
  %0 = tfm.weight "w" : tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @weight_not_a_tensor() {
  // expected-error @+1 {{custom op 'tfm.weight' invalid kind of type specified: expected builtin.tensor, but found 'memref<4xf32>'}}
  %0 = tfm.weight "w" : memref<4xf32>
  return
}

// -----

func.func @weight_missing_name() {
  // expected-error @+1 {{'tfm.weight' op requires attribute 'name'}}
  %0 = "tfm.weight"() : () -> tensor<4xf32>
  return
}

// -----

func.func @constant_element_type() -> tensor<4xui8> {
  // expected-error @+1 {{'tfm.constant' op result #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float or 1-bit signless integer or 32-bit signless integer or 64-bit signless integer values, but got 'tensor<4xui8>'}}
  %0 = tfm.constant dense<1> : tensor<4xui8>
  return %0 : tensor<4xui8>
}

// -----

func.func @constant_vector() {
  // expected-error @+1 {{'tfm.constant' op result #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float or 1-bit signless integer or 32-bit signless integer or 64-bit signless integer values, but got 'vector<4xf32>'}}
  %0 = tfm.constant dense<1.0> : vector<4xf32>
  return
}

// -----

// The generic form can spell a result type that differs from the value's.
func.func @constant_type_mismatch() -> tensor<4xi32> {
  // expected-error @+1 {{'tfm.constant' op failed to verify that all of {value, result} have same type}}
  %0 = "tfm.constant"() <{value = dense<1> : tensor<4xi64>}> : () -> tensor<4xi32>
  return %0 : tensor<4xi32>
}
