// RUN: kiln-opt %s --split-input-file | kiln-opt --split-input-file | FileCheck %s

// Shape ops: tfm.reshape, tfm.transpose, tfm.slice, tfm.concat, tfm.gather
// and tfm.embedding.

// CHECK-LABEL: func.func @reshape
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5x8xf32>, %[[S:.+]]: tensor<1xi64>)
// CHECK:         %[[H:.+]] = tfm.reshape %[[X]] : tensor<2x5x8xf32> -> tensor<2x5x2x4xf32>
// CHECK:         tfm.reshape %[[H]] : tensor<2x5x2x4xf32> -> tensor<80xf32>
// CHECK:         tfm.reshape %[[S]] : tensor<1xi64> -> tensor<i64>
func.func @reshape(%x: tensor<2x5x8xf32>, %s: tensor<1xi64>) -> (tensor<80xf32>, tensor<i64>) {
  %0 = tfm.reshape %x : tensor<2x5x8xf32> -> tensor<2x5x2x4xf32>
  %1 = tfm.reshape %0 : tensor<2x5x2x4xf32> -> tensor<80xf32>
  %2 = tfm.reshape %s : tensor<1xi64> -> tensor<i64>
  return %1, %2 : tensor<80xf32>, tensor<i64>
}

// -----

// CHECK-LABEL: func.func @transpose
// CHECK:         tfm.transpose %{{.+}} [0, 2, 1, 3] : tensor<2x5x2x4xf32> -> tensor<2x2x5x4xf32>
// CHECK:         tfm.transpose %{{.+}} [1, 0] : tensor<3x4xi1> -> tensor<4x3xi1>
func.func @transpose(%x: tensor<2x5x2x4xf32>, %m: tensor<3x4xi1>) -> (tensor<2x2x5x4xf32>, tensor<4x3xi1>) {
  %0 = tfm.transpose %x [0, 2, 1, 3] : tensor<2x5x2x4xf32> -> tensor<2x2x5x4xf32>
  %1 = tfm.transpose %m [1, 0] : tensor<3x4xi1> -> tensor<4x3xi1>
  return %0, %1 : tensor<2x2x5x4xf32>, tensor<4x3xi1>
}

// -----

// CHECK-LABEL: func.func @slice
// CHECK:         tfm.slice %{{.+}} offsets = [0, 2, 0] strides = [1, 1, 1] : tensor<2x7x8xf32> -> tensor<2x5x8xf32>
// CHECK:         tfm.slice %{{.+}} offsets = [1, 0, 3] strides = [1, 2, 4] : tensor<2x7x8xf32> -> tensor<1x4x2xf32>
func.func @slice(%x: tensor<2x7x8xf32>) -> (tensor<2x5x8xf32>, tensor<1x4x2xf32>) {
  %0 = tfm.slice %x offsets = [0, 2, 0] strides = [1, 1, 1] : tensor<2x7x8xf32> -> tensor<2x5x8xf32>
  %1 = tfm.slice %x offsets = [1, 0, 3] strides = [1, 2, 4] : tensor<2x7x8xf32> -> tensor<1x4x2xf32>
  return %0, %1 : tensor<2x5x8xf32>, tensor<1x4x2xf32>
}

// -----

// CHECK-LABEL: func.func @concat
// CHECK-SAME:    (%[[A:.+]]: tensor<2x3x8xf32>, %[[B:.+]]: tensor<2x4x8xf32>)
// CHECK:         tfm.concat %[[A]], %[[B]] {axis = 1 : i64} : (tensor<2x3x8xf32>, tensor<2x4x8xf32>) -> tensor<2x7x8xf32>
// CHECK:         tfm.concat %[[A]], %[[A]], %[[A]] {axis = -1 : i64} : (tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x24xf32>
// CHECK:         tfm.concat %[[A]] {axis = 0 : i64} : (tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
func.func @concat(%a: tensor<2x3x8xf32>, %b: tensor<2x4x8xf32>) -> (tensor<2x7x8xf32>, tensor<2x3x24xf32>, tensor<2x3x8xf32>) {
  %0 = tfm.concat %a, %b {axis = 1} : (tensor<2x3x8xf32>, tensor<2x4x8xf32>) -> tensor<2x7x8xf32>
  %1 = tfm.concat %a, %a, %a {axis = -1} : (tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x24xf32>
  %2 = tfm.concat %a {axis = 0} : (tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  return %0, %1, %2 : tensor<2x7x8xf32>, tensor<2x3x24xf32>, tensor<2x3x8xf32>
}

// -----

// The indices replace the gathered axis: input[a..., indices[i...], b...].
// CHECK-LABEL: func.func @gather
// CHECK-SAME:    (%[[X:.+]]: tensor<4x10x8xf32>, %[[I:.+]]: tensor<2x3xi64>, %[[J:.+]]: tensor<i32>)
// CHECK:         tfm.gather %[[X]][%[[I]]] {axis = 1 : i64} : (tensor<4x10x8xf32>, tensor<2x3xi64>) -> tensor<4x2x3x8xf32>
// CHECK:         tfm.gather %[[X]][%[[J]]] {axis = -1 : i64} : (tensor<4x10x8xf32>, tensor<i32>) -> tensor<4x10xf32>
func.func @gather(%x: tensor<4x10x8xf32>, %i: tensor<2x3xi64>, %j: tensor<i32>) -> (tensor<4x2x3x8xf32>, tensor<4x10xf32>) {
  %0 = tfm.gather %x[%i] {axis = 1} : (tensor<4x10x8xf32>, tensor<2x3xi64>) -> tensor<4x2x3x8xf32>
  %1 = tfm.gather %x[%j] {axis = -1} : (tensor<4x10x8xf32>, tensor<i32>) -> tensor<4x10xf32>
  return %0, %1 : tensor<4x2x3x8xf32>, tensor<4x10xf32>
}

// -----

// CHECK-LABEL: func.func @embedding
// CHECK-SAME:    (%[[T:.+]]: tensor<50x16xf32>, %[[IDS:.+]]: tensor<2x7xi64>, %[[ONE:.+]]: tensor<3xi32>)
// CHECK:         tfm.embedding %[[T]][%[[IDS]]] : (tensor<50x16xf32>, tensor<2x7xi64>) -> tensor<2x7x16xf32>
// CHECK:         tfm.embedding %[[T]][%[[ONE]]] : (tensor<50x16xf32>, tensor<3xi32>) -> tensor<3x16xf32>
func.func @embedding(%t: tensor<50x16xf32>, %ids: tensor<2x7xi64>, %one: tensor<3xi32>) -> (tensor<2x7x16xf32>, tensor<3x16xf32>) {
  %0 = tfm.embedding %t[%ids] : (tensor<50x16xf32>, tensor<2x7xi64>) -> tensor<2x7x16xf32>
  %1 = tfm.embedding %t[%one] : (tensor<50x16xf32>, tensor<3xi32>) -> tensor<3x16xf32>
  return %0, %1 : tensor<2x7x16xf32>, tensor<3x16xf32>
}
