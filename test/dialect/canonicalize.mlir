// RUN: kiln-opt %s --split-input-file --canonicalize | FileCheck %s

// Folders of the tfm ops, each next to a case that must not fold.

// Scaling by 1 is the identity.
// CHECK-LABEL: func.func @scale_by_one
// CHECK-SAME:    (%[[X:.+]]: tensor<2x3xf32>)
// CHECK-NOT:     tfm.scale
// CHECK:         return %[[X]]
func.func @scale_by_one(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = tfm.scale %x {factor = 1.0 : f32} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @scale_by_other
// CHECK-SAME:    (%[[X:.+]]: tensor<2x3xf32>)
// CHECK:         %[[S:.+]] = tfm.scale %[[X]] {factor = 1.250000e-01 : f32}
// CHECK:         %[[N:.+]] = tfm.scale %[[X]] {factor = -1.000000e+00 : f32}
// CHECK:         return %[[S]], %[[N]]
func.func @scale_by_other(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %0 = tfm.scale %x {factor = 0.125 : f32} : tensor<2x3xf32>
  %1 = tfm.scale %x {factor = -1.0 : f32} : tensor<2x3xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @identity_transpose
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5x8xf32>, %[[S:.+]]: tensor<f32>)
// CHECK-NOT:     tfm.transpose
// CHECK:         return %[[X]], %[[S]]
func.func @identity_transpose(%x: tensor<2x5x8xf32>, %s: tensor<f32>) -> (tensor<2x5x8xf32>, tensor<f32>) {
  %0 = tfm.transpose %x [0, 1, 2] : tensor<2x5x8xf32> -> tensor<2x5x8xf32>
  %1 = tfm.transpose %s [] : tensor<f32> -> tensor<f32>
  return %0, %1 : tensor<2x5x8xf32>, tensor<f32>
}

// -----

// A transpose of a square matrix keeps the type but moves elements: it
// must stay.
// CHECK-LABEL: func.func @non_identity_transpose
// CHECK-SAME:    (%[[X:.+]]: tensor<3x3xf32>)
// CHECK:         %[[T:.+]] = tfm.transpose %[[X]] [1, 0] : tensor<3x3xf32> -> tensor<3x3xf32>
// CHECK:         return %[[T]]
func.func @non_identity_transpose(%x: tensor<3x3xf32>) -> tensor<3x3xf32> {
  %0 = tfm.transpose %x [1, 0] : tensor<3x3xf32> -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_same_type
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5x8xf32>)
// CHECK-NOT:     tfm.reshape
// CHECK:         return %[[X]]
func.func @reshape_same_type(%x: tensor<2x5x8xf32>) -> tensor<2x5x8xf32> {
  %0 = tfm.reshape %x : tensor<2x5x8xf32> -> tensor<2x5x8xf32>
  return %0 : tensor<2x5x8xf32>
}

// -----

// reshape(reshape(x)) reads x directly; the inner reshape dies.
// CHECK-LABEL: func.func @reshape_of_reshape
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5x8xf32>)
// CHECK-NEXT:    %[[R:.+]] = tfm.reshape %[[X]] : tensor<2x5x8xf32> -> tensor<80xf32>
// CHECK-NEXT:    return %[[R]]
func.func @reshape_of_reshape(%x: tensor<2x5x8xf32>) -> tensor<80xf32> {
  %0 = tfm.reshape %x : tensor<2x5x8xf32> -> tensor<2x5x2x4xf32>
  %1 = tfm.reshape %0 : tensor<2x5x2x4xf32> -> tensor<80xf32>
  return %1 : tensor<80xf32>
}

// -----

