// RUN: kiln-opt %s --split-input-file | kiln-opt --split-input-file | FileCheck %s

// Image ops: tfm.conv2d and tfm.patch_embed.

// CHECK-LABEL: func.func @conv2d_padded_strided
// CHECK:         tfm.conv2d %{{.+}}, %{{.+}}, %{{.+}} {dilation = array<i64: 1, 1>, padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x3x9x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x5x4xf32>
func.func @conv2d_padded_strided(%x: tensor<2x3x9x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<2x4x5x4xf32> {
  %0 = tfm.conv2d %x, %w, %b {strides = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<2x3x9x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x5x4xf32>
  return %0 : tensor<2x4x5x4xf32>
}

// -----

// Dilation widens the kernel's span: 2·(3 − 1) + 1 = 5 rows of 7.
// CHECK-LABEL: func.func @conv2d_dilated_no_bias
// CHECK:         tfm.conv2d %{{.+}}, %{{.+}} {dilation = array<i64: 2, 1>, padding = array<i64: 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x2x7x7xf32>, tensor<5x2x3x3xf32>) -> tensor<1x5x3x5xf32>
func.func @conv2d_dilated_no_bias(%x: tensor<1x2x7x7xf32>, %w: tensor<5x2x3x3xf32>) -> tensor<1x5x3x5xf32> {
  %0 = tfm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 2, 1>} : (tensor<1x2x7x7xf32>, tensor<5x2x3x3xf32>) -> tensor<1x5x3x5xf32>
  return %0 : tensor<1x5x3x5xf32>
}

// -----

// A rectangular image cut into 4x2 patches: (8 / 4) · (6 / 2) = 6 tokens.
// CHECK-LABEL: func.func @patch_embed_rectangular
// CHECK:         tfm.patch_embed %{{.+}}, %{{.+}}, %{{.+}} : (tensor<2x3x8x6xf32>, tensor<16x3x4x2xf32>, tensor<16xf32>) -> tensor<2x6x16xf32>
func.func @patch_embed_rectangular(%x: tensor<2x3x8x6xf32>, %w: tensor<16x3x4x2xf32>, %b: tensor<16xf32>) -> tensor<2x6x16xf32> {
  %0 = tfm.patch_embed %x, %w, %b : (tensor<2x3x8x6xf32>, tensor<16x3x4x2xf32>, tensor<16xf32>) -> tensor<2x6x16xf32>
  return %0 : tensor<2x6x16xf32>
}

// -----

// CLIP's patch embedding has no bias.
// CHECK-LABEL: func.func @patch_embed_no_bias
// CHECK:         tfm.patch_embed %{{.+}}, %{{.+}} : (tensor<1x3x32x32xf32>, tensor<8x3x16x16xf32>) -> tensor<1x4x8xf32>
func.func @patch_embed_no_bias(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x16x16xf32>) -> tensor<1x4x8xf32> {
  %0 = tfm.patch_embed %x, %w : (tensor<1x3x32x32xf32>, tensor<8x3x16x16xf32>) -> tensor<1x4x8xf32>
  return %0 : tensor<1x4x8xf32>
}
