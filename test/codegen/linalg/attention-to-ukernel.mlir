// RUN: kiln-opt %s --split-input-file --kiln-attention-to-ukernel | FileCheck %s

// Causal self-attention: read-only buffers of Q, K and V, a fresh output
// buffer, the mask kind (1: causal) and the scale.
// CHECK-LABEL: func.func @causal
// CHECK-SAME:    (%[[Q:.+]]: tensor<1x2x8x4xf32>, %[[K:.+]]: tensor<1x2x8x4xf32>, %[[V:.+]]: tensor<1x2x8x4xf32>)
// CHECK-DAG:     %[[QB:.+]] = bufferization.to_buffer %[[Q]] read_only
// CHECK-DAG:     %[[KB:.+]] = bufferization.to_buffer %[[K]] read_only
// CHECK-DAG:     %[[VB:.+]] = bufferization.to_buffer %[[V]] read_only
// CHECK-DAG:     %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x8x4xf32>
// CHECK-DAG:     %[[CAUSAL:.+]] = arith.constant 1 : i64
// CHECK-DAG:     %[[SCALE:.+]] = arith.constant 5.000000e-01 : f32
// CHECK:         call @kiln_attention_f32(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[CAUSAL]], %[[SCALE]])
// CHECK:         %[[R:.+]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK:         return %[[R]]
// CHECK:       func.func private @kiln_attention_f32(memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, {{.*}}, i64, f32) attributes {llvm.emit_c_interface}
func.func @causal(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %0 = tfm.attention %q, %k, %v {mask = #tfm.mask<causal>, scale = 0.5 : f32} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

// -----

// Unmasked, and a value head size other than the query's: one declaration
// serves both calls.
// CHECK-LABEL: func.func @unmasked
// CHECK:         %[[NONE:.+]] = arith.constant 0 : i64
// CHECK:         call @kiln_attention_f32({{.*}}, %[[NONE]], %{{.+}})
// CHECK:         call @kiln_attention_f32
// CHECK-COUNT-1: func.func private @kiln_attention_f32
func.func @unmasked(%q: tensor<2x3x5x4xf32>, %k: tensor<2x3x7x4xf32>, %v: tensor<2x3x7x6xf32>) -> (tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>) {
  %0 = tfm.attention %q, %k, %v {scale = 0.5 : f32} : (tensor<2x3x5x4xf32>, tensor<2x3x7x4xf32>, tensor<2x3x7x6xf32>) -> tensor<2x3x5x6xf32>
  %1 = tfm.attention %q, %k, %v {scale = 0.25 : f32} : (tensor<2x3x5x4xf32>, tensor<2x3x7x4xf32>, tensor<2x3x7x6xf32>) -> tensor<2x3x5x6xf32>
  return %0, %1 : tensor<2x3x5x6xf32>, tensor<2x3x5x6xf32>
}

// -----

// Padding lengths go to the kernel; no mask tensor is built.
// CHECK-LABEL: func.func @padding
// CHECK-SAME:    %[[L:[^:]+]]: tensor<2xi64>
// CHECK:         %[[LB:.+]] = bufferization.to_buffer %[[L]] read_only : tensor<2xi64> to memref<2xi64, strided<[?], offset: ?>>
// CHECK:         %[[LC:.+]] = memref.cast %[[LB]] : memref<2xi64, strided<[?], offset: ?>> to memref<?xi64, strided<[?], offset: ?>>
// CHECK:         call @kiln_attention_lengths_f32(%{{.+}}, %{{.+}}, %{{.+}}, %[[LC]], %{{.+}}, %{{.+}})
// CHECK-NOT:     tfm.padding_mask
func.func @padding(%q: tensor<2x2x6x4xf32>, %k: tensor<2x2x6x4xf32>, %v: tensor<2x2x6x4xf32>, %l: tensor<2xi64>) -> tensor<2x2x6x4xf32> {
  %0 = tfm.attention %q, %k, %v lengths(%l) {mask = #tfm.mask<padding>, scale = 0.5 : f32} : (tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>, tensor<2xi64>) -> tensor<2x2x6x4xf32>
  return %0 : tensor<2x2x6x4xf32>
}

// -----

// Negative: a bias, i32 lengths and f16 need the score tile or another
// element type; they stay for tfm-decompose-attention.
// CHECK-LABEL: func.func @not_covered
// CHECK-COUNT-3: tfm.attention
// CHECK-NOT:     call @kiln_attention
func.func @not_covered(%q: tensor<1x2x6x4xf32>, %b: tensor<1x2x6x6xf32>, %l: tensor<1xi32>, %h: tensor<1x2x6x4xf16>) -> (tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf16>) {
  %0 = tfm.attention %q, %q, %q bias(%b) {scale = 0.5 : f32} : (tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x6xf32>) -> tensor<1x2x6x4xf32>
  %1 = tfm.attention %q, %q, %q lengths(%l) {mask = #tfm.mask<padding>, scale = 0.5 : f32} : (tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1xi32>) -> tensor<1x2x6x4xf32>
  %2 = tfm.attention %h, %h, %h {scale = 0.5 : f32} : (tensor<1x2x6x4xf16>, tensor<1x2x6x4xf16>, tensor<1x2x6x4xf16>) -> tensor<1x2x6x4xf16>
  return %0, %1, %2 : tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf16>
}

// -----

// Heads split from a projection and merged right after: the kernel reads Q
// through a transposed view of the [B, S, H, D] projection and writes the
// merged [B, S, H, D] layout through a transposed view; no transposed copies.
// CHECK-LABEL: func.func @head_views
// CHECK:         %[[X:.+]] = bufferization.to_buffer %arg0 read_only : tensor<1x8x2x4xf32>
// CHECK:         %[[XC:.+]] = memref.cast %[[X]]
// CHECK:         %[[Q:.+]] = memref.transpose %[[XC]] (d0, d1, d2, d3) -> (d0, d2, d1, d3)
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x8x2x4xf32>
// CHECK:         %[[OC:.+]] = memref.cast %[[OUT]]
// CHECK:         %[[O:.+]] = memref.transpose %[[OC]] (d0, d1, d2, d3) -> (d0, d2, d1, d3)
// CHECK:         call @kiln_attention_f32(%[[Q]], %{{.+}}, %{{.+}}, %[[O]],
// CHECK:         %[[R:.+]] = bufferization.to_tensor %[[OUT]] restrict writable : memref<1x8x2x4xf32>
// CHECK-NOT:     tfm.transpose
// CHECK:         return %[[R]]
func.func @head_views(%x: tensor<1x8x2x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x8x2x4xf32> {
  %q = tfm.transpose %x [0, 2, 1, 3] : tensor<1x8x2x4xf32> -> tensor<1x2x8x4xf32>
  %0 = tfm.attention %q, %k, %v {mask = #tfm.mask<causal>, scale = 0.5 : f32} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %1 = tfm.transpose %0 [0, 2, 1, 3] : tensor<1x2x8x4xf32> -> tensor<1x8x2x4xf32>
  return %1 : tensor<1x8x2x4xf32>
}
