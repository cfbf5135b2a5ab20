// RUN: kiln-opt %s --split-input-file --verify-diagnostics

// Verifier and type-constraint errors of the shape ops: tfm.reshape,
// tfm.transpose, tfm.slice, tfm.concat, tfm.gather and tfm.embedding.

func.func @reshape_element_type(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'tfm.reshape' op result element type 'f16' differs from the input's 'f32'}}
  %0 = tfm.reshape %x : tensor<2x3xf32> -> tensor<6xf16>
  return
}

// -----

func.func @reshape_element_count(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'tfm.reshape' op cannot reshape [2,3] (6 elements) to [2,4] (8 elements)}}
  %0 = tfm.reshape %x : tensor<2x3xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @reshape_dynamic(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'tfm.reshape' op result #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float or 1-bit signless integer or 32-bit signless integer or 64-bit signless integer values, but got 'tensor<?xf32>'}}
  %0 = tfm.reshape %x : tensor<2x3xf32> -> tensor<?xf32>
  return
}

// -----

func.func @transpose_permutation_size(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'tfm.transpose' op permutation has 2 entries but 'input' has rank 3}}
  %0 = tfm.transpose %x [1, 0] : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  return
}

// -----

func.func @transpose_repeated_axis(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'tfm.transpose' op permutation [0,0,1] is not a permutation of the input's axes}}
  %0 = tfm.transpose %x [0, 0, 1] : tensor<2x3x4xf32> -> tensor<2x2x3xf32>
  return
}

// -----

func.func @transpose_axis_out_of_range(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'tfm.transpose' op permutation [0,3,-1] is not a permutation of the input's axes}}
  %0 = tfm.transpose %x [0, 3, -1] : tensor<2x3x4xf32> -> tensor<2x3x4xf32>
  return
}

// -----

func.func @transpose_element_type(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'tfm.transpose' op 'result' has element type 'f64' but 'input' has 'f32'}}
  %0 = tfm.transpose %x [1, 0] : tensor<2x3xf32> -> tensor<3x2xf64>
  return
}

// -----

func.func @transpose_result_shape(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'tfm.transpose' op result has shape [2,4,3] but the operands give [3,2,4]}}
  %0 = tfm.transpose %x [1, 0, 2] : tensor<2x3x4xf32> -> tensor<2x4x3xf32>
  return
}

// -----

func.func @slice_rank(%x: tensor<2x7xf32>) {
  // expected-error @+1 {{'tfm.slice' op 'input' [2,7], result [2,5], offsets [0] and strides [1,1] must have equal rank}}
  %0 = tfm.slice %x offsets = [0] strides = [1, 1] : tensor<2x7xf32> -> tensor<2x5xf32>
  return
}

// -----

func.func @slice_element_type(%x: tensor<2x7xi64>) {
  // expected-error @+1 {{'tfm.slice' op 'result' has element type 'i32' but 'input' has 'i64'}}
  %0 = tfm.slice %x offsets = [0, 0] strides = [1, 1] : tensor<2x7xi64> -> tensor<2x5xi32>
  return
}

// -----

func.func @slice_negative_offset(%x: tensor<2x7xf32>) {
  // expected-error @+1 {{'tfm.slice' op axis 1: offsets must be >= 0 and strides >= 1}}
  %0 = tfm.slice %x offsets = [0, -1] strides = [1, 1] : tensor<2x7xf32> -> tensor<2x5xf32>
  return
}

// -----

func.func @slice_zero_stride(%x: tensor<2x7xf32>) {
  // expected-error @+1 {{'tfm.slice' op axis 0: offsets must be >= 0 and strides >= 1}}
  %0 = tfm.slice %x offsets = [0, 0] strides = [0, 1] : tensor<2x7xf32> -> tensor<2x5xf32>
  return
}

// -----

// An empty slice still needs its offset inside the axis (as
// tensor.extract_slice, which it lowers to, does).
func.func @slice_offset_past_end(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{'tfm.slice' op axis 1: offset 4 is outside 'input' [2,4]}}
  %0 = tfm.slice %x offsets = [0, 4] strides = [1, 1] : tensor<2x4xf32> -> tensor<2x0xf32>
  return
}

// -----

// Rows 3, 5 and 7 of 7: the last one is out of bounds.
func.func @slice_out_of_bounds(%x: tensor<2x7xf32>) {
  // expected-error @+1 {{'tfm.slice' op axis 1: reads index 7 of 'input' [2,7]}}
  %0 = tfm.slice %x offsets = [0, 3] strides = [1, 2] : tensor<2x7xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @concat_no_input() {
  // expected-error @+1 {{'tfm.concat' op needs at least one input}}
  %0 = tfm.concat {axis = 0} : () -> tensor<2xf32>
  return
}

// -----

func.func @concat_missing_axis(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'tfm.concat' op requires attribute 'axis'}}
  %0 = tfm.concat %a, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @concat_axis(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'tfm.concat' op axis -3 is out of range for rank 2}}
  %0 = tfm.concat %a, %a {axis = -3} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @concat_element_type(%a: tensor<2x3xf32>, %b: tensor<2x3xf16>) {
  // expected-error @+1 {{'tfm.concat' op input #1 has a different element type than the result}}
  %0 = tfm.concat %a, %b {axis = 0} : (tensor<2x3xf32>, tensor<2x3xf16>) -> tensor<4x3xf32>
  return
}

