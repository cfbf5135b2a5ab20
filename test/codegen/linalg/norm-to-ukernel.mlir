// RUN: kiln-opt %s --split-input-file --kiln-norm-to-ukernel | FileCheck %s

// A [1, 4, 8] LayerNorm runs as 4 rows of 8; the residual slot repeats the
// input with the residual flag 0.
// CHECK-LABEL: func.func @layer_norm
// CHECK:         %[[ROWS:.+]] = tensor.collapse_shape %arg0 {{\[}}[0, 1], [2]] : tensor<1x4x8xf32> into tensor<4x8xf32>
// CHECK:         %[[X:.+]] = bufferization.to_buffer %[[ROWS]] read_only
// CHECK:         %[[XC:.+]] = memref.cast %[[X]]
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<4x8xf32>
// CHECK:         %[[EPS:.+]] = arith.constant 9.99999974E-6 : f32
// CHECK:         %[[NO:.+]] = arith.constant 0 : i64
// CHECK:         call @kiln_layer_norm_f32(%[[XC]], %[[XC]], %{{.+}}, %{{.+}}, %{{.+}}, %[[EPS]], %[[NO]])
// CHECK:         %[[T:.+]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK:         %[[R:.+]] = tensor.expand_shape %[[T]] {{\[}}[0, 1], [2]] output_shape [1, 4, 8]
// CHECK:         return %[[R]]
func.func @layer_norm(%x: tensor<1x4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<1x4x8xf32> {
  %0 = tfm.layer_norm %x, %g, %b : tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>
  return %0 : tensor<1x4x8xf32>
}

// -----

// The fused residual: flag 1.
// CHECK-LABEL: func.func @add_layer_norm
// CHECK:         %[[YES:.+]] = arith.constant 1 : i64
// CHECK:         call @kiln_layer_norm_f32({{.*}}, %[[YES]])
// CHECK-LABEL: func.func @rms_norm
// CHECK:         call @kiln_rms_norm_f32(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) : (memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, f32) -> ()
func.func @add_layer_norm(%x: tensor<4x8xf32>, %r: tensor<4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %0 = tfm.add_layer_norm %x, %r, %g, %b : tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>
  return %0 : tensor<4x8xf32>
}
func.func @rms_norm(%x: tensor<4x8xf32>, %g: tensor<8xf32>) -> tensor<4x8xf32> {
  %0 = tfm.rms_norm %x, %g : tensor<4x8xf32>, tensor<8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// Negative: a single row vector and f16 stay for the linalg path.
// CHECK-LABEL: func.func @not_covered
// CHECK:         tfm.layer_norm
// CHECK:         tfm.layer_norm
// CHECK-NOT:     call @kiln
func.func @not_covered(%x: tensor<8xf32>, %g: tensor<8xf32>, %h: tensor<2x8xf16>, %gh: tensor<8xf16>) -> (tensor<8xf32>, tensor<2x8xf16>) {
  %0 = tfm.layer_norm %x, %g, %g : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
  %1 = tfm.layer_norm %h, %gh, %gh : tensor<2x8xf16>, tensor<8xf16>, tensor<8xf16>
  return %0, %1 : tensor<8xf32>, tensor<2x8xf16>
}
