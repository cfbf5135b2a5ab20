// RUN: kiln-opt %s --split-input-file | kiln-opt --split-input-file | FileCheck %s

// Pointwise activations, tfm.scale and tfm.softmax. Input and result have
// the same type, which is written once.

// CHECK-LABEL: func.func @gelu
// CHECK-SAME:    (%[[X:.+]]: tensor<2x8xf32>)
// CHECK:         tfm.gelu %[[X]] : tensor<2x8xf32>
// CHECK:         tfm.gelu %[[X]] : tensor<2x8xf32>
// CHECK:         tfm.gelu %[[X]] {approximation = #tfm.approximation<tanh>} : tensor<2x8xf32>
func.func @gelu(%x: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) {
  %0 = tfm.gelu %x : tensor<2x8xf32>
  %1 = tfm.gelu %x {approximation = #tfm.approximation<none>} : tensor<2x8xf32>
  %2 = tfm.gelu %x {approximation = #tfm.approximation<tanh>} : tensor<2x8xf32>
  return %0, %1, %2 : tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// CHECK-LABEL: func.func @pointwise
// CHECK-SAME:    (%[[X:.+]]: tensor<3x4xf16>)
// CHECK:         %[[Q:.+]] = tfm.quick_gelu %[[X]] : tensor<3x4xf16>
// CHECK:         %[[S:.+]] = tfm.silu %[[Q]] : tensor<3x4xf16>
// CHECK:         tfm.relu %[[S]] : tensor<3x4xf16>
func.func @pointwise(%x: tensor<3x4xf16>) -> tensor<3x4xf16> {
  %0 = tfm.quick_gelu %x : tensor<3x4xf16>
  %1 = tfm.silu %0 : tensor<3x4xf16>
  %2 = tfm.relu %1 : tensor<3x4xf16>
  return %2 : tensor<3x4xf16>
}

// -----

// CHECK-LABEL: func.func @scale
// CHECK:         tfm.scale %{{.+}} {factor = 1.250000e-01 : f32} : tensor<1x4x7x7xf32>
func.func @scale(%x: tensor<1x4x7x7xf32>) -> tensor<1x4x7x7xf32> {
  %0 = tfm.scale %x {factor = 0.125 : f32} : tensor<1x4x7x7xf32>
  return %0 : tensor<1x4x7x7xf32>
}

// -----

// The default axis (-1) is elided; a negative axis counts from the end.
// CHECK-LABEL: func.func @softmax
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5x8xf32>)
// CHECK:         tfm.softmax %[[X]] : tensor<2x5x8xf32>
// CHECK:         tfm.softmax %[[X]] : tensor<2x5x8xf32>
// CHECK:         tfm.softmax %[[X]] {axis = -2 : i64} : tensor<2x5x8xf32>
// CHECK:         tfm.softmax %[[X]] {axis = 0 : i64} : tensor<2x5x8xf32>
func.func @softmax(%x: tensor<2x5x8xf32>) -> (tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<2x5x8xf32>) {
  %0 = tfm.softmax %x : tensor<2x5x8xf32>
  %1 = tfm.softmax %x {axis = -1} : tensor<2x5x8xf32>
  %2 = tfm.softmax %x {axis = -2} : tensor<2x5x8xf32>
  %3 = tfm.softmax %x {axis = 0} : tensor<2x5x8xf32>
  return %0, %1, %2, %3 : tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<2x5x8xf32>
}