// A chain that comes back to the input type disappears completely.
// CHECK-LABEL: func.func @reshape_round_trip
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5x8xf32>)
// CHECK-NOT:     tfm.reshape
// CHECK:         return %[[X]]
func.func @reshape_round_trip(%x: tensor<2x5x8xf32>) -> tensor<2x5x8xf32> {
  %0 = tfm.reshape %x : tensor<2x5x8xf32> -> tensor<10x8xf32>
  %1 = tfm.reshape %0 : tensor<10x8xf32> -> tensor<80xf32>
  %2 = tfm.reshape %1 : tensor<80xf32> -> tensor<2x5x8xf32>
  return %2 : tensor<2x5x8xf32>
}

// -----

// An inner reshape with another user stays for that user.
// CHECK-LABEL: func.func @reshape_of_shared_reshape
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5x8xf32>)
// CHECK-DAG:     %[[A:.+]] = tfm.reshape %[[X]] : tensor<2x5x8xf32> -> tensor<10x8xf32>
// CHECK-DAG:     %[[B:.+]] = tfm.reshape %[[X]] : tensor<2x5x8xf32> -> tensor<80xf32>
// CHECK:         return %[[A]], %[[B]]
func.func @reshape_of_shared_reshape(%x: tensor<2x5x8xf32>) -> (tensor<10x8xf32>, tensor<80xf32>) {
  %0 = tfm.reshape %x : tensor<2x5x8xf32> -> tensor<10x8xf32>
  %1 = tfm.reshape %0 : tensor<10x8xf32> -> tensor<80xf32>
  return %0, %1 : tensor<10x8xf32>, tensor<80xf32>
}

// -----

// A reshape of something else is left alone.
// CHECK-LABEL: func.func @reshape_of_transpose
// CHECK:         %[[T:.+]] = tfm.transpose
// CHECK:         %[[R:.+]] = tfm.reshape %[[T]] : tensor<8x5xf32> -> tensor<40xf32>
// CHECK:         return %[[R]]
func.func @reshape_of_transpose(%x: tensor<5x8xf32>) -> tensor<40xf32> {
  %0 = tfm.transpose %x [1, 0] : tensor<5x8xf32> -> tensor<8x5xf32>
  %1 = tfm.reshape %0 : tensor<8x5xf32> -> tensor<40xf32>
  return %1 : tensor<40xf32>
}

// -----

// Equal constants are uniqued and unused ones are erased.
// CHECK-LABEL: func.func @constants
// CHECK-NEXT:    %[[A:.+]] = tfm.constant dense<[0, 1, 2]> : tensor<3xi64>
// CHECK-NEXT:    %[[B:.+]] = tfm.constant dense<[0, 1, 3]> : tensor<3xi64>
// CHECK-NEXT:    return %[[A]], %[[A]], %[[B]]
func.func @constants() -> (tensor<3xi64>, tensor<3xi64>, tensor<3xi64>) {
  %a = tfm.constant dense<[0, 1, 2]> : tensor<3xi64>
  %b = tfm.constant dense<[0, 1, 2]> : tensor<3xi64>
  %c = tfm.constant dense<[0, 1, 3]> : tensor<3xi64>
  %unused = tfm.constant dense<1.0> : tensor<4xf32>
  return %a, %b, %c : tensor<3xi64>, tensor<3xi64>, tensor<3xi64>
}

// -----

// Ops without a folder are not touched, even with constant operands; an
// unused weight is pure and goes away.
// CHECK-LABEL: func.func @no_folder
// CHECK:         %[[C:.+]] = tfm.constant dense<2.000000e+00> : tensor<4xf32>
// CHECK:         %[[A:.+]] = tfm.add %[[C]], %[[C]]
// CHECK:         %[[G:.+]] = tfm.gelu %[[A]]
// CHECK-NOT:     tfm.weight
// CHECK:         return %[[G]]
func.func @no_folder() -> tensor<4xf32> {
  %c = tfm.constant dense<2.0> : tensor<4xf32>
  %w = tfm.weight "unused" : tensor<4xf32>
  %0 = tfm.add %c, %c : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %1 = tfm.gelu %0 : tensor<4xf32>
  return %1 : tensor<4xf32>
}
