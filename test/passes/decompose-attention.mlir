// RUN: kiln-opt %s --split-input-file --tfm-decompose-attention | FileCheck %s

// tfm.attention becomes matmul(Q, Kᵀ), scale, the additive mask, the bias,
// softmax on the last axis and matmul with V, in that order.

// CHECK-LABEL: func.func @no_mask
// CHECK-SAME:    (%[[Q:.+]]: tensor<2x4x7x16xf32>, %[[K:.+]]: tensor<2x4x9x16xf32>, %[[V:.+]]: tensor<2x4x9x8xf32>)
// CHECK-NEXT:    %[[S:.+]] = tfm.matmul %[[Q]], %[[K]] {transpose_rhs} : (tensor<2x4x7x16xf32>, tensor<2x4x9x16xf32>) -> tensor<2x4x7x9xf32>
// CHECK-NEXT:    %[[SC:.+]] = tfm.scale %[[S]] {factor = 2.500000e-01 : f32} : tensor<2x4x7x9xf32>
// CHECK-NEXT:    %[[P:.+]] = tfm.softmax %[[SC]] : tensor<2x4x7x9xf32>
// CHECK-NEXT:    %[[O:.+]] = tfm.matmul %[[P]], %[[V]] : (tensor<2x4x7x9xf32>, tensor<2x4x9x8xf32>) -> tensor<2x4x7x8xf32>
// CHECK-NEXT:    return %[[O]]
func.func @no_mask(%q: tensor<2x4x7x16xf32>, %k: tensor<2x4x9x16xf32>, %v: tensor<2x4x9x8xf32>) -> tensor<2x4x7x8xf32> {
  %0 = tfm.attention %q, %k, %v {scale = 0.25 : f32} : (tensor<2x4x7x16xf32>, tensor<2x4x9x16xf32>, tensor<2x4x9x8xf32>) -> tensor<2x4x7x8xf32>
  return %0 : tensor<2x4x7x8xf32>
}

// -----

