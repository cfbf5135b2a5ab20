// RUN: kiln-opt %s --split-input-file | kiln-opt --split-input-file | FileCheck %s

// Attention parts: tfm.causal_mask, tfm.padding_mask and tfm.attention.

// Sq = Sk for a full forward pass, Sq < Sk when decoding against a cache.
// CHECK-LABEL: func.func @causal_mask
// CHECK:         tfm.causal_mask : tensor<7x7xf32>
// CHECK:         tfm.causal_mask : tensor<1x9xf16>
func.func @causal_mask() -> (tensor<7x7xf32>, tensor<1x9xf16>) {
  %0 = tfm.causal_mask : tensor<7x7xf32>
  %1 = tfm.causal_mask : tensor<1x9xf16>
  return %0, %1 : tensor<7x7xf32>, tensor<1x9xf16>
}

// -----

// The unit middle axes are optional: [B, Sk], [B, 1, Sk], [B, 1, 1, Sk].
// CHECK-LABEL: func.func @padding_mask
// CHECK-SAME:    (%[[L:.+]]: tensor<2xi64>, %[[L32:.+]]: tensor<2xi32>)
// CHECK:         tfm.padding_mask %[[L]] : tensor<2xi64> -> tensor<2x1x1x7xf32>
// CHECK:         tfm.padding_mask %[[L32]] : tensor<2xi32> -> tensor<2x7xf32>
// CHECK:         tfm.padding_mask %[[L]] : tensor<2xi64> -> tensor<2x1x7xbf16>
func.func @padding_mask(%l: tensor<2xi64>, %l32: tensor<2xi32>) -> (tensor<2x1x1x7xf32>, tensor<2x7xf32>, tensor<2x1x7xbf16>) {
  %0 = tfm.padding_mask %l : tensor<2xi64> -> tensor<2x1x1x7xf32>
  %1 = tfm.padding_mask %l32 : tensor<2xi32> -> tensor<2x7xf32>
  %2 = tfm.padding_mask %l : tensor<2xi64> -> tensor<2x1x7xbf16>
  return %0, %1, %2 : tensor<2x1x1x7xf32>, tensor<2x7xf32>, tensor<2x1x7xbf16>
}

// -----

// mask = none is the default and is not printed.
// CHECK-LABEL: func.func @attention_no_mask
// CHECK-SAME:    (%[[Q:.+]]: tensor<2x4x7x16xf32>, %[[K:.+]]: tensor<2x4x9x16xf32>, %[[V:.+]]: tensor<2x4x9x8xf32>)
// CHECK:         tfm.attention %[[Q]], %[[K]], %[[V]] {scale = 2.500000e-01 : f32} : (tensor<2x4x7x16xf32>, tensor<2x4x9x16xf32>, tensor<2x4x9x8xf32>) -> tensor<2x4x7x8xf32>
// CHECK:         tfm.attention %[[Q]], %[[K]], %[[V]] {scale = 1.000000e+00 : f32} : (tensor<2x4x7x16xf32>, tensor<2x4x9x16xf32>, tensor<2x4x9x8xf32>) -> tensor<2x4x7x8xf32>
func.func @attention_no_mask(%q: tensor<2x4x7x16xf32>, %k: tensor<2x4x9x16xf32>, %v: tensor<2x4x9x8xf32>) -> (tensor<2x4x7x8xf32>, tensor<2x4x7x8xf32>) {
  %0 = tfm.attention %q, %k, %v {scale = 0.25 : f32} : (tensor<2x4x7x16xf32>, tensor<2x4x9x16xf32>, tensor<2x4x9x8xf32>) -> tensor<2x4x7x8xf32>
  %1 = tfm.attention %q, %k, %v {mask = #tfm.mask<none>, scale = 1.0 : f32} : (tensor<2x4x7x16xf32>, tensor<2x4x9x16xf32>, tensor<2x4x9x8xf32>) -> tensor<2x4x7x8xf32>
  return %0, %1 : tensor<2x4x7x8xf32>, tensor<2x4x7x8xf32>
}

// -----

// CHECK-LABEL: func.func @attention_causal
// CHECK:         tfm.attention %{{.+}}, %{{.+}}, %{{.+}} {mask = #tfm.mask<causal>, scale = 2.500000e-01 : f32} : (tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>) -> tensor<1x2x5x16xf32>
func.func @attention_causal(%q: tensor<1x2x5x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>) -> tensor<1x2x5x16xf32> {
  %0 = tfm.attention %q, %k, %v {mask = #tfm.mask<causal>, scale = 0.25 : f32} : (tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>) -> tensor<1x2x5x16xf32>
  return %0 : tensor<1x2x5x16xf32>
}

// -----

// CHECK-LABEL: func.func @attention_padding
// CHECK-SAME:    (%[[Q:.+]]: tensor<2x2x5x4xf32>, %[[L:.+]]: tensor<2xi64>)
// CHECK:         tfm.attention %[[Q]], %[[Q]], %[[Q]] lengths(%[[L]]) {mask = #tfm.mask<padding>, scale = 5.000000e-01 : f32} : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2xi64>) -> tensor<2x2x5x4xf32>
func.func @attention_padding(%q: tensor<2x2x5x4xf32>, %len: tensor<2xi64>) -> tensor<2x2x5x4xf32> {
  %0 = tfm.attention %q, %q, %q lengths(%len) {mask = #tfm.mask<padding>, scale = 0.5 : f32} : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2xi64>) -> tensor<2x2x5x4xf32>
  return %0 : tensor<2x2x5x4xf32>
}

// -----

// A bias that broadcasts onto the scores [B, H, Sq, Sk], alone and together
// with lengths.
// CHECK-LABEL: func.func @attention_bias
// CHECK-SAME:    (%[[Q:.+]]: tensor<2x2x5x4xf32>, %[[L:.+]]: tensor<2xi32>, %[[B:.+]]: tensor<2x5x5xf32>)
// CHECK:         tfm.attention %[[Q]], %[[Q]], %[[Q]] bias(%[[B]]) {scale = 5.000000e-01 : f32} : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x5x5xf32>) -> tensor<2x2x5x4xf32>
// CHECK:         tfm.attention %[[Q]], %[[Q]], %[[Q]] bias(%[[B]]) {mask = #tfm.mask<causal>, scale = 5.000000e-01 : f32}
// CHECK:         tfm.attention %[[Q]], %[[Q]], %[[Q]] lengths(%[[L]]) bias(%[[B]]) {mask = #tfm.mask<padding>, scale = 5.000000e-01 : f32} : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2xi32>, tensor<2x5x5xf32>) -> tensor<2x2x5x4xf32>
func.func @attention_bias(%q: tensor<2x2x5x4xf32>, %len: tensor<2xi32>, %bias: tensor<2x5x5xf32>) -> (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>) {
  %0 = tfm.attention %q, %q, %q bias(%bias) {scale = 0.5 : f32} : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x5x5xf32>) -> tensor<2x2x5x4xf32>
  %1 = tfm.attention %q, %q, %q bias(%bias) {mask = #tfm.mask<causal>, scale = 0.5 : f32} : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x5x5xf32>) -> tensor<2x2x5x4xf32>
  %2 = tfm.attention %q, %q, %q lengths(%len) bias(%bias) {mask = #tfm.mask<padding>, scale = 0.5 : f32} : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2xi32>, tensor<2x5x5xf32>) -> tensor<2x2x5x4xf32>
  return %0, %1, %2 : tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>
}
