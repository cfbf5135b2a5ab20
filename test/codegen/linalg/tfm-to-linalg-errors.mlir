// RUN: not kiln-opt %s --split-input-file --convert-tfm-to-linalg 2>&1 | FileCheck %s

// The conversion has no pattern for tfm.attention and tfm.weight (they are
// removed earlier by tfm-decompose-attention and tfm-outline-weights); it
// fails and names the op and its location instead of leaving it behind.

// CHECK: tfm-to-linalg-errors.mlir:[[# @LINE + 2]]:8: error: failed to legalize operation 'tfm.attention' that was explicitly marked illegal
func.func @attention(%q: tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32> {
  %0 = tfm.attention %q, %q, %q {scale = 0.5 : f32} : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  return %0 : tensor<1x2x5x4xf32>
}

// -----

// CHECK: tfm-to-linalg-errors.mlir:[[# @LINE + 2]]:8: error: failed to legalize operation 'tfm.weight' that was explicitly marked illegal
func.func @weight() -> tensor<4xf32> {
  %0 = tfm.weight "w" : tensor<4xf32>
  %1 = tfm.relu %0 : tensor<4xf32>
  return %1 : tensor<4xf32>
}