// Decoding against a cache: 5 queries, 9 keys; the mask is [Sq, Sk].
// CHECK-LABEL: func.func @causal
// CHECK-SAME:    (%[[Q:.+]]: tensor<1x2x5x4xf16>, %[[K:.+]]: tensor<1x2x9x4xf16>, %[[V:.+]]: tensor<1x2x9x4xf16>)
// CHECK-NEXT:    %[[S:.+]] = tfm.matmul %[[Q]], %[[K]] {transpose_rhs} : (tensor<1x2x5x4xf16>, tensor<1x2x9x4xf16>) -> tensor<1x2x5x9xf16>
// CHECK-NEXT:    %[[SC:.+]] = tfm.scale %[[S]] {factor = 5.000000e-01 : f32} : tensor<1x2x5x9xf16>
// CHECK-NEXT:    %[[M:.+]] = tfm.causal_mask : tensor<5x9xf16>
// CHECK-NEXT:    %[[SM:.+]] = tfm.add %[[SC]], %[[M]] : tensor<1x2x5x9xf16>, tensor<5x9xf16> -> tensor<1x2x5x9xf16>
// CHECK-NEXT:    %[[P:.+]] = tfm.softmax %[[SM]] : tensor<1x2x5x9xf16>
// CHECK-NEXT:    %[[O:.+]] = tfm.matmul %[[P]], %[[V]] : (tensor<1x2x5x9xf16>, tensor<1x2x9x4xf16>) -> tensor<1x2x5x4xf16>
// CHECK-NEXT:    return %[[O]]
func.func @causal(%q: tensor<1x2x5x4xf16>, %k: tensor<1x2x9x4xf16>, %v: tensor<1x2x9x4xf16>) -> tensor<1x2x5x4xf16> {
  %0 = tfm.attention %q, %k, %v {mask = #tfm.mask<causal>, scale = 0.5 : f32} : (tensor<1x2x5x4xf16>, tensor<1x2x9x4xf16>, tensor<1x2x9x4xf16>) -> tensor<1x2x5x4xf16>
  return %0 : tensor<1x2x5x4xf16>
}

// -----

// The padding mask is [B, 1, 1, Sk] and broadcasts over heads and queries.
// CHECK-LABEL: func.func @padding
// CHECK-SAME:    (%[[Q:.+]]: tensor<2x2x5x4xf32>, %[[L:.+]]: tensor<2xi32>)
// CHECK-NEXT:    %[[S:.+]] = tfm.matmul %[[Q]], %[[Q]] {transpose_rhs} : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>) -> tensor<2x2x5x5xf32>
// CHECK-NEXT:    %[[SC:.+]] = tfm.scale %[[S]] {factor = 5.000000e-01 : f32} : tensor<2x2x5x5xf32>
// CHECK-NEXT:    %[[M:.+]] = tfm.padding_mask %[[L]] : tensor<2xi32> -> tensor<2x1x1x5xf32>
// CHECK-NEXT:    %[[SM:.+]] = tfm.add %[[SC]], %[[M]] : tensor<2x2x5x5xf32>, tensor<2x1x1x5xf32> -> tensor<2x2x5x5xf32>
// CHECK-NEXT:    %[[P:.+]] = tfm.softmax %[[SM]] : tensor<2x2x5x5xf32>
// CHECK-NEXT:    %[[O:.+]] = tfm.matmul %[[P]], %[[Q]] : (tensor<2x2x5x5xf32>, tensor<2x2x5x4xf32>) -> tensor<2x2x5x4xf32>
// CHECK-NEXT:    return %[[O]]
func.func @padding(%q: tensor<2x2x5x4xf32>, %l: tensor<2xi32>) -> tensor<2x2x5x4xf32> {
  %0 = tfm.attention %q, %q, %q lengths(%l) {mask = #tfm.mask<padding>, scale = 0.5 : f32} : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2xi32>) -> tensor<2x2x5x4xf32>
  return %0 : tensor<2x2x5x4xf32>
}

// -----

// The bias is added after the mask, as it is given (it broadcasts).
// CHECK-LABEL: func.func @bias
// CHECK-SAME:    (%[[Q:.+]]: tensor<1x2x5x4xf32>, %[[B:.+]]: tensor<2x1x5xf32>)
// CHECK-NEXT:    %[[S:.+]] = tfm.matmul %[[Q]], %[[Q]] {transpose_rhs}
// CHECK-NEXT:    %[[SC:.+]] = tfm.scale %[[S]] {factor = 1.250000e-01 : f32}
// CHECK-NEXT:    %[[SB:.+]] = tfm.add %[[SC]], %[[B]] : tensor<1x2x5x5xf32>, tensor<2x1x5xf32> -> tensor<1x2x5x5xf32>
// CHECK-NEXT:    %[[P:.+]] = tfm.softmax %[[SB]]
// CHECK-NEXT:    %[[O:.+]] = tfm.matmul %[[P]], %[[Q]] :
// CHECK-NEXT:    return %[[O]]
func.func @bias(%q: tensor<1x2x5x4xf32>, %b: tensor<2x1x5xf32>) -> tensor<1x2x5x4xf32> {
  %0 = tfm.attention %q, %q, %q bias(%b) {scale = 0.125 : f32} : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<2x1x5xf32>) -> tensor<1x2x5x4xf32>
  return %0 : tensor<1x2x5x4xf32>
}

// -----

// CHECK-LABEL: func.func @causal_and_bias
// CHECK-SAME:    (%[[Q:.+]]: tensor<1x2x5x4xf32>, %[[B:.+]]: tensor<1x2x5x5xf32>)
// CHECK-NEXT:    %[[S:.+]] = tfm.matmul %[[Q]], %[[Q]] {transpose_rhs}
// CHECK-NEXT:    %[[SC:.+]] = tfm.scale %[[S]]
// CHECK-NEXT:    %[[M:.+]] = tfm.causal_mask : tensor<5x5xf32>
// CHECK-NEXT:    %[[SM:.+]] = tfm.add %[[SC]], %[[M]]
// CHECK-NEXT:    %[[SB:.+]] = tfm.add %[[SM]], %[[B]] : tensor<1x2x5x5xf32>, tensor<1x2x5x5xf32> -> tensor<1x2x5x5xf32>
// CHECK-NEXT:    %[[P:.+]] = tfm.softmax %[[SB]]
// CHECK-NEXT:    %[[O:.+]] = tfm.matmul %[[P]], %[[Q]] :
// CHECK-NEXT:    return %[[O]]
func.func @causal_and_bias(%q: tensor<1x2x5x4xf32>, %b: tensor<1x2x5x5xf32>) -> tensor<1x2x5x4xf32> {
  %0 = tfm.attention %q, %q, %q bias(%b) {mask = #tfm.mask<causal>, scale = 0.5 : f32} : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x5xf32>) -> tensor<1x2x5x4xf32>
  return %0 : tensor<1x2x5x4xf32>
}

// -----

// CHECK-LABEL: func.func @padding_and_bias
// CHECK-SAME:    (%[[Q:.+]]: tensor<2x2x5x4xf32>, %[[L:.+]]: tensor<2xi64>, %[[B:.+]]: tensor<5xf32>)
// CHECK-NEXT:    %[[S:.+]] = tfm.matmul %[[Q]], %[[Q]] {transpose_rhs}
// CHECK-NEXT:    %[[SC:.+]] = tfm.scale %[[S]]
// CHECK-NEXT:    %[[M:.+]] = tfm.padding_mask %[[L]] : tensor<2xi64> -> tensor<2x1x1x5xf32>
// CHECK-NEXT:    %[[SM:.+]] = tfm.add %[[SC]], %[[M]]
// CHECK-NEXT:    %[[SB:.+]] = tfm.add %[[SM]], %[[B]] : tensor<2x2x5x5xf32>, tensor<5xf32> -> tensor<2x2x5x5xf32>
// CHECK-NEXT:    %[[P:.+]] = tfm.softmax %[[SB]]
// CHECK-NEXT:    %[[O:.+]] = tfm.matmul %[[P]], %[[Q]] :
// CHECK-NEXT:    return %[[O]]
func.func @padding_and_bias(%q: tensor<2x2x5x4xf32>, %l: tensor<2xi64>, %b: tensor<5xf32>) -> tensor<2x2x5x4xf32> {
  %0 = tfm.attention %q, %q, %q lengths(%l) bias(%b) {mask = #tfm.mask<padding>, scale = 0.5 : f32} : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2xi64>, tensor<5xf32>) -> tensor<2x2x5x4xf32>
  return %0 : tensor<2x2x5x4xf32>
}

// -----

// Two attentions in one function are both expanded, each in place.
// CHECK-LABEL: func.func @two
// CHECK-NOT:     tfm.attention
// CHECK:         tfm.matmul
// CHECK:         %[[FIRST:.+]] = tfm.matmul
// CHECK:         tfm.causal_mask
// CHECK:         %[[SECOND:.+]] = tfm.matmul
// CHECK:         tfm.add %[[FIRST]], %[[SECOND]]
// CHECK-NOT:     tfm.attention
func.func @two(%q: tensor<1x1x3x2xf32>) -> tensor<1x1x3x2xf32> {
  %0 = tfm.attention %q, %q, %q {scale = 1.0 : f32} : (tensor<1x1x3x2xf32>, tensor<1x1x3x2xf32>, tensor<1x1x3x2xf32>) -> tensor<1x1x3x2xf32>
  %1 = tfm.attention %q, %q, %q {mask = #tfm.mask<causal>, scale = 1.0 : f32} : (tensor<1x1x3x2xf32>, tensor<1x1x3x2xf32>, tensor<1x1x3x2xf32>) -> tensor<1x1x3x2xf32>
  %2 = tfm.add %0, %1 : tensor<1x1x3x2xf32>, tensor<1x1x3x2xf32> -> tensor<1x1x3x2xf32>
  return %2 : tensor<1x1x3x2xf32>
}

// -----

// Without tfm.attention the pass changes nothing, not even the hand-written
// decomposed form.
// CHECK-LABEL: func.func @without_attention
// CHECK-SAME:    (%[[Q:.+]]: tensor<1x2x5x4xf32>)
// CHECK-NEXT:    %[[S:.+]] = tfm.matmul %[[Q]], %[[Q]] {transpose_rhs}
// CHECK-NEXT:    %[[P:.+]] = tfm.softmax %[[S]] {axis = -2 : i64}
// CHECK-NEXT:    %[[O:.+]] = tfm.matmul %[[P]], %[[Q]] :
// CHECK-NEXT:    return %[[O]]
func.func @without_attention(%q: tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32> {
  %0 = tfm.matmul %q, %q {transpose_rhs} : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x5xf32>
  %1 = tfm.softmax %0 {axis = -2} : tensor<1x2x5x5xf32>
  %2 = tfm.matmul %1, %q : (tensor<1x2x5x5xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  return %2 : tensor<1x2x5x4xf32>
}
