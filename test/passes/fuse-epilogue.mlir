// RUN: kiln-opt %s --split-input-file --tfm-fuse-epilogue | FileCheck %s

// BERT's intermediate layer: linear, then exact GELU.
// CHECK-LABEL: func.func @gelu
// CHECK-NEXT:    %[[Y:.+]] = tfm.linear %arg0, %arg1, %arg2 {activation = #tfm.activation<gelu>}
// CHECK-NEXT:    return %[[Y]]
func.func @gelu(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>) -> tensor<4x16xf32> {
  %0 = tfm.linear %x, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %1 = tfm.gelu %0 : tensor<4x16xf32>
  return %1 : tensor<4x16xf32>
}

// -----

// GPT-2's MLP: Conv1D layout and the tanh approximation.
// CHECK-LABEL: func.func @gelu_tanh
// CHECK:         tfm.linear %arg0, %arg1 {activation = #tfm.activation<gelu_tanh>, weight_in_out}
// CHECK-NOT:     tfm.gelu
func.func @gelu_tanh(%x: tensor<1x4x8xf32>, %w: tensor<8x32xf32>) -> tensor<1x4x32xf32> {
  %0 = tfm.linear %x, %w {weight_in_out} : (tensor<1x4x8xf32>, tensor<8x32xf32>) -> tensor<1x4x32xf32>
  %1 = tfm.gelu %0 {approximation = #tfm.approximation<tanh>} : tensor<1x4x32xf32>
  return %1 : tensor<1x4x32xf32>
}

// -----

// Every activation kind folds.
// CHECK-LABEL: func.func @kinds
// CHECK:         activation = #tfm.activation<quick_gelu>
// CHECK:         activation = #tfm.activation<silu>
// CHECK:         activation = #tfm.activation<relu>
// CHECK:         activation = #tfm.activation<tanh>
// CHECK-NOT:     tfm.quick_gelu
// CHECK-NOT:     tfm.silu
func.func @kinds(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = tfm.linear %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %1 = tfm.quick_gelu %0 : tensor<4x8xf32>
  %2 = tfm.linear %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %3 = tfm.silu %2 : tensor<4x8xf32>
  %4 = tfm.linear %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %5 = tfm.relu %4 : tensor<4x8xf32>
  %6 = tfm.linear %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %7 = tfm.tanh %6 : tensor<4x8xf32>
  return %1, %3, %5, %7 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Negative: the pre-activation value is used too, so it must stay.
// CHECK-LABEL: func.func @other_use
// CHECK:         %[[Y:.+]] = tfm.linear %arg0, %arg1 :
// CHECK:         %[[G:.+]] = tfm.gelu %[[Y]]
// CHECK:         return %[[G]], %[[Y]]
func.func @other_use(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %0 = tfm.linear %x, %w : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %1 = tfm.gelu %0 : tensor<4x16xf32>
  return %1, %0 : tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Negative: a linear that has an activation already, and an activation of
// something other than a linear.
// CHECK-LABEL: func.func @not_fusable
// CHECK:         tfm.linear %arg0, %arg1 {activation = #tfm.activation<relu>}
// CHECK:         tfm.gelu
// CHECK:         tfm.gelu
func.func @not_fusable(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> (tensor<4x16xf32>, tensor<4x8xf32>) {
  %0 = tfm.linear %x, %w {activation = #tfm.activation<relu>} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %1 = tfm.gelu %0 : tensor<4x16xf32>
  %2 = tfm.gelu %x : tensor<4x8xf32>
  return %1, %2 : tensor<4x16xf32>, tensor<4x8xf32>
}
