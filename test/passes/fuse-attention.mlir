// RUN: kiln-opt %s --split-input-file --tfm-fuse-attention | FileCheck %s

// GPT-2's form: Q·Kᵀ, scale, causal mask, softmax, ·V.
// CHECK-LABEL: func.func @causal
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x7x8xf32>, %[[K:.*]]: tensor<1x4x7x8xf32>, %[[V:.*]]: tensor<1x4x7x8xf32>)
// CHECK-NEXT: %[[A:.*]] = tfm.attention %[[Q]], %[[K]], %[[V]] {mask = #tfm.mask<causal>, scale = 0.353553385 : f32}
// CHECK-NEXT: return %[[A]]
func.func @causal(%q: tensor<1x4x7x8xf32>, %k: tensor<1x4x7x8xf32>, %v: tensor<1x4x7x8xf32>) -> tensor<1x4x7x8xf32> {
  %s = tfm.matmul %q, %k {transpose_rhs} : (tensor<1x4x7x8xf32>, tensor<1x4x7x8xf32>) -> tensor<1x4x7x7xf32>
  %t = tfm.scale %s {factor = 0.353553385 : f32} : tensor<1x4x7x7xf32>
  %m = tfm.causal_mask : tensor<7x7xf32>
  %a = tfm.add %t, %m : tensor<1x4x7x7xf32>, tensor<7x7xf32> -> tensor<1x4x7x7xf32>
  %p = tfm.softmax %a : tensor<1x4x7x7xf32>
  %o = tfm.matmul %p, %v : (tensor<1x4x7x7xf32>, tensor<1x4x7x8xf32>) -> tensor<1x4x7x8xf32>
  return %o : tensor<1x4x7x8xf32>
}

// -----

// BERT's form: a padding mask from lengths, added on the left.
// CHECK-LABEL: func.func @padding
// CHECK-SAME: %[[L:[a-z0-9]+]]: tensor<2xi64>
// CHECK: tfm.attention %{{.*}}, %{{.*}}, %{{.*}} lengths(%[[L]]) {mask = #tfm.mask<padding>, scale = 2.500000e-01 : f32}
// CHECK-NOT: tfm.softmax
func.func @padding(%q: tensor<2x2x5x16xf32>, %k: tensor<2x2x5x16xf32>, %v: tensor<2x2x5x16xf32>, %len: tensor<2xi64>) -> tensor<2x2x5x16xf32> {
  %s = tfm.matmul %q, %k {transpose_rhs} : (tensor<2x2x5x16xf32>, tensor<2x2x5x16xf32>) -> tensor<2x2x5x5xf32>
  %t = tfm.scale %s {factor = 0.25 : f32} : tensor<2x2x5x5xf32>
  %m = tfm.padding_mask %len : tensor<2xi64> -> tensor<2x1x1x5xf32>
  %a = tfm.add %m, %t : tensor<2x1x1x5xf32>, tensor<2x2x5x5xf32> -> tensor<2x2x5x5xf32>
  %p = tfm.softmax %a {axis = 3} : tensor<2x2x5x5xf32>
  %o = tfm.matmul %p, %v : (tensor<2x2x5x5xf32>, tensor<2x2x5x16xf32>) -> tensor<2x2x5x16xf32>
  return %o : tensor<2x2x5x16xf32>
}

// -----

// The scale on Q, no mask: scale folds into the op, mask none.
// CHECK-LABEL: func.func @scaled_query
// CHECK: tfm.attention %arg0, %arg1, %arg2 {scale = 1.250000e-01 : f32}
func.func @scaled_query(%q: tensor<1x1x3x4xf32>, %k: tensor<1x1x6x4xf32>, %v: tensor<1x1x6x2xf32>) -> tensor<1x1x3x2xf32> {
  %qs = tfm.scale %q {factor = 0.125 : f32} : tensor<1x1x3x4xf32>
  %s = tfm.matmul %qs, %k {transpose_rhs} : (tensor<1x1x3x4xf32>, tensor<1x1x6x4xf32>) -> tensor<1x1x3x6xf32>
  %p = tfm.softmax %s : tensor<1x1x3x6xf32>
  %o = tfm.matmul %p, %v : (tensor<1x1x3x6xf32>, tensor<1x1x6x2xf32>) -> tensor<1x1x3x2xf32>
  return %o : tensor<1x1x3x2xf32>
}

// -----

