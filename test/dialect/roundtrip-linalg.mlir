// RUN: kiln-opt %s --split-input-file | kiln-opt --split-input-file | FileCheck %s

// Linear algebra: tfm.linear and tfm.matmul.

// CHECK-LABEL: func.func @linear
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5x8xf32>, %[[W:.+]]: tensor<16x8xf32>)
// CHECK:         tfm.linear %[[X]], %[[W]] : (tensor<2x5x8xf32>, tensor<16x8xf32>) -> tensor<2x5x16xf32>
func.func @linear(%x: tensor<2x5x8xf32>, %w: tensor<16x8xf32>) -> tensor<2x5x16xf32> {
  %0 = tfm.linear %x, %w : (tensor<2x5x8xf32>, tensor<16x8xf32>) -> tensor<2x5x16xf32>
  return %0 : tensor<2x5x16xf32>
}

// -----

// CHECK-LABEL: func.func @linear_bias
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5x8xf32>, %[[W:.+]]: tensor<16x8xf32>, %[[B:.+]]: tensor<16xf32>)
// CHECK:         tfm.linear %[[X]], %[[W]], %[[B]] : (tensor<2x5x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<2x5x16xf32>
func.func @linear_bias(%x: tensor<2x5x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>) -> tensor<2x5x16xf32> {
  %0 = tfm.linear %x, %w, %b : (tensor<2x5x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<2x5x16xf32>
  return %0 : tensor<2x5x16xf32>
}

// -----

// A rank-1 input and an f16 layer.
// CHECK-LABEL: func.func @linear_vector_f16
// CHECK:         tfm.linear %{{.+}}, %{{.+}} : (tensor<8xf16>, tensor<3x8xf16>) -> tensor<3xf16>
func.func @linear_vector_f16(%x: tensor<8xf16>, %w: tensor<3x8xf16>) -> tensor<3xf16> {
  %0 = tfm.linear %x, %w : (tensor<8xf16>, tensor<3x8xf16>) -> tensor<3xf16>
  return %0 : tensor<3xf16>
}

// -----

// Every activation the epilogue fusion can set; `none` is the default and is
// not printed.
// CHECK-LABEL: func.func @linear_activation
// CHECK-SAME:    (%[[X:.+]]: tensor<4x8xf32>, %[[W:.+]]: tensor<16x8xf32>, %[[B:.+]]: tensor<16xf32>)
// CHECK:         tfm.linear %[[X]], %[[W]], %[[B]] {activation = #tfm.activation<gelu>}
// CHECK:         tfm.linear %[[X]], %[[W]], %[[B]] {activation = #tfm.activation<gelu_tanh>}
// CHECK:         tfm.linear %[[X]], %[[W]] {activation = #tfm.activation<quick_gelu>}
// CHECK:         tfm.linear %[[X]], %[[W]] {activation = #tfm.activation<silu>}
// CHECK:         tfm.linear %[[X]], %[[W]] {activation = #tfm.activation<relu>}
// CHECK:         tfm.linear %[[X]], %[[W]] : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
func.func @linear_activation(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) {
  %0 = tfm.linear %x, %w, %b {activation = #tfm.activation<gelu>} : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %1 = tfm.linear %x, %w, %b {activation = #tfm.activation<gelu_tanh>} : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %2 = tfm.linear %x, %w {activation = #tfm.activation<quick_gelu>} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %3 = tfm.linear %x, %w {activation = #tfm.activation<silu>} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %4 = tfm.linear %x, %w {activation = #tfm.activation<relu>} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %5 = tfm.linear %x, %w {activation = #tfm.activation<none>} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func.func @matmul
// CHECK-SAME:    (%[[A:.+]]: tensor<4x8xf32>, %[[B:.+]]: tensor<8x16xf32>)
// CHECK:         tfm.matmul %[[A]], %[[B]] : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
func.func @matmul(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %0 = tfm.matmul %a, %b : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// The transpose flags are unit attributes; each changes which axis is
// contracted.
// CHECK-LABEL: func.func @matmul_transposes
// CHECK:         tfm.matmul %{{.+}}, %{{.+}} {transpose_lhs} : (tensor<8x4xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
// CHECK:         tfm.matmul %{{.+}}, %{{.+}} {transpose_rhs} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
// CHECK:         tfm.matmul %{{.+}}, %{{.+}} {transpose_lhs, transpose_rhs} : (tensor<8x4xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
func.func @matmul_transposes(%at: tensor<8x4xf32>, %a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %bt: tensor<16x8xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) {
  %0 = tfm.matmul %at, %b {transpose_lhs} : (tensor<8x4xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %1 = tfm.matmul %a, %bt {transpose_rhs} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %2 = tfm.matmul %at, %bt {transpose_lhs, transpose_rhs} : (tensor<8x4xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  return %0, %1, %2 : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Batch dimensions broadcast numpy-style: size 1 on either side stretches.
// CHECK-LABEL: func.func @matmul_broadcast_batch
// CHECK:         tfm.matmul %{{.+}}, %{{.+}} {transpose_rhs} : (tensor<1x4x7x16xf32>, tensor<1x4x7x16xf32>) -> tensor<1x4x7x7xf32>
// CHECK:         tfm.matmul %{{.+}}, %{{.+}} : (tensor<2x1x7x16xf64>, tensor<1x4x16x3xf64>) -> tensor<2x4x7x3xf64>
func.func @matmul_broadcast_batch(%q: tensor<1x4x7x16xf32>, %k: tensor<1x4x7x16xf32>, %a: tensor<2x1x7x16xf64>, %b: tensor<1x4x16x3xf64>) -> (tensor<1x4x7x7xf32>, tensor<2x4x7x3xf64>) {
  %0 = tfm.matmul %q, %k {transpose_rhs} : (tensor<1x4x7x16xf32>, tensor<1x4x7x16xf32>) -> tensor<1x4x7x7xf32>
  %1 = tfm.matmul %a, %b : (tensor<2x1x7x16xf64>, tensor<1x4x16x3xf64>) -> tensor<2x4x7x3xf64>
  return %0, %1 : tensor<1x4x7x7xf32>, tensor<2x4x7x3xf64>
}

// -----

// A weight in GEMM panels: 20 outputs in ceil(20 / 16) = 2 panels.
// CHECK-LABEL: func.func @pack_panels
// CHECK:         %[[P:.+]] = tfm.pack_panels %{{.+}} : tensor<20x8xf32> -> tensor<2x8x16xf32>
// CHECK:         %[[Q:.+]] = tfm.pack_panels %{{.+}} {in_out} : tensor<8x20xf32> -> tensor<1x8x32xf32>
// CHECK:         tfm.linear %{{.+}}, %[[P]], %{{.+}} {weight_panels} : (tensor<3x8xf32>, tensor<2x8x16xf32>, tensor<20xf32>) -> tensor<3x20xf32>
func.func @pack_panels(%x: tensor<3x8xf32>, %w: tensor<20x8xf32>, %wt: tensor<8x20xf32>, %b: tensor<20xf32>) -> (tensor<3x20xf32>, tensor<1x8x32xf32>) {
  %p = tfm.pack_panels %w : tensor<20x8xf32> -> tensor<2x8x16xf32>
  %q = tfm.pack_panels %wt {in_out} : tensor<8x20xf32> -> tensor<1x8x32xf32>
  %y = tfm.linear %x, %p, %b {weight_panels} : (tensor<3x8xf32>, tensor<2x8x16xf32>, tensor<20xf32>) -> tensor<3x20xf32>
  return %y, %q : tensor<3x20xf32>, tensor<1x8x32xf32>
}
