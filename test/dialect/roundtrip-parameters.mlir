// RUN: kiln-opt %s --split-input-file | kiln-opt --split-input-file | FileCheck %s

// Parameters: checkpoint tensors named by `tfm.weight`, literals by
// `tfm.constant`. Each case is printed, parsed again and printed again.

// CHECK-LABEL: func.func @weight
// CHECK:         %[[W:.+]] = tfm.weight "h.0.attn.c_attn.weight" : tensor<64x192xf32>
// CHECK:         return %[[W]] : tensor<64x192xf32>
func.func @weight() -> tensor<64x192xf32> {
  %w = tfm.weight "h.0.attn.c_attn.weight" : tensor<64x192xf32>
  return %w : tensor<64x192xf32>
}

// -----

// Every element type of Tfm_AnyTensor, including a rank-0 tensor.
// CHECK-LABEL: func.func @weight_element_types
// CHECK:         tfm.weight "a" : tensor<4xbf16>
// CHECK:         tfm.weight "b" : tensor<f16>
// CHECK:         tfm.weight "c" : tensor<2x3xf64>
// CHECK:         tfm.weight "d" : tensor<2x3xi64>
// CHECK:         tfm.weight "e" : tensor<2xi32>
// CHECK:         tfm.weight "f" : tensor<3xi1>
func.func @weight_element_types() -> (tensor<4xbf16>, tensor<f16>, tensor<2x3xf64>, tensor<2x3xi64>, tensor<2xi32>, tensor<3xi1>) {
  %a = tfm.weight "a" : tensor<4xbf16>
  %b = tfm.weight "b" : tensor<f16>
  %c = tfm.weight "c" : tensor<2x3xf64>
  %d = tfm.weight "d" : tensor<2x3xi64>
  %e = tfm.weight "e" : tensor<2xi32>
  %f = tfm.weight "f" : tensor<3xi1>
  return %a, %b, %c, %d, %e, %f : tensor<4xbf16>, tensor<f16>, tensor<2x3xf64>, tensor<2x3xi64>, tensor<2xi32>, tensor<3xi1>
}

// -----

// Discardable attributes survive in the attribute dictionary.
// CHECK-LABEL: func.func @weight_with_attr
// CHECK:         tfm.weight "wte.weight" {kiln.tied = "lm_head.weight"} : tensor<10x4xf32>
func.func @weight_with_attr() -> tensor<10x4xf32> {
  %w = tfm.weight "wte.weight" {kiln.tied = "lm_head.weight"} : tensor<10x4xf32>
  return %w : tensor<10x4xf32>
}

// -----

// CHECK-LABEL: func.func @constant
// CHECK:         tfm.constant dense<[0, 1, 2]> : tensor<3xi64>
// CHECK:         tfm.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
// CHECK:         tfm.constant dense<5.000000e-01> : tensor<4xbf16>
// CHECK:         tfm.constant dense<7> : tensor<i32>
// CHECK:         tfm.constant dense<[true, false]> : tensor<2xi1>
func.func @constant() -> (tensor<3xi64>, tensor<2x2xf32>, tensor<4xbf16>, tensor<i32>, tensor<2xi1>) {
  %a = tfm.constant dense<[0, 1, 2]> : tensor<3xi64>
  %b = tfm.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %c = tfm.constant dense<0.5> : tensor<4xbf16>
  %d = tfm.constant dense<7> : tensor<i32>
  %e = tfm.constant dense<[true, false]> : tensor<2xi1>
  return %a, %b, %c, %d, %e : tensor<3xi64>, tensor<2x2xf32>, tensor<4xbf16>, tensor<i32>, tensor<2xi1>
}

// -----

// The attribute dictionary comes before the value.
// CHECK-LABEL: func.func @constant_with_attr
// CHECK:         tfm.constant {kiln.note = "positions"} dense<[0, 1]> : tensor<2xi64>
func.func @constant_with_attr() -> tensor<2xi64> {
  %c = tfm.constant {kiln.note = "positions"} dense<[0, 1]> : tensor<2xi64>
  return %c : tensor<2xi64>
}