// -----

func.func @concat_other_axis_differs(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  // expected-error @+1 {{'tfm.concat' op input #1 has shape [2,4] but input #0 has [2,3]: only axis 0 may differ}}
  %0 = tfm.concat %a, %b {axis = 0} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @concat_rank(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{'tfm.concat' op input #1 has shape [3] but input #0 has [2,3]: only axis 0 may differ}}
  %0 = tfm.concat %a, %b {axis = 0} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3x3xf32>
  return
}

// -----

func.func @concat_result_shape(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  // expected-error @+1 {{'tfm.concat' op result has shape [2,8] but the operands give [2,7]}}
  %0 = tfm.concat %a, %b {axis = -1} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @gather_axis(%x: tensor<4x10xf32>, %i: tensor<3xi64>) {
  // expected-error @+1 {{'tfm.gather' op axis 2 is out of range for rank 2}}
  %0 = tfm.gather %x[%i] {axis = 2} : (tensor<4x10xf32>, tensor<3xi64>) -> tensor<4x10x3xf32>
  return
}

// -----

func.func @gather_element_type(%x: tensor<4x10xf32>, %i: tensor<3xi64>) {
  // expected-error @+1 {{'tfm.gather' op 'result' has element type 'i64' but 'input' has 'f32'}}
  %0 = tfm.gather %x[%i] {axis = 0} : (tensor<4x10xf32>, tensor<3xi64>) -> tensor<3x10xi64>
  return
}

// -----

// The indices' shape replaces the gathered axis in place.
func.func @gather_result_shape(%x: tensor<4x10x8xf32>, %i: tensor<2x3xi64>) {
  // expected-error @+1 {{'tfm.gather' op result has shape [2,3,4,8] but the operands give [4,2,3,8]}}
  %0 = tfm.gather %x[%i] {axis = 1} : (tensor<4x10x8xf32>, tensor<2x3xi64>) -> tensor<2x3x4x8xf32>
  return
}

// -----

func.func @gather_float_indices(%x: tensor<4x10xf32>, %i: tensor<3xf32>) {
  // expected-error @+1 {{'tfm.gather' op operand #1 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<3xf32>'}}
  %0 = tfm.gather %x[%i] {axis = 0} : (tensor<4x10xf32>, tensor<3xf32>) -> tensor<3x10xf32>
  return
}

// -----

func.func @embedding_table_rank(%t: tensor<50xf32>, %ids: tensor<7xi64>) {
  // expected-error @+1 {{'tfm.embedding' op 'table' must be [vocab, dim], got [50]}}
  %0 = tfm.embedding %t[%ids] : (tensor<50xf32>, tensor<7xi64>) -> tensor<7xf32>
  return
}

// -----

func.func @embedding_element_type(%t: tensor<50x16xf32>, %ids: tensor<7xi64>) {
  // expected-error @+1 {{'tfm.embedding' op 'result' has element type 'bf16' but 'table' has 'f32'}}
  %0 = tfm.embedding %t[%ids] : (tensor<50x16xf32>, tensor<7xi64>) -> tensor<7x16xbf16>
  return
}

// -----

func.func @embedding_result_shape(%t: tensor<50x16xf32>, %ids: tensor<2x7xi64>) {
  // expected-error @+1 {{'tfm.embedding' op result has shape [14,16] but the operands give [2,7,16]}}
  %0 = tfm.embedding %t[%ids] : (tensor<50x16xf32>, tensor<2x7xi64>) -> tensor<14x16xf32>
  return
}

// -----

func.func @embedding_integer_table(%t: tensor<50x16xi32>, %ids: tensor<7xi64>) {
  // expected-error @+1 {{'tfm.embedding' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<50x16xi32>'}}
  %0 = tfm.embedding %t[%ids] : (tensor<50x16xi32>, tensor<7xi64>) -> tensor<7x16xi32>
  return
}

// -----

func.func @embedding_i1_ids(%t: tensor<50x16xf32>, %ids: tensor<7xi1>) {
  // expected-error @+1 {{'tfm.embedding' op operand #1 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<7xi1>'}}
  %0 = tfm.embedding %t[%ids] : (tensor<50x16xf32>, tensor<7xi1>) -> tensor<7x16xf32>
  return
}
