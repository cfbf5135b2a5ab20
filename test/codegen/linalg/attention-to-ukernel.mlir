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

// Negative: i32 lengths and f16 need another element type; they stay for
// tfm-decompose-attention.
// CHECK-LABEL: func.func @not_covered
// CHECK-COUNT-2: tfm.attention
// CHECK-NOT:     call @kiln_attention
func.func @not_covered(%q: tensor<1x2x6x4xf32>, %l: tensor<1xi32>, %h: tensor<1x2x6x4xf16>) -> (tensor<1x2x6x4xf32>, tensor<1x2x6x4xf16>) {
  %1 = tfm.attention %q, %q, %q lengths(%l) {mask = #tfm.mask<padding>, scale = 0.5 : f32} : (tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1xi32>) -> tensor<1x2x6x4xf32>
  %2 = tfm.attention %h, %h, %h {scale = 0.5 : f32} : (tensor<1x2x6x4xf16>, tensor<1x2x6x4xf16>, tensor<1x2x6x4xf16>) -> tensor<1x2x6x4xf16>
  return %1, %2 : tensor<1x2x6x4xf32>, tensor<1x2x6x4xf16>
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

// -----

// A relative position bias shared by the batch, [1, H, Sq, Sk]: the kernel
// reads it in place through a [B, H, Sq, Sk] view whose batch stride is 0;
// the other strides are the buffer's.
// CHECK-LABEL: func.func @bias_shared_by_batch
// CHECK-SAME:    %[[B:[^:]+]]: tensor<1x3x5x7xf32>
// CHECK:         %[[BB:.+]] = bufferization.to_buffer %[[B]] read_only : tensor<1x3x5x7xf32> to memref<1x3x5x7xf32, strided<[?, ?, ?, ?], offset: ?>>
// CHECK:         %[[BC:.+]] = memref.cast %[[BB]]
// CHECK:         %[[BASE:.+]], %[[OFF:.+]], %{{.+}}:4, %[[STRIDES:.+]]:4 = memref.extract_strided_metadata %[[BC]]
// CHECK:         %[[VIEW:.+]] = memref.reinterpret_cast %[[BASE]] to offset: [%[[OFF]]], sizes: [2, 3, 5, 7], strides: [0, %[[STRIDES]]#1, %[[STRIDES]]#2, %[[STRIDES]]#3] : memref<f32> to memref<2x3x5x7xf32, strided<[0, ?, ?, ?], offset: ?>>
// CHECK:         %[[BIAS:.+]] = memref.cast %[[VIEW]] : {{.*}} to memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x3x5x6xf32>
// CHECK-DAG:     %[[NONE:.+]] = arith.constant 0 : i64
// CHECK-DAG:     %[[SCALE:.+]] = arith.constant 5.000000e-01 : f32
// CHECK:         call @kiln_attention_bias_f32(%{{.+}}, %{{.+}}, %{{.+}}, %[[BIAS]], %{{.+}}, %[[NONE]], %[[SCALE]])
// CHECK:         bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-NOT:     tfm.attention
// CHECK:       func.func private @kiln_attention_bias_f32({{.*}}, i64, f32) attributes {llvm.emit_c_interface}
func.func @bias_shared_by_batch(%q: tensor<2x3x5x4xf32>, %k: tensor<2x3x7x4xf32>, %v: tensor<2x3x7x6xf32>, %b: tensor<1x3x5x7xf32>) -> tensor<2x3x5x6xf32> {
  %0 = tfm.attention %q, %k, %v bias(%b) {scale = 0.5 : f32} : (tensor<2x3x5x4xf32>, tensor<2x3x7x4xf32>, tensor<2x3x7x6xf32>, tensor<1x3x5x7xf32>) -> tensor<2x3x5x6xf32>
  return %0 : tensor<2x3x5x6xf32>
}

// -----

// A bias of lower rank and with unit axes, [3, 1, 7] onto [2, 3, 5, 7]: the
// missing batch axis and the unit query axis get stride 0. Causal mask.
// CHECK-LABEL: func.func @bias_broadcast_causal
// CHECK:         %[[BASE:.+]], %[[OFF:.+]], %{{.+}}:3, %[[STRIDES:.+]]:3 = memref.extract_strided_metadata
// CHECK:         memref.reinterpret_cast %[[BASE]] to offset: [%[[OFF]]], sizes: [2, 3, 5, 7], strides: [0, %[[STRIDES]]#0, 0, %[[STRIDES]]#2] : memref<f32> to memref<2x3x5x7xf32, strided<[0, ?, 0, ?], offset: ?>>
// CHECK:         %[[CAUSAL:.+]] = arith.constant 1 : i64
// CHECK:         call @kiln_attention_bias_f32({{.*}}, %[[CAUSAL]], %{{.+}})
func.func @bias_broadcast_causal(%q: tensor<2x3x5x4xf32>, %k: tensor<2x3x7x4xf32>, %v: tensor<2x3x7x6xf32>, %b: tensor<3x1x7xf32>) -> tensor<2x3x5x6xf32> {
  %0 = tfm.attention %q, %k, %v bias(%b) {mask = #tfm.mask<causal>, scale = 0.5 : f32} : (tensor<2x3x5x4xf32>, tensor<2x3x7x4xf32>, tensor<2x3x7x6xf32>, tensor<3x1x7xf32>) -> tensor<2x3x5x6xf32>
  return %0 : tensor<2x3x5x6xf32>
}

// -----

// A per-item mask [B, 1, 1, Sk] with padding lengths: the bias-and-lengths
// kernel; a scalar bias (rank 0) is stride 0 on every axis.
// CHECK-LABEL: func.func @bias_padding_and_scalar
// CHECK-SAME:    %[[L:[^:]+]]: tensor<2xi64>
// CHECK:         memref.reinterpret_cast %{{.+}} to offset: [%{{.+}}], sizes: [2, 2, 6, 6], strides: [%{{.+}}, 0, 0, %{{.+}}] : memref<f32> to memref<2x2x6x6xf32, strided<[?, 0, 0, ?], offset: ?>>
// CHECK:         %[[LB:.+]] = bufferization.to_buffer %[[L]] read_only
// CHECK:         %[[LC:.+]] = memref.cast %[[LB]]
// CHECK:         call @kiln_attention_bias_lengths_f32(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[LC]], %{{.+}}, %{{.+}})
// CHECK:         memref.reinterpret_cast %{{.+}} to offset: [%{{.+}}], sizes: [2, 2, 6, 6], strides: [0, 0, 0, 0] : memref<f32> to memref<2x2x6x6xf32, strided<[0, 0, 0, 0], offset: ?>>
// CHECK:         call @kiln_attention_bias_f32
// CHECK-DAG:   func.func private @kiln_attention_bias_lengths_f32({{.*}}, memref<?xi64, strided<[?], offset: ?>>, {{.*}}, f32) attributes {llvm.emit_c_interface}
// CHECK-DAG:   func.func private @kiln_attention_bias_f32
func.func @bias_padding_and_scalar(%q: tensor<2x2x6x4xf32>, %b: tensor<2x1x1x6xf32>, %l: tensor<2xi64>, %s: tensor<f32>) -> (tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>) {
  %0 = tfm.attention %q, %q, %q lengths(%l) bias(%b) {mask = #tfm.mask<padding>, scale = 0.5 : f32} : (tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>, tensor<2xi64>, tensor<2x1x1x6xf32>) -> tensor<2x2x6x4xf32>
  %1 = tfm.attention %q, %q, %q bias(%s) {scale = 0.5 : f32} : (tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>, tensor<f32>) -> tensor<2x2x6x4xf32>
  return %0, %1 : tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>
}
