// RUN: kiln-opt %s --split-input-file --tfm-fuse-residual-norm | FileCheck %s

// BERT's post-LN: the residual sum feeds only the LayerNorm.
// CHECK-LABEL: func.func @post_ln
// CHECK-NEXT:    %[[N:.+]] = tfm.add_layer_norm %arg0, %arg1, %arg2, %arg3 {epsilon = 9.99999996E-13 : f32} : tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>
// CHECK-NEXT:    return %[[N]]
func.func @post_ln(%x: tensor<1x4x8xf32>, %r: tensor<1x4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<1x4x8xf32> {
  %0 = tfm.add %x, %r : tensor<1x4x8xf32>, tensor<1x4x8xf32> -> tensor<1x4x8xf32>
  %1 = tfm.layer_norm %0, %g, %b {epsilon = 1.0e-12 : f32} : tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>
  return %1 : tensor<1x4x8xf32>
}

// -----

// Negative: GPT-2's pre-LN keeps the sum as the next residual; a bias add
// broadcasts; a layer norm of something else.
// CHECK-LABEL: func.func @not_fused
// CHECK-NOT:     tfm.add_layer_norm
// CHECK:         %[[SUM:.+]] = tfm.add %arg0, %arg1
// CHECK:         tfm.layer_norm %[[SUM]]
// CHECK:         %[[BIASED:.+]] = tfm.add %arg0, %arg3
// CHECK:         tfm.layer_norm %[[BIASED]]
// CHECK:         tfm.layer_norm %arg0
func.func @not_fused(%x: tensor<1x4x8xf32>, %r: tensor<1x4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> (tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>) {
  %0 = tfm.add %x, %r : tensor<1x4x8xf32>, tensor<1x4x8xf32> -> tensor<1x4x8xf32>
  %1 = tfm.layer_norm %0, %g, %b : tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>
  %2 = tfm.add %x, %b : tensor<1x4x8xf32>, tensor<8xf32> -> tensor<1x4x8xf32>
  %3 = tfm.layer_norm %2, %g, %b : tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>
  %4 = tfm.layer_norm %x, %g, %b : tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>
  return %0, %1, %3, %4 : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
}
