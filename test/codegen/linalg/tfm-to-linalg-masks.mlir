// RUN: kiln-opt %s --split-input-file --convert-tfm-to-linalg | FileCheck %s

// Additive masks are generics computed from their iteration indices: 0 where
// a key is visible, the lowest finite value of the element type elsewhere.

// Query i sees key j when j <= i + (Sk - Sq); here Sk - Sq = 5 - 3 = 2.
// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @causal_mask
// CHECK:         %[[EMPTY:.+]] = tensor.empty() : tensor<3x5xf32>
// CHECK:         %[[M:.+]] = linalg.generic {indexing_maps = [#[[ID]]], iterator_types = ["parallel", "parallel"]} outs(%[[EMPTY]] : tensor<3x5xf32>)
// CHECK-NEXT:    ^bb0(%{{.+}}: f32):
// CHECK-NEXT:      %[[I:.+]] = linalg.index 0 : index
// CHECK-NEXT:      %[[J:.+]] = linalg.index 1 : index
// CHECK-NEXT:      %[[OFF:.+]] = arith.constant 2 : index
// CHECK-NEXT:      %[[LIMIT:.+]] = arith.addi %[[I]], %[[OFF]] : index
// CHECK-NEXT:      %[[VISIBLE:.+]] = arith.cmpi sle, %[[J]], %[[LIMIT]] : index
// CHECK-NEXT:      %[[LOWEST:.+]] = arith.constant -3.40282347E+38 : f32
// CHECK-NEXT:      %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:      %[[V:.+]] = arith.select %[[VISIBLE]], %[[ZERO]], %[[LOWEST]] : f32
// CHECK-NEXT:      linalg.yield %[[V]] : f32
// CHECK:         return %[[M]]
func.func @causal_mask() -> tensor<3x5xf32> {
  %0 = tfm.causal_mask : tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

// A square mask has offset 0; f16 uses its own lowest finite value.
// CHECK-LABEL: func.func @causal_mask_square_f16
// CHECK:         linalg.generic
// CHECK:           %[[OFF:.+]] = arith.constant 0 : index
// CHECK:           arith.cmpi sle
// CHECK:           arith.constant -6.550400e+04 : f16
// CHECK:           arith.select
func.func @causal_mask_square_f16() -> tensor<4x4xf16> {
  %0 = tfm.causal_mask : tensor<4x4xf16>
  return %0 : tensor<4x4xf16>
}

// -----

// Key j of batch b is visible when j < lengths[b]; lengths is read through a
// map on the batch axis, the key index is cast to the lengths' type.
// CHECK-DAG:   #[[LEN:.+]] = affine_map<(d0, d1, d2, d3) -> (d0)>
// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @padding_mask
// CHECK-SAME:    (%[[L:.+]]: tensor<2xi64>)
// CHECK:         %[[EMPTY:.+]] = tensor.empty() : tensor<2x1x1x7xf32>
// CHECK:         %[[M:.+]] = linalg.generic {indexing_maps = [#[[LEN]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[L]] : tensor<2xi64>) outs(%[[EMPTY]] : tensor<2x1x1x7xf32>)
// CHECK-NEXT:    ^bb0(%[[LENGTH:.+]]: i64, %{{.+}}: f32):
// CHECK:           %[[J:.+]] = linalg.index 3 : index
// CHECK-NEXT:      %[[J64:.+]] = arith.index_cast %[[J]] : index to i64
// CHECK-NEXT:      %[[VISIBLE:.+]] = arith.cmpi slt, %[[J64]], %[[LENGTH]] : i64
// CHECK-NEXT:      %[[LOWEST:.+]] = arith.constant -3.40282347E+38 : f32
// CHECK-NEXT:      %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:      %[[V:.+]] = arith.select %[[VISIBLE]], %[[ZERO]], %[[LOWEST]] : f32
// CHECK-NEXT:      linalg.yield %[[V]] : f32
// CHECK:         return %[[M]]
func.func @padding_mask(%l: tensor<2xi64>) -> tensor<2x1x1x7xf32> {
  %0 = tfm.padding_mask %l : tensor<2xi64> -> tensor<2x1x1x7xf32>
  return %0 : tensor<2x1x1x7xf32>
}

// -----

// CHECK-DAG:   #[[LEN:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @padding_mask_i32
// CHECK:         linalg.generic {indexing_maps = [#[[LEN]], #{{.+}}], {{.+}} ins(%{{.+}} : tensor<2xi32>) outs(%{{.+}} : tensor<2x7xbf16>)
// CHECK:           %[[J:.+]] = linalg.index 1 : index
// CHECK-NEXT:      %[[J32:.+]] = arith.index_cast %[[J]] : index to i32
// CHECK-NEXT:      arith.cmpi slt, %[[J32]], %{{.+}} : i32
// CHECK:           arith.select {{.+}} : bf16
func.func @padding_mask_i32(%l: tensor<2xi32>) -> tensor<2x7xbf16> {
  %0 = tfm.padding_mask %l : tensor<2xi32> -> tensor<2x7xbf16>
  return %0 : tensor<2x7xbf16>
}
