// RUN: kiln-opt %s --split-input-file --verify-diagnostics

// Unknown ops, attributes and malformed custom syntax give one clean error at
// the offending line.

func.func @unknown_op() {
  // expected-error @+1 {{custom op 'tfm.frobnicate' is unknown}}
  %0 = tfm.frobnicate : tensor<4xf32>
  return
}

// -----

func.func @unknown_op_generic() {
  // expected-error @+1 {{unregistered operation 'tfm.frobnicate' found in dialect ('tfm') that does not allow unknown operations}}
  %0 = "tfm.frobnicate"() : () -> tensor<4xf32>
  return
}

// -----

// expected-error @+1 {{unknown attribute `frob` in dialect `tfm`}}
#unknown = #tfm.frob<none>

// -----

func.func @linear_missing_weight(%x: tensor<4xf32>) {
  // expected-error @+1 {{expected ','}}
  %0 = tfm.linear %x : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @linear_operand_type_count(%x: tensor<4xf32>) {
  // expected-error @+1 {{custom op 'tfm.linear' number of operands and types do not match: got 2 operands and 1 types}}
  %0 = tfm.linear %x, %x : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @transpose_missing_permutation(%x: tensor<4xf32>) {
  // expected-error @+1 {{expected '['}}
  %0 = tfm.transpose %x : tensor<4xf32> -> tensor<4xf32>
  return
}

// -----

func.func @slice_missing_strides(%x: tensor<4xf32>) {
  // expected-error @+1 {{custom op 'tfm.slice' expected 'strides'}}
  %0 = tfm.slice %x offsets = [0] : tensor<4xf32> -> tensor<4xf32>
  return
}

// -----

func.func @gather_without_brackets(%x: tensor<4xf32>, %i: tensor<2xi64>) {
  // expected-error @+1 {{expected '['}}
  %0 = tfm.gather %x, %i {axis = 0} : (tensor<4xf32>, tensor<2xi64>) -> tensor<2xf32>
  return
}

// -----

func.func @add_missing_result_type(%x: tensor<4xf32>) {
  // expected-error @+1 {{expected '->'}}
  %0 = tfm.add %x, %x : tensor<4xf32>, tensor<4xf32>
  return
}

// -----

func.func @weight_unquoted_name() {
  // expected-error @+1 {{expected attribute value}}
  %0 = tfm.weight w : tensor<4xf32>
  return
}

// -----

func.func @attention_lengths_without_parens(%x: tensor<1x2x5x4xf32>, %l: tensor<1xi64>) {
  // expected-error @+1 {{expected '('}}
  %0 = tfm.attention %x, %x, %x lengths %l {mask = #tfm.mask<padding>, scale = 0.5 : f32} : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1xi64>) -> tensor<1x2x5x4xf32>
  return
}

// -----

func.func @scale_string_factor(%x: tensor<4xf32>) {
  // expected-error @+1 {{custom op 'tfm.scale' 'tfm.scale' op attribute 'factor' failed to satisfy constraint: 32-bit float attribute}}
  %0 = tfm.scale %x {factor = "two"} : tensor<4xf32>
  return
}

// -----

func.func @softmax_float_axis(%x: tensor<4xf32>) {
  // expected-error @+1 {{custom op 'tfm.softmax' 'tfm.softmax' op attribute 'axis' failed to satisfy constraint: 64-bit signless integer attribute}}
  %0 = tfm.softmax %x {axis = 1.5} : tensor<4xf32>
  return
}