// Any other additive tensor becomes the bias.
// CHECK-LABEL: func.func @bias
// CHECK: tfm.attention %arg0, %arg1, %arg2 bias(%arg3) {scale = 1.000000e+00 : f32}
func.func @bias(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x3x4xf32>, %v: tensor<1x2x3x4xf32>, %b: tensor<1x2x3x3xf32>) -> tensor<1x2x3x4xf32> {
  %s = tfm.matmul %q, %k {transpose_rhs} : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x3xf32>
  %a = tfm.add %s, %b : tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32> -> tensor<1x2x3x3xf32>
  %p = tfm.softmax %a : tensor<1x2x3x3xf32>
  %o = tfm.matmul %p, %v : (tensor<1x2x3x3xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return %o : tensor<1x2x3x4xf32>
}

// -----

// Negative: softmax over the query axis is not attention.
// CHECK-LABEL: func.func @softmax_over_queries
// CHECK-NOT: tfm.attention
// CHECK: tfm.softmax %{{.*}} {axis = 2 : i64}
func.func @softmax_over_queries(%q: tensor<1x1x3x4xf32>, %k: tensor<1x1x3x4xf32>, %v: tensor<1x1x3x4xf32>) -> tensor<1x1x3x4xf32> {
  %s = tfm.matmul %q, %k {transpose_rhs} : (tensor<1x1x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x1x3x3xf32>
  %p = tfm.softmax %s {axis = 2} : tensor<1x1x3x3xf32>
  %o = tfm.matmul %p, %v : (tensor<1x1x3x3xf32>, tensor<1x1x3x4xf32>) -> tensor<1x1x3x4xf32>
  return %o : tensor<1x1x3x4xf32>
}

// -----

// Negative: the probabilities are also returned, so they must exist.
// CHECK-LABEL: func.func @probabilities_used_elsewhere
// CHECK-NOT: tfm.attention
func.func @probabilities_used_elsewhere(%q: tensor<1x1x3x4xf32>, %k: tensor<1x1x3x4xf32>, %v: tensor<1x1x3x4xf32>) -> (tensor<1x1x3x4xf32>, tensor<1x1x3x3xf32>) {
  %s = tfm.matmul %q, %k {transpose_rhs} : (tensor<1x1x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x1x3x3xf32>
  %p = tfm.softmax %s : tensor<1x1x3x3xf32>
  %o = tfm.matmul %p, %v : (tensor<1x1x3x3xf32>, tensor<1x1x3x4xf32>) -> tensor<1x1x3x4xf32>
  return %o, %p : tensor<1x1x3x4xf32>, tensor<1x1x3x3xf32>
}

// -----

// Negative: the scores feed something else too.
// CHECK-LABEL: func.func @scores_used_elsewhere
// CHECK-NOT: tfm.attention
func.func @scores_used_elsewhere(%q: tensor<1x1x3x4xf32>, %k: tensor<1x1x3x4xf32>, %v: tensor<1x1x3x4xf32>) -> (tensor<1x1x3x4xf32>, tensor<1x1x3x3xf32>) {
  %s = tfm.matmul %q, %k {transpose_rhs} : (tensor<1x1x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x1x3x3xf32>
  %p = tfm.softmax %s : tensor<1x1x3x3xf32>
  %o = tfm.matmul %p, %v : (tensor<1x1x3x3xf32>, tensor<1x1x3x4xf32>) -> tensor<1x1x3x4xf32>
  %r = tfm.relu %s : tensor<1x1x3x3xf32>
  return %o, %r : tensor<1x1x3x4xf32>, tensor<1x1x3x3xf32>
}

// -----

// Negative: Q·K without the transpose is not a score matrix over keys.
// CHECK-LABEL: func.func @keys_not_transposed
// CHECK-NOT: tfm.attention
func.func @keys_not_transposed(%q: tensor<1x1x3x3xf32>, %k: tensor<1x1x3x3xf32>, %v: tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32> {
  %s = tfm.matmul %q, %k : (tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  %p = tfm.softmax %s : tensor<1x1x3x3xf32>
  %o = tfm.matmul %p, %v : (tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  return %o : tensor<1x1x3x3xf32>
}

// -----

// Negative: a one-row causal mask broadcast over the queries masks every
// row alike, which is not what mask = causal means.
// CHECK-LABEL: func.func @broadcast_causal_mask
// CHECK-NOT: tfm.attention
func.func @broadcast_causal_mask(%q: tensor<1x1x3x4xf32>, %k: tensor<1x1x5x4xf32>, %v: tensor<1x1x5x4xf32>) -> tensor<1x1x3x4xf32> {
  %s = tfm.matmul %q, %k {transpose_rhs} : (tensor<1x1x3x4xf32>, tensor<1x1x5x4xf32>) -> tensor<1x1x3x5xf32>
  %m = tfm.causal_mask : tensor<1x5xf32>
  %a = tfm.add %s, %m : tensor<1x1x3x5xf32>, tensor<1x5xf32> -> tensor<1x1x3x5xf32>
  %p = tfm.softmax %a : tensor<1x1x3x5xf32>
  %o = tfm.matmul %p, %v : (tensor<1x1x3x5xf32>, tensor<1x1x5x4xf32>) -> tensor<1x1x3x4xf32>
  return %o : tensor<1x1x3x4xf32>
}

// -----

// One padding mask for every layer, as BERT builds it: each attention
// fuses and reads the lengths; the shared mask is left to its other users.
// CHECK-LABEL: func.func @shared_padding_mask
// CHECK-SAME: %[[L:[a-z0-9]+]]: tensor<2xi64>
// CHECK: %[[A:.*]] = tfm.attention %{{.*}}, %{{.*}}, %{{.*}} lengths(%[[L]]) {mask = #tfm.mask<padding>
// CHECK: tfm.attention %[[A]], %[[A]], %[[A]] lengths(%[[L]]) {mask = #tfm.mask<padding>
// CHECK-NOT: tfm.softmax
func.func @shared_padding_mask(%q: tensor<2x2x5x16xf32>, %k: tensor<2x2x5x16xf32>, %v: tensor<2x2x5x16xf32>, %len: tensor<2xi64>) -> (tensor<2x2x5x16xf32>, tensor<2x1x1x5xf32>) {
  %m = tfm.padding_mask %len : tensor<2xi64> -> tensor<2x1x1x5xf32>
  %s = tfm.matmul %q, %k {transpose_rhs} : (tensor<2x2x5x16xf32>, tensor<2x2x5x16xf32>) -> tensor<2x2x5x5xf32>
  %a = tfm.add %s, %m : tensor<2x2x5x5xf32>, tensor<2x1x1x5xf32> -> tensor<2x2x5x5xf32>
  %p = tfm.softmax %a : tensor<2x2x5x5xf32>
  %o = tfm.matmul %p, %v : (tensor<2x2x5x5xf32>, tensor<2x2x5x16xf32>) -> tensor<2x2x5x16xf32>
  %s2 = tfm.matmul %o, %o {transpose_rhs} : (tensor<2x2x5x16xf32>, tensor<2x2x5x16xf32>) -> tensor<2x2x5x5xf32>
  %a2 = tfm.add %s2, %m : tensor<2x2x5x5xf32>, tensor<2x1x1x5xf32> -> tensor<2x2x5x5xf32>
  %p2 = tfm.softmax %a2 : tensor<2x2x5x5xf32>
  %o2 = tfm.matmul %p2, %o : (tensor<2x2x5x5xf32>, tensor<2x2x5x16xf32>) -> tensor<2x2x5x16xf32>
  return %o2, %m : tensor<2x2x5x16xf32>, tensor<2x1x1x5xf32>
}

// -----

// Negative: the masked scores are also returned, so they must exist.
// CHECK-LABEL: func.func @masked_scores_used_elsewhere
// CHECK-NOT: tfm.attention
func.func @masked_scores_used_elsewhere(%q: tensor<1x1x3x4xf32>, %k: tensor<1x1x3x4xf32>, %v: tensor<1x1x3x4xf32>) -> (tensor<1x1x3x4xf32>, tensor<1x1x3x3xf32>) {
  %s = tfm.matmul %q, %k {transpose_rhs} : (tensor<1x1x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x1x3x3xf32>
  %m = tfm.causal_mask : tensor<3x3xf32>
  %a = tfm.add %s, %m : tensor<1x1x3x3xf32>, tensor<3x3xf32> -> tensor<1x1x3x3xf32>
  %p = tfm.softmax %a : tensor<1x1x3x3xf32>
  %o = tfm.matmul %p, %v : (tensor<1x1x3x3xf32>, tensor<1x1x3x4xf32>) -> tensor<1x1x3x4xf32>
  return %o, %a : tensor<1x1x3x4xf32>, tensor<1x1x3x3xf32>
}
