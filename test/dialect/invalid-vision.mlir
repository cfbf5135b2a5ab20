// RUN: kiln-opt %s --split-input-file --verify-diagnostics

// Verifier errors of tfm.conv2d and tfm.patch_embed.

func.func @conv2d_input_rank(%x: tensor<3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'tfm.conv2d' op 'input' must be [batch, channels, height, width], got [3,8,8]}}
  %0 = tfm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv2d_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+1 {{'tfm.conv2d' op 'weight' [4,2,3,3] has 2 input channels but 'input' [1,3,8,8] has 3}}
  %0 = tfm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv2d_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{'tfm.conv2d' op 'bias' has shape [3] but 'weight' [4,3,3,3] has 4 outputs}}
  %0 = tfm.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv2d_zero_stride(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'tfm.conv2d' op 'strides' must be two integers >= 1, got [0,1]}}
  %0 = tfm.conv2d %x, %w {strides = array<i64: 0, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv2d_negative_padding(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'tfm.conv2d' op 'padding' must be two integers >= 0, got [-1,0]}}
  %0 = tfm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: -1, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv2d_kernel_too_large(%x: tensor<1x3x2x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'tfm.conv2d' op the kernel spans 3 pixels but the padded image has 2 along axis 2}}
  %0 = tfm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x2x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x1x6xf32>
  return
}

// -----

func.func @conv2d_result(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'tfm.conv2d' op result has shape [1,4,8,8] but the operands give [1,4,6,6]}}
  %0 = tfm.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @patch_embed_not_whole(%x: tensor<1x3x10x8xf32>, %w: tensor<4x3x4x4xf32>) {
  // expected-error @+1 {{'tfm.patch_embed' op the 10x8 image is not a whole number of 4x4 patches}}
  %0 = tfm.patch_embed %x, %w : (tensor<1x3x10x8xf32>, tensor<4x3x4x4xf32>) -> tensor<1x4x4xf32>
  return
}

// -----

func.func @patch_embed_result(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x4x4xf32>) {
  // expected-error @+1 {{'tfm.patch_embed' op result has shape [1,4,8] but the operands give [1,4,4]}}
  %0 = tfm.patch_embed %x, %w : (tensor<1x3x8x8xf32>, tensor<4x3x4x4xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @patch_embed_element_type(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x4x4xf16>) {
  // expected-error @+1 {{'tfm.patch_embed' op 'weight' has element type 'f16' but 'input' has 'f32'}}
  %0 = tfm.patch_embed %x, %w : (tensor<1x3x8x8xf32>, tensor<4x3x4x4xf16>) -> tensor<1x4x4xf32>
  return
}
