// RUN: kiln-opt %s --split-input-file | kiln-opt --split-input-file | FileCheck %s

// Normalizations over the last axis: tfm.layer_norm and tfm.rms_norm.

// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5x8xf32>, %[[G:.+]]: tensor<8xf32>, %[[B:.+]]: tensor<8xf32>)
// CHECK:         tfm.layer_norm %[[X]], %[[G]], %[[B]] : tensor<2x5x8xf32>, tensor<8xf32>, tensor<8xf32>
func.func @layer_norm(%x: tensor<2x5x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x5x8xf32> {
  %0 = tfm.layer_norm %x, %g, %b : tensor<2x5x8xf32>, tensor<8xf32>, tensor<8xf32>
  return %0 : tensor<2x5x8xf32>
}

// -----

// The default epsilon (1e-5) is elided; another value is printed.
// CHECK-LABEL: func.func @layer_norm_epsilon
// CHECK:         tfm.layer_norm %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} : tensor<8xbf16>
// CHECK:         tfm.layer_norm %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} {epsilon = 9.99999997E-7 : f32} : tensor<8xbf16>
func.func @layer_norm_epsilon(%x: tensor<8xbf16>, %g: tensor<8xbf16>, %b: tensor<8xbf16>) -> (tensor<8xbf16>, tensor<8xbf16>) {
  %0 = tfm.layer_norm %x, %g, %b {epsilon = 1.0e-5 : f32} : tensor<8xbf16>, tensor<8xbf16>, tensor<8xbf16>
  %1 = tfm.layer_norm %x, %g, %b {epsilon = 1.0e-6 : f32} : tensor<8xbf16>, tensor<8xbf16>, tensor<8xbf16>
  return %0, %1 : tensor<8xbf16>, tensor<8xbf16>
}

// -----

// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5x8xf32>, %[[G:.+]]: tensor<8xf32>)
// CHECK:         tfm.rms_norm %[[X]], %[[G]] : tensor<2x5x8xf32>, tensor<8xf32>
// CHECK:         tfm.rms_norm %[[X]], %[[G]] {epsilon = 9.99999974E-6 : f32} : tensor<2x5x8xf32>, tensor<8xf32>
func.func @rms_norm(%x: tensor<2x5x8xf32>, %g: tensor<8xf32>) -> (tensor<2x5x8xf32>, tensor<2x5x8xf32>) {
  %0 = tfm.rms_norm %x, %g : tensor<2x5x8xf32>, tensor<8xf32>
  %1 = tfm.rms_norm %x, %g {epsilon = 1.0e-5 : f32} : tensor<2x5x8xf32>, tensor<8xf32>
  return %0, %1 : tensor<2x5x8xf32>, tensor<2x5x8xf32>
}

// -----

// CHECK-LABEL: func.func @add_layer_norm
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5x8xf32>, %[[R:.+]]: tensor<2x5x8xf32>, %[[G:.+]]: tensor<8xf32>, %[[B:.+]]: tensor<8xf32>)
// CHECK:         tfm.add_layer_norm %[[X]], %[[R]], %[[G]], %[[B]] {epsilon = 9.99999996E-13 : f32} : tensor<2x5x8xf32>, tensor<8xf32>, tensor<8xf32>
func.func @add_layer_norm(%x: tensor<2x5x8xf32>, %r: tensor<2x5x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x5x8xf32> {
  %0 = tfm.add_layer_norm %x, %r, %g, %b {epsilon = 1.0e-12 : f32} : tensor<2x5x8xf32>, tensor<8xf32>, tensor<8xf32>
  return %0 : tensor<2x5x8xf32>
}
