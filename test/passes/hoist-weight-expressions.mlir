// RUN: kiln-opt %s --split-input-file --tfm-hoist-weight-expressions | FileCheck %s

// Packing and concatenation of checkpoint tensors move to prepare_weights;
// two entries packing the same weight share one derived weight, named by
// its expression. Views (reshape) and the layer itself stay.
// CHECK-LABEL: func.func @prefill
// CHECK:         %[[P:.+]] = tfm.weight "pack_panels[width=16](concat[axis=0](q.weight,k.weight))" : tensor<1x8x16xf32>
// CHECK:         tfm.linear %arg0, %[[P]] {weight_panels}
// CHECK:         tfm.weight "pack_panels[width=16,in_out](fc.weight)" : tensor<1x8x16xf32>
// CHECK-NOT:     tfm.concat
// CHECK-LABEL: func.func @decode
// CHECK:         tfm.weight "pack_panels[width=16](concat[axis=0](q.weight,k.weight))" : tensor<1x8x16xf32>
// CHECK:         %[[R:.+]] = tfm.reshape
// CHECK-LABEL: func.func @prepare_weights()
// CHECK-SAME:    -> (tensor<1x8x16xf32> {tfm.name = "pack_panels[width=16](concat[axis=0](q.weight,k.weight))"}, tensor<1x8x16xf32> {tfm.name = "pack_panels[width=16,in_out](fc.weight)"})
// CHECK-DAG:     %[[Q:.+]] = tfm.weight "q.weight"
// CHECK-DAG:     %[[K:.+]] = tfm.weight "k.weight"
// CHECK:         %[[CAT:.+]] = tfm.concat %[[Q]], %[[K]]
// CHECK:         %[[P1:.+]] = tfm.pack_panels %[[CAT]]
// CHECK:         %[[FC:.+]] = tfm.weight "fc.weight"
// CHECK:         %[[P2:.+]] = tfm.pack_panels %[[FC]] {in_out}
// CHECK:         return %[[P1]], %[[P2]]
func.func @prefill(%x: tensor<3x8xf32>) -> (tensor<3x16xf32>, tensor<3x16xf32>) {
  %q = tfm.weight "q.weight" : tensor<8x8xf32>
  %k = tfm.weight "k.weight" : tensor<8x8xf32>
  %w = tfm.concat %q, %k {axis = 0 : i64} : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<16x8xf32>
  %p = tfm.pack_panels %w : tensor<16x8xf32> -> tensor<1x8x16xf32>
  %0 = tfm.linear %x, %p {weight_panels} : (tensor<3x8xf32>, tensor<1x8x16xf32>) -> tensor<3x16xf32>
  %fc = tfm.weight "fc.weight" : tensor<8x16xf32>
  %pf = tfm.pack_panels %fc {in_out} : tensor<8x16xf32> -> tensor<1x8x16xf32>
  %1 = tfm.linear %x, %pf {weight_panels} : (tensor<3x8xf32>, tensor<1x8x16xf32>) -> tensor<3x16xf32>
  return %0, %1 : tensor<3x16xf32>, tensor<3x16xf32>
}
func.func @decode(%x: tensor<1x8xf32>) -> (tensor<1x16xf32>, tensor<4x4xf32>) {
  %q = tfm.weight "q.weight" : tensor<8x8xf32>
  %k = tfm.weight "k.weight" : tensor<8x8xf32>
  %w = tfm.concat %q, %k {axis = 0 : i64} : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<16x8xf32>
  %p = tfm.pack_panels %w : tensor<16x8xf32> -> tensor<1x8x16xf32>
  %0 = tfm.linear %x, %p {weight_panels} : (tensor<1x8xf32>, tensor<1x8x16xf32>) -> tensor<1x16xf32>
  %r = tfm.reshape %q : tensor<8x8xf32> -> tensor<4x16xf32>
  %s = tfm.slice %r offsets = [0, 0] strides = [1, 1] : tensor<4x16xf32> -> tensor<4x4xf32>
  return %0, %s : tensor<1x16xf32>, tensor<4x4xf32>
}

// -----

// Negative: expressions that read an argument are not weight-only, and a
// module without weight expressions gets no prepare_weights.
// CHECK-LABEL: func.func @runtime_data
// CHECK:         tfm.concat
// CHECK:         tfm.pack_panels
// CHECK-NOT:     func.func @prepare_weights
func.func @runtime_data(%x: tensor<3x8xf32>, %a: tensor<8x8xf32>) -> tensor<3x16xf32> {
  %k = tfm.weight "k.weight" : tensor<8x8xf32>
  %w = tfm.concat %a, %k {axis = 0 : i64} : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<16x8xf32>
  %p = tfm.pack_panels %w : tensor<16x8xf32> -> tensor<1x8x16xf32>
  %0 = tfm.linear %x, %p {weight_panels} : (tensor<3x8xf32>, tensor<1x8x16xf32>) -> tensor<3x16xf32>
  return %0 : tensor<3x16xf32>
}

// -----

// A relative position bias gathered from its table by constant indices
// (Swin): the constant is named by its type and a hash of its bytes, not
// its values; the same indices give the same name.
// CHECK-LABEL: func.func @relative_bias
// CHECK:         tfm.weight "transpose[permutation=1x0](gather[axis=0](table,constant[tensor<4xi64>,xxh3=[[HASH:[0-9A-F]+]]]()))" : tensor<2x4xf32>
// CHECK:         tfm.weight "transpose[permutation=1x0](gather[axis=0](table,constant[tensor<4xi64>,xxh3=[[HASH]]]()))" : tensor<2x4xf32>
// CHECK-NOT:     dense<
// CHECK-LABEL: func.func @prepare_weights()
func.func @relative_bias() -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %table = tfm.weight "table" : tensor<9x2xf32>
  %index = tfm.constant dense<[4, 3, 1, 0]> : tensor<4xi64>
  %rows = tfm.gather %table[%index] {axis = 0 : i64} : (tensor<9x2xf32>, tensor<4xi64>) -> tensor<4x2xf32>
  %bias = tfm.transpose %rows [1, 0] : tensor<4x2xf32> -> tensor<2x4xf32>
  %again = tfm.constant dense<[4, 3, 1, 0]> : tensor<4xi64>
  %rows2 = tfm.gather %table[%again] {axis = 0 : i64} : (tensor<9x2xf32>, tensor<4xi64>) -> tensor<4x2xf32>
  %bias2 = tfm.transpose %rows2 [1, 0] : tensor<4x2xf32> -> tensor<2x4xf32>
  return %bias, %bias2 : tensor<2x4xf32>, tensor<2x4xf32>
}
