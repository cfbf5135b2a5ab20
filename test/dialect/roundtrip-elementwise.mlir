// RUN: kiln-opt %s --split-input-file | kiln-opt --split-input-file | FileCheck %s

// Elementwise tfm.add, tfm.sub, tfm.mul and tfm.div with numpy broadcasting.

// CHECK-LABEL: func.func @same_shape
// CHECK-SAME:    (%[[A:.+]]: tensor<2x3xf32>, %[[B:.+]]: tensor<2x3xf32>)
// CHECK:         %[[ADD:.+]] = tfm.add %[[A]], %[[B]] : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK:         %[[SUB:.+]] = tfm.sub %[[ADD]], %[[B]] : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK:         %[[MUL:.+]] = tfm.mul %[[SUB]], %[[A]] : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK:         tfm.div %[[MUL]], %[[B]] : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
func.func @same_shape(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = tfm.add %a, %b : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
  %1 = tfm.sub %0, %b : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
  %2 = tfm.mul %1, %a : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
  %3 = tfm.div %2, %b : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
  return %3 : tensor<2x3xf32>
}

// -----

// Shapes align at the trailing axis; missing leading axes and size-1 axes
// stretch, on either side.
// CHECK-LABEL: func.func @broadcast
// CHECK:         tfm.add %{{.+}}, %{{.+}} : tensor<2x5x8xf32>, tensor<8xf32> -> tensor<2x5x8xf32>
// CHECK:         tfm.sub %{{.+}}, %{{.+}} : tensor<8xf32>, tensor<2x5x8xf32> -> tensor<2x5x8xf32>
// CHECK:         tfm.mul %{{.+}}, %{{.+}} : tensor<2x1x8xf32>, tensor<5x1xf32> -> tensor<2x5x8xf32>
// CHECK:         tfm.div %{{.+}}, %{{.+}} : tensor<2x5x8xf32>, tensor<f32> -> tensor<2x5x8xf32>
func.func @broadcast(%x: tensor<2x5x8xf32>, %v: tensor<8xf32>, %y: tensor<2x1x8xf32>, %c: tensor<5x1xf32>, %s: tensor<f32>) -> (tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<2x5x8xf32>) {
  %0 = tfm.add %x, %v : tensor<2x5x8xf32>, tensor<8xf32> -> tensor<2x5x8xf32>
  %1 = tfm.sub %v, %x : tensor<8xf32>, tensor<2x5x8xf32> -> tensor<2x5x8xf32>
  %2 = tfm.mul %y, %c : tensor<2x1x8xf32>, tensor<5x1xf32> -> tensor<2x5x8xf32>
  %3 = tfm.div %x, %s : tensor<2x5x8xf32>, tensor<f32> -> tensor<2x5x8xf32>
  return %0, %1, %2, %3 : tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<2x5x8xf32>
}

// -----

// Integer operands (positions, lengths) use the same ops.
// CHECK-LABEL: func.func @integers
// CHECK:         tfm.add %{{.+}}, %{{.+}} : tensor<1x7xi64>, tensor<1xi64> -> tensor<1x7xi64>
// CHECK:         tfm.sub %{{.+}}, %{{.+}} : tensor<4xi32>, tensor<4xi32> -> tensor<4xi32>
// CHECK:         tfm.mul %{{.+}}, %{{.+}} : tensor<4xi32>, tensor<4xi32> -> tensor<4xi32>
// CHECK:         tfm.div %{{.+}}, %{{.+}} : tensor<4xi32>, tensor<1xi32> -> tensor<4xi32>
func.func @integers(%p: tensor<1x7xi64>, %o: tensor<1xi64>, %a: tensor<4xi32>, %b: tensor<1xi32>) -> (tensor<1x7xi64>, tensor<4xi32>) {
  %0 = tfm.add %p, %o : tensor<1x7xi64>, tensor<1xi64> -> tensor<1x7xi64>
  %1 = tfm.sub %a, %a : tensor<4xi32>, tensor<4xi32> -> tensor<4xi32>
  %2 = tfm.mul %1, %a : tensor<4xi32>, tensor<4xi32> -> tensor<4xi32>
  %3 = tfm.div %2, %b : tensor<4xi32>, tensor<1xi32> -> tensor<4xi32>
  return %0, %3 : tensor<1x7xi64>, tensor<4xi32>
}
