// RUN: kiln-opt %s --split-input-file --kiln-linear-to-ukernel | FileCheck %s

// A [1, 3, 8] input on 20 outputs in panels of 16, with a bias and GELU:
// one call with the rows collapsed, has-bias 1 and activation code 1.
// CHECK-LABEL: func.func @linear
// CHECK:         %[[ROWS:.+]] = tensor.collapse_shape %arg0 {{\[}}[0, 1], [2]] : tensor<1x3x8xf32> into tensor<3x8xf32>
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<3x20xf32>
// CHECK-DAG:     %[[NOT:.+]] = arith.constant 0 : i64
// CHECK-DAG:     %[[ONE:.+]] = arith.constant 1 : i64
// CHECK-DAG:     %[[GELU:.+]] = arith.constant 1 : i64
// CHECK:         call @kiln_linear_panels_f32(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[NOT]], %[[ONE]], %{{.+}})
// CHECK:         %[[T:.+]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK:         tensor.expand_shape %[[T]] {{\[}}[0, 1], [2]] output_shape [1, 3, 20]
// CHECK:       func.func private @kiln_linear_panels_f32(memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, i64, i64, i64) attributes {llvm.emit_c_interface}
func.func @linear(%x: tensor<1x3x8xf32>, %p: tensor<2x8x16xf32>, %b: tensor<20xf32>) -> tensor<1x3x20xf32> {
  %0 = tfm.linear %x, %p, %b {weight_panels, activation = #tfm.activation<gelu>} : (tensor<1x3x8xf32>, tensor<2x8x16xf32>, tensor<20xf32>) -> tensor<1x3x20xf32>
  return %0 : tensor<1x3x20xf32>
}

// -----

// No bias: a placeholder operand and has-bias 0; relu is code 5.
// CHECK-LABEL: func.func @no_bias
// CHECK-DAG:     %[[NONE:.+]] = memref.alloca() : memref<1xf32>
// CHECK-DAG:     %[[RELU:.+]] = arith.constant 5 : i64
// CHECK:         call @kiln_linear_panels_f32({{.*}}, %[[RELU]])
func.func @no_bias(%x: tensor<3x8xf32>, %p: tensor<1x8x16xf32>) -> tensor<3x16xf32> {
  %0 = tfm.linear %x, %p {weight_panels, activation = #tfm.activation<relu>} : (tensor<3x8xf32>, tensor<1x8x16xf32>) -> tensor<3x16xf32>
  return %0 : tensor<3x16xf32>
}

// -----

// Negative: weights not in panels stay for the linalg path.
// CHECK-LABEL: func.func @plain
// CHECK:         tfm.linear
// CHECK-NOT:     call @kiln
func.func @plain(%x: tensor<3x8xf32>, %w: tensor<16x8xf32>) -> tensor<3x16xf32> {
  %0 = tfm.linear %x, %w : (tensor<3x8xf32>, tensor<16x8xf32>) -> tensor<3x16xf32>
  return %0 : tensor<3x16xf32>
}

// -----

// Packing a weight into panels (prepare_weights) is one runtime call; the
// flag says whether the weight is [in, out].
// CHECK-LABEL: func.func @pack
// CHECK:         %[[W:.+]] = bufferization.to_buffer %arg0 read_only : tensor<20x8xf32>
// CHECK:         %[[WC:.+]] = memref.cast %[[W]]
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x8x16xf32>
// CHECK:         %[[OC:.+]] = memref.cast %[[OUT]]
// CHECK:         %[[FLAG:.+]] = arith.constant 0 : i64
// CHECK:         call @kiln_pack_panels_f32(%[[WC]], %[[OC]], %[[FLAG]])
// CHECK:         %[[T:.+]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK:         return %[[T]]
// CHECK-LABEL: func.func @pack_in_out
// CHECK:         %[[IN_OUT:.+]] = arith.constant 1 : i64
// CHECK:         call @kiln_pack_panels_f32(%{{.+}}, %{{.+}}, %[[IN_OUT]])
func.func @pack(%w: tensor<20x8xf32>) -> tensor<2x8x16xf32> {
  %p = tfm.pack_panels %w : tensor<20x8xf32> -> tensor<2x8x16xf32>
  return %p : tensor<2x8x16xf32>
}
func.func @pack_in_out(%w: tensor<8x20xf32>) -> tensor<2x8x16xf32> {
  %p = tfm.pack_panels %w {in_out} : tensor<8x20xf32> -> tensor<2x8x16xf32>
  return %p : tensor<2x8x16xf32>
}
