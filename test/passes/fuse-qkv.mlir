// RUN: kiln-opt %s --split-input-file --tfm-fuse-qkv | FileCheck %s

// BERT's self-attention: three projections of one input, each weight read
// next to its layer. The weights move up and join one GEMM; each projection
// is a slice of its output.
// CHECK-LABEL: func.func @qkv
// CHECK-DAG:     %[[WQ:.+]] = tfm.weight "q.weight"
// CHECK-DAG:     %[[WK:.+]] = tfm.weight "k.weight"
// CHECK-DAG:     %[[WV:.+]] = tfm.weight "v.weight"
// CHECK-DAG:     %[[BQ:.+]] = tfm.weight "q.bias"
// CHECK-DAG:     %[[BK:.+]] = tfm.weight "k.bias"
// CHECK-DAG:     %[[BV:.+]] = tfm.weight "v.bias"
// CHECK:         %[[W:.+]] = tfm.concat %[[WQ]], %[[WK]], %[[WV]] {axis = 0 : i64} : (tensor<8x8xf32>, tensor<8x8xf32>, tensor<6x8xf32>) -> tensor<22x8xf32>
// CHECK:         %[[B:.+]] = tfm.concat %[[BQ]], %[[BK]], %[[BV]] {axis = 0 : i64} : (tensor<8xf32>, tensor<8xf32>, tensor<6xf32>) -> tensor<22xf32>
// CHECK:         %[[Y:.+]] = tfm.linear %arg0, %[[W]], %[[B]] : (tensor<1x4x8xf32>, tensor<22x8xf32>, tensor<22xf32>) -> tensor<1x4x22xf32>
// CHECK:         %[[Q:.+]] = tfm.slice %[[Y]] offsets = [0, 0, 0] strides = [1, 1, 1] : tensor<1x4x22xf32> -> tensor<1x4x8xf32>
// CHECK:         %[[K:.+]] = tfm.slice %[[Y]] offsets = [0, 0, 8] strides = [1, 1, 1] : tensor<1x4x22xf32> -> tensor<1x4x8xf32>
// CHECK:         %[[V:.+]] = tfm.slice %[[Y]] offsets = [0, 0, 16] strides = [1, 1, 1] : tensor<1x4x22xf32> -> tensor<1x4x6xf32>
// CHECK:         return %[[Q]], %[[K]], %[[V]]
func.func @qkv(%x: tensor<1x4x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x6xf32>) {
  %wq = tfm.weight "q.weight" : tensor<8x8xf32>
  %bq = tfm.weight "q.bias" : tensor<8xf32>
  %q = tfm.linear %x, %wq, %bq : (tensor<1x4x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  %wk = tfm.weight "k.weight" : tensor<8x8xf32>
  %bk = tfm.weight "k.bias" : tensor<8xf32>
  %k = tfm.linear %x, %wk, %bk : (tensor<1x4x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  %wv = tfm.weight "v.weight" : tensor<6x8xf32>
  %bv = tfm.weight "v.bias" : tensor<6xf32>
  %v = tfm.linear %x, %wv, %bv : (tensor<1x4x8xf32>, tensor<6x8xf32>, tensor<6xf32>) -> tensor<1x4x6xf32>
  return %q, %k, %v : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x6xf32>
}

// -----

// [in, out] weights concatenate along the output axis 1; no bias.
// CHECK-LABEL: func.func @in_out
// CHECK:         %[[W:.+]] = tfm.concat %arg1, %arg2 {axis = 1 : i64} : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<8x8xf32>
// CHECK:         tfm.linear %arg0, %[[W]] {weight_in_out} : (tensor<3x8xf32>, tensor<8x8xf32>) -> tensor<3x8xf32>
// CHECK-COUNT-2: tfm.slice
func.func @in_out(%x: tensor<3x8xf32>, %a: tensor<8x4xf32>, %b: tensor<8x4xf32>) -> (tensor<3x4xf32>, tensor<3x4xf32>) {
  %0 = tfm.linear %x, %a {weight_in_out} : (tensor<3x8xf32>, tensor<8x4xf32>) -> tensor<3x4xf32>
  %1 = tfm.linear %x, %b {weight_in_out} : (tensor<3x8xf32>, tensor<8x4xf32>) -> tensor<3x4xf32>
  return %0, %1 : tensor<3x4xf32>, tensor<3x4xf32>
}

// -----

// Negative: different inputs, a lone linear, mixed layouts, bias on only
// one, and an activation keep their own GEMMs.
// CHECK-LABEL: func.func @not_fused
// CHECK-NOT:     tfm.concat
// CHECK-COUNT-6: tfm.linear
// CHECK-NOT:     tfm.slice
func.func @not_fused(%x: tensor<3x8xf32>, %y: tensor<3x8xf32>, %w: tensor<4x8xf32>, %wt: tensor<8x4xf32>, %b: tensor<4xf32>) -> (tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>) {
  %0 = tfm.linear %x, %w : (tensor<3x8xf32>, tensor<4x8xf32>) -> tensor<3x4xf32>
  %1 = tfm.linear %y, %w, %b : (tensor<3x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %2 = tfm.linear %x, %wt {weight_in_out} : (tensor<3x8xf32>, tensor<8x4xf32>) -> tensor<3x4xf32>
  %3 = tfm.linear %x, %w, %b : (tensor<3x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %4 = tfm.linear %x, %w {activation = #tfm.activation<relu>} : (tensor<3x8xf32>, tensor<4x8xf32>) -> tensor<3x4xf32>
  %5 = tfm.linear %y, %wt {weight_in_out, activation = #tfm.activation<gelu>} : (tensor<3x8xf32>, tensor<8x4xf32>) -> tensor<3x4xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>
}

// -----

// Negative: a weight computed from an earlier projection's result cannot
// move above it.
// CHECK-LABEL: func.func @dependent_weight
// CHECK-NOT:     tfm.concat
func.func @dependent_weight(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %0 = tfm.linear %x, %w : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %1 = tfm.linear %x, %0 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %0, %1 : tensor<4x4xf32>, tensor<4x4xf32>
}
