// RUN: kiln-opt %s --split-input-file --convert-tfm-to-linalg | FileCheck %s

// Binary ops: one parallel generic over the result shape. Broadcasting lives
// in the input maps (missing leading axes are dropped, stretched size-1 axes
// read index 0); nothing is copied.

// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG:   #[[LAST:.+]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-LABEL: func.func @add_trailing
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5x8xf32>, %[[V:.+]]: tensor<8xf32>)
// CHECK:         %[[EMPTY:.+]] = tensor.empty() : tensor<2x5x8xf32>
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[LAST]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %[[V]] : tensor<2x5x8xf32>, tensor<8xf32>) outs(%[[EMPTY]] : tensor<2x5x8xf32>)
// CHECK-NEXT:    ^bb0(%[[A:.+]]: f32, %[[B:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT:      %[[R:.+]] = arith.addf %[[A]], %[[B]] : f32
// CHECK-NEXT:      linalg.yield %[[R]] : f32
// CHECK:         return %[[Y]]
func.func @add_trailing(%x: tensor<2x5x8xf32>, %v: tensor<8xf32>) -> tensor<2x5x8xf32> {
  %0 = tfm.add %x, %v : tensor<2x5x8xf32>, tensor<8xf32> -> tensor<2x5x8xf32>
  return %0 : tensor<2x5x8xf32>
}

// -----

// Both sides stretch: [2, 1, 8] · [5, 1] -> [2, 5, 8].
// CHECK-DAG:   #[[LHS:.+]] = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
// CHECK-DAG:   #[[RHS:.+]] = affine_map<(d0, d1, d2) -> (d1, 0)>
// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @mul_both_stretch
// CHECK:         linalg.generic {indexing_maps = [#[[LHS]], #[[RHS]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%{{.+}}, %{{.+}} : tensor<2x1x8xf32>, tensor<5x1xf32>) outs(%{{.+}} : tensor<2x5x8xf32>)
// CHECK:           arith.mulf
func.func @mul_both_stretch(%a: tensor<2x1x8xf32>, %b: tensor<5x1xf32>) -> tensor<2x5x8xf32> {
  %0 = tfm.mul %a, %b : tensor<2x1x8xf32>, tensor<5x1xf32> -> tensor<2x5x8xf32>
  return %0 : tensor<2x5x8xf32>
}

// -----

// A rank-0 operand has an empty map; operand order is kept for sub and div.
// CHECK-DAG:   #[[SCALAR:.+]] = affine_map<(d0) -> ()>
// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0) -> (d0)>
// CHECK-LABEL: func.func @float_scalar
// CHECK-SAME:    (%[[A:.+]]: tensor<4xf16>, %[[S:.+]]: tensor<f16>)
// CHECK:         linalg.generic {indexing_maps = [#[[SCALAR]], #[[ID]], #[[ID]]], {{.+}} ins(%[[S]], %[[A]] : tensor<f16>, tensor<4xf16>)
// CHECK-NEXT:    ^bb0(%[[L:.+]]: f16, %[[R:.+]]: f16, %{{.+}}: f16):
// CHECK-NEXT:      arith.subf %[[L]], %[[R]] : f16
// CHECK:         linalg.generic {indexing_maps = [#[[ID]], #[[SCALAR]], #[[ID]]], {{.+}} ins(%[[A]], %[[S]] : tensor<4xf16>, tensor<f16>)
// CHECK-NEXT:    ^bb0(%[[L:.+]]: f16, %[[R:.+]]: f16, %{{.+}}: f16):
// CHECK-NEXT:      arith.divf %[[L]], %[[R]] : f16
func.func @float_scalar(%a: tensor<4xf16>, %s: tensor<f16>) -> (tensor<4xf16>, tensor<4xf16>) {
  %0 = tfm.sub %s, %a : tensor<f16>, tensor<4xf16> -> tensor<4xf16>
  %1 = tfm.div %a, %s : tensor<4xf16>, tensor<f16> -> tensor<4xf16>
  return %0, %1 : tensor<4xf16>, tensor<4xf16>
}

// -----

// Integer operands use the integer arith ops; division is signed.
// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0) -> (d0)>
// CHECK-DAG:   #[[ZERO:.+]] = affine_map<(d0) -> (0)>
// CHECK-LABEL: func.func @integers
// CHECK:         linalg.generic {indexing_maps = [#[[ID]], #[[ZERO]], #[[ID]]], {{.+}} ins(%{{.+}}, %{{.+}} : tensor<4xi64>, tensor<1xi64>)
// CHECK:           arith.addi %{{.+}}, %{{.+}} : i64
// CHECK:         linalg.generic
// CHECK:           arith.subi %{{.+}}, %{{.+}} : i64
// CHECK:         linalg.generic
// CHECK:           arith.muli %{{.+}}, %{{.+}} : i32
// CHECK:         linalg.generic
// CHECK:           arith.divsi %{{.+}}, %{{.+}} : i32
// CHECK-NOT:     arith.addf
// CHECK-NOT:     arith.divf
func.func @integers(%a: tensor<4xi64>, %b: tensor<1xi64>, %c: tensor<4xi32>) -> (tensor<4xi64>, tensor<4xi64>, tensor<4xi32>, tensor<4xi32>) {
  %0 = tfm.add %a, %b : tensor<4xi64>, tensor<1xi64> -> tensor<4xi64>
  %1 = tfm.sub %a, %b : tensor<4xi64>, tensor<1xi64> -> tensor<4xi64>
  %2 = tfm.mul %c, %c : tensor<4xi32>, tensor<4xi32> -> tensor<4xi32>
  %3 = tfm.div %c, %c : tensor<4xi32>, tensor<4xi32> -> tensor<4xi32>
  return %0, %1, %2, %3 : tensor<4xi64>, tensor<4xi64>, tensor<4xi32>, tensor<4xi32>
}

// -----

// A size-1 axis that stays size 1 in the result is read normally.
// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG:   #[[ROW:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @unit_result_axis
// CHECK:         linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], {{.+}} ins(%{{.+}}, %{{.+}} : tensor<1x3xf32>, tensor<3xf32>) outs(%{{.+}} : tensor<1x3xf32>)
func.func @unit_result_axis(%a: tensor<1x3xf32>, %b: tensor<3xf32>) -> tensor<1x3xf32> {
  %0 = tfm.add %a, %b : tensor<1x3xf32>, tensor<3xf32> -> tensor<1x3xf32>
  return %0 : tensor<1x3xf32>
}
