// RUN: kiln-opt %s --split-input-file --tfm-pack-weights=panel-width=16 | FileCheck %s
// RUN: kiln-opt %s --split-input-file --tfm-pack-weights=panel-width=32 | FileCheck %s --check-prefix=WIDE

// An nn.Linear weight [out, in] and a Conv1D weight [in, out]: both become
// panels of 16 columns (20 outputs: 2 panels, the second half zeros).
// CHECK-LABEL: func.func @linear
// CHECK:         %[[W:.+]] = tfm.weight "fc.weight" : tensor<20x8xf32>
// CHECK:         %[[P:.+]] = tfm.pack_panels %[[W]] : tensor<20x8xf32> -> tensor<2x8x16xf32>
// CHECK:         tfm.linear %arg0, %[[P]], %{{.+}} {weight_panels} : (tensor<3x8xf32>, tensor<2x8x16xf32>, tensor<20xf32>) -> tensor<3x20xf32>
// CHECK:         %[[C:.+]] = tfm.weight "conv.weight" : tensor<8x20xf32>
// CHECK:         %[[Q:.+]] = tfm.pack_panels %[[C]] {in_out} : tensor<8x20xf32> -> tensor<2x8x16xf32>
// CHECK:         tfm.linear %arg0, %[[Q]] {activation = #tfm.activation<gelu>, weight_panels}
// WIDE-LABEL:    func.func @linear
// WIDE:          tfm.pack_panels %{{.+}} : tensor<20x8xf32> -> tensor<1x8x32xf32>
func.func @linear(%x: tensor<3x8xf32>) -> (tensor<3x20xf32>, tensor<3x20xf32>) {
  %w = tfm.weight "fc.weight" : tensor<20x8xf32>
  %b = tfm.weight "fc.bias" : tensor<20xf32>
  %0 = tfm.linear %x, %w, %b : (tensor<3x8xf32>, tensor<20x8xf32>, tensor<20xf32>) -> tensor<3x20xf32>
  %c = tfm.weight "conv.weight" : tensor<8x20xf32>
  %1 = tfm.linear %x, %c {weight_in_out, activation = #tfm.activation<gelu>} : (tensor<3x8xf32>, tensor<8x20xf32>) -> tensor<3x20xf32>
  return %0, %1 : tensor<3x20xf32>, tensor<3x20xf32>
}

// -----

// A weight-only expression (the fused Q/K/V concatenation) is packed as a
// whole.
// CHECK-LABEL: func.func @expression
// CHECK:         %[[CAT:.+]] = tfm.concat
// CHECK:         tfm.pack_panels %[[CAT]] : tensor<16x8xf32> -> tensor<1x8x16xf32>
func.func @expression(%x: tensor<3x8xf32>) -> tensor<3x16xf32> {
  %a = tfm.weight "a.weight" : tensor<8x8xf32>
  %b = tfm.weight "b.weight" : tensor<8x8xf32>
  %w = tfm.concat %a, %b {axis = 0 : i64} : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<16x8xf32>
  %0 = tfm.linear %x, %w : (tensor<3x8xf32>, tensor<16x8xf32>) -> tensor<3x16xf32>
  return %0 : tensor<3x16xf32>
}

// -----

// Negative: a tied embedding (also gathered, here in another function) is
// not duplicated; a weight that is a function argument, an f16 weight and a
// layer already in panels stay as they are.
// CHECK-LABEL: func.func @tied
// CHECK-NOT:     tfm.pack_panels
// CHECK-LABEL: func.func @lm_head
// CHECK-NOT:     tfm.pack_panels
// CHECK-LABEL: func.func @not_weights
// CHECK-NOT:     tfm.pack_panels
func.func @tied(%ids: tensor<1x3xi64>) -> tensor<1x3x8xf32> {
  %wte = tfm.weight "wte.weight" : tensor<50x8xf32>
  %0 = tfm.embedding %wte[%ids] : (tensor<50x8xf32>, tensor<1x3xi64>) -> tensor<1x3x8xf32>
  return %0 : tensor<1x3x8xf32>
}
func.func @lm_head(%h: tensor<1x8xf32>) -> tensor<1x50xf32> {
  %wte = tfm.weight "wte.weight" : tensor<50x8xf32>
  %0 = tfm.linear %h, %wte : (tensor<1x8xf32>, tensor<50x8xf32>) -> tensor<1x50xf32>
  return %0 : tensor<1x50xf32>
}
func.func @not_weights(%x: tensor<3x8xf32>, %w: tensor<16x8xf32>, %h: tensor<3x8xf16>, %p: tensor<1x8x16xf32>) -> (tensor<3x16xf32>, tensor<3x16xf16>, tensor<3x16xf32>) {
  %0 = tfm.linear %x, %w : (tensor<3x8xf32>, tensor<16x8xf32>) -> tensor<3x16xf32>
  %wh = tfm.weight "half.weight" : tensor<16x8xf16>
  %1 = tfm.linear %h, %wh : (tensor<3x8xf16>, tensor<16x8xf16>) -> tensor<3x16xf16>
  %2 = tfm.linear %x, %p {weight_panels} : (tensor<3x8xf32>, tensor<1x8x16xf32>) -> tensor<3x16xf32>
  return %0, %1, %2 : tensor<3x16xf32>, tensor<3x16xf16>, tensor<3x16xf32>
}
