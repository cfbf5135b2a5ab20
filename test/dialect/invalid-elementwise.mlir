// RUN: kiln-opt %s --split-input-file --verify-diagnostics

// Verifier and type-constraint errors of tfm.add, tfm.sub, tfm.mul and
// tfm.div (one verifier, shared by all four).

func.func @add_element_type(%a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error @+1 {{'tfm.add' op 'rhs' has element type 'f16' but 'lhs' has 'f32'}}
  %0 = tfm.add %a, %b : tensor<4xf32>, tensor<4xf16> -> tensor<4xf32>
  return
}

// -----

// An integer and a float operand do not mix.
func.func @sub_int_float(%a: tensor<4xi64>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'tfm.sub' op 'rhs' has element type 'f32' but 'lhs' has 'i64'}}
  %0 = tfm.sub %a, %b : tensor<4xi64>, tensor<4xf32> -> tensor<4xi64>
  return
}

// -----

func.func @mul_result_element_type(%a: tensor<4xi32>, %b: tensor<4xi32>) {
  // expected-error @+1 {{'tfm.mul' op 'result' has element type 'i64' but 'lhs' has 'i32'}}
  %0 = tfm.mul %a, %b : tensor<4xi32>, tensor<4xi32> -> tensor<4xi64>
  return
}

// -----

func.func @div_no_broadcast(%a: tensor<2x5xf32>, %b: tensor<2xf32>) {
  // expected-error @+1 {{'tfm.div' op shapes of 'lhs' [2,5] and 'rhs' [2] do not broadcast}}
  %0 = tfm.div %a, %b : tensor<2x5xf32>, tensor<2xf32> -> tensor<2x5xf32>
  return
}

// -----

func.func @add_result_shape(%a: tensor<2x1xf32>, %b: tensor<5xf32>) {
  // expected-error @+1 {{'tfm.add' op result has shape [2,1] but the operands give [2,5]}}
  %0 = tfm.add %a, %b : tensor<2x1xf32>, tensor<5xf32> -> tensor<2x1xf32>
  return
}

// -----

func.func @mul_dynamic(%a: tensor<?xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'tfm.mul' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float or 32-bit signless integer or 64-bit signless integer values, but got 'tensor<?xf32>'}}
  %0 = tfm.mul %a, %b : tensor<?xf32>, tensor<4xf32> -> tensor<4xf32>
  return
}

// -----

func.func @add_element_type_unsupported(%a: tensor<4xi16>, %b: tensor<4xi16>) {
  // expected-error @+1 {{'tfm.add' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float or 32-bit signless integer or 64-bit signless integer values, but got 'tensor<4xi16>'}}
  %0 = tfm.add %a, %b : tensor<4xi16>, tensor<4xi16> -> tensor<4xi16>
  return
}

// -----

// i1 tensors (masks) have no arithmetic; the lowering has no pattern for it
// either.
func.func @add_i1(%a: tensor<4xi1>, %b: tensor<4xi1>) {
  // expected-error @+1 {{'tfm.add' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float or 32-bit signless integer or 64-bit signless integer values, but got 'tensor<4xi1>'}}
  %0 = tfm.add %a, %b : tensor<4xi1>, tensor<4xi1> -> tensor<4xi1>
  return
}
