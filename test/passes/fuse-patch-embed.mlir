// RUN: kiln-opt %s --split-input-file --tfm-fuse-patch-embed | FileCheck %s

// ViT's embedding as transformers computes it:
// projection(pixels).flatten(2).transpose(1, 2), here a 2x3 grid of 4x4
// patches of a rectangular 8x12 image.
// CHECK-LABEL: func.func @vit
// CHECK-SAME:    (%[[X:.+]]: tensor<2x3x8x12xf32>, %[[W:.+]]: tensor<16x3x4x4xf32>, %[[B:.+]]: tensor<16xf32>)
// CHECK-NEXT:    %[[P:.+]] = tfm.patch_embed %[[X]], %[[W]], %[[B]] : (tensor<2x3x8x12xf32>, tensor<16x3x4x4xf32>, tensor<16xf32>) -> tensor<2x6x16xf32>
// CHECK-NEXT:    return %[[P]]
func.func @vit(%x: tensor<2x3x8x12xf32>, %w: tensor<16x3x4x4xf32>, %b: tensor<16xf32>) -> tensor<2x6x16xf32> {
  %0 = tfm.conv2d %x, %w, %b {strides = array<i64: 4, 4>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<2x3x8x12xf32>, tensor<16x3x4x4xf32>, tensor<16xf32>) -> tensor<2x16x2x3xf32>
  %1 = tfm.reshape %0 : tensor<2x16x2x3xf32> -> tensor<2x16x6xf32>
  %2 = tfm.transpose %1 [0, 2, 1] : tensor<2x16x6xf32> -> tensor<2x6x16xf32>
  return %2 : tensor<2x6x16xf32>
}

// -----

// Channels moved last first, then the grid flattened; rectangular patches;
// CLIP's convolution has no bias.
// CHECK-LABEL: func.func @channels_last_first
// CHECK-NEXT:    %[[P:.+]] = tfm.patch_embed %arg0, %arg1 : (tensor<1x3x8x6xf32>, tensor<5x3x4x2xf32>) -> tensor<1x6x5xf32>
// CHECK-NEXT:    return %[[P]]
func.func @channels_last_first(%x: tensor<1x3x8x6xf32>, %w: tensor<5x3x4x2xf32>) -> tensor<1x6x5xf32> {
  %0 = tfm.conv2d %x, %w {strides = array<i64: 4, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x6xf32>, tensor<5x3x4x2xf32>) -> tensor<1x5x2x3xf32>
  %1 = tfm.transpose %0 [0, 2, 3, 1] : tensor<1x5x2x3xf32> -> tensor<1x2x3x5xf32>
  %2 = tfm.reshape %1 : tensor<1x2x3x5xf32> -> tensor<1x6x5xf32>
  return %2 : tensor<1x6x5xf32>
}

// -----

// Overlapping patches (stride 2 < kernel 4) stay a convolution.
// CHECK-LABEL: func.func @overlapping
// CHECK-NOT:     tfm.patch_embed
// CHECK:         tfm.conv2d
func.func @overlapping(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x4x4xf32>) -> tensor<1x9x4xf32> {
  %0 = tfm.conv2d %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x4x4xf32>) -> tensor<1x4x3x3xf32>
  %1 = tfm.reshape %0 : tensor<1x4x3x3xf32> -> tensor<1x4x9xf32>
  %2 = tfm.transpose %1 [0, 2, 1] : tensor<1x4x9xf32> -> tensor<1x9x4xf32>
  return %2 : tensor<1x9x4xf32>
}

// -----

// Padding reads zeros around the image: not patches of it.
// CHECK-LABEL: func.func @padded
// CHECK-NOT:     tfm.patch_embed
// CHECK:         tfm.conv2d
func.func @padded(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x4x4xf32>) -> tensor<1x9x4xf32> {
  %0 = tfm.conv2d %x, %w {strides = array<i64: 4, 4>, padding = array<i64: 2, 2>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x4x4xf32>) -> tensor<1x4x3x3xf32>
  %1 = tfm.reshape %0 : tensor<1x4x3x3xf32> -> tensor<1x4x9xf32>
  %2 = tfm.transpose %1 [0, 2, 1] : tensor<1x4x9xf32> -> tensor<1x9x4xf32>
  return %2 : tensor<1x9x4xf32>
}

// -----

// Dilation spreads a patch's pixels apart.
// CHECK-LABEL: func.func @dilated
// CHECK-NOT:     tfm.patch_embed
// CHECK:         tfm.conv2d
func.func @dilated(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x2x2xf32>) -> tensor<1x9x4xf32> {
  %0 = tfm.conv2d %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 2, 2>} : (tensor<1x3x8x8xf32>, tensor<4x3x2x2xf32>) -> tensor<1x4x3x3xf32>
  %1 = tfm.reshape %0 : tensor<1x4x3x3xf32> -> tensor<1x4x9xf32>
  %2 = tfm.transpose %1 [0, 2, 1] : tensor<1x4x9xf32> -> tensor<1x9x4xf32>
  return %2 : tensor<1x9x4xf32>
}

// -----

// A 9x8 image with 4x4 patches at stride 4: the last row of pixels is never
// read, so the tokens are not the patches of the whole image.
// CHECK-LABEL: func.func @partial_patches
// CHECK-NOT:     tfm.patch_embed
// CHECK:         tfm.conv2d
func.func @partial_patches(%x: tensor<1x3x9x8xf32>, %w: tensor<4x3x4x4xf32>) -> tensor<1x4x4xf32> {
  %0 = tfm.conv2d %x, %w {strides = array<i64: 4, 4>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x9x8xf32>, tensor<4x3x4x4xf32>) -> tensor<1x4x2x2xf32>
  %1 = tfm.reshape %0 : tensor<1x4x2x2xf32> -> tensor<1x4x4xf32>
  %2 = tfm.transpose %1 [0, 2, 1] : tensor<1x4x4xf32> -> tensor<1x4x4xf32>
  return %2 : tensor<1x4x4xf32>
}

// -----

// The convolution's grid is also used elsewhere; a grid kept spatial (no
// flatten); a flatten without the transpose.
// CHECK-LABEL: func.func @not_tokens
// CHECK-NOT:     tfm.patch_embed
// CHECK-COUNT-3: tfm.conv2d
func.func @not_tokens(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x4x4xf32>) -> (tensor<1x4x2x2xf32>, tensor<1x4x4xf32>, tensor<1x2x2x4xf32>, tensor<1x4x4xf32>) {
  %0 = tfm.conv2d %x, %w {strides = array<i64: 4, 4>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x4x4xf32>) -> tensor<1x4x2x2xf32>
  %1 = tfm.reshape %0 : tensor<1x4x2x2xf32> -> tensor<1x4x4xf32>
  %2 = tfm.transpose %1 [0, 2, 1] : tensor<1x4x4xf32> -> tensor<1x4x4xf32>
  %3 = tfm.conv2d %x, %w {strides = array<i64: 4, 4>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x4x4xf32>) -> tensor<1x4x2x2xf32>
  %4 = tfm.transpose %3 [0, 2, 3, 1] : tensor<1x4x2x2xf32> -> tensor<1x2x2x4xf32>
  %5 = tfm.conv2d %x, %w {strides = array<i64: 4, 4>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x4x4xf32>) -> tensor<1x4x2x2xf32>
  %6 = tfm.reshape %5 : tensor<1x4x2x2xf32> -> tensor<1x4x4xf32>
  return %0, %2, %4, %6 : tensor<1x4x2x2xf32>, tensor<1x4x4xf32>, tensor<1x2x2x4xf32>, tensor<1x4x4xf32>
}
