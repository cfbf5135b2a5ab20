// RUN: kiln-opt %s --split-input-file --convert-tfm-to-linalg | FileCheck %s

// tfm.constant, tfm.linear and tfm.matmul: contractions become named linalg
// ops whose indexing maps hold the transposes.

// CHECK-LABEL: func.func @constant
// CHECK:         %[[C:.+]] = arith.constant dense<[0, 1, 2]> : tensor<3xi64>
// CHECK:         return %[[C]]
func.func @constant() -> tensor<3xi64> {
  %0 = tfm.constant dense<[0, 1, 2]> : tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

// x [2, 5, 8] is flattened to [10, 8]; W [16, 8] is read transposed through
// the maps (no copy); the bias, broadcast over rows, is the initial
// accumulator.
// CHECK-DAG:   #[[LHS:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG:   #[[RHS:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG:   #[[OUT:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @linear_bias
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5x8xf32>, %[[W:.+]]: tensor<16x8xf32>, %[[B:.+]]: tensor<16xf32>)
// CHECK:         %[[X2:.+]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<2x5x8xf32> into tensor<10x8xf32>
// CHECK:         %[[EMPTY:.+]] = tensor.empty() : tensor<10x16xf32>
// CHECK:         %[[INIT:.+]] = linalg.broadcast ins(%[[B]] : tensor<16xf32>) outs(%[[EMPTY]] : tensor<10x16xf32>) dimensions = [0]
// CHECK:         %[[MM:.+]] = linalg.matmul indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]] ins(%[[X2]], %[[W]] : tensor<10x8xf32>, tensor<16x8xf32>) outs(%[[INIT]] : tensor<10x16xf32>)
// CHECK:         %[[Y:.+]] = tensor.expand_shape %[[MM]] {{\[\[}}0, 1], [2]] output_shape [2, 5, 16] : tensor<10x16xf32> into tensor<2x5x16xf32>
// CHECK:         return %[[Y]]
func.func @linear_bias(%x: tensor<2x5x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>) -> tensor<2x5x16xf32> {
  %0 = tfm.linear %x, %w, %b : (tensor<2x5x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<2x5x16xf32>
  return %0 : tensor<2x5x16xf32>
}

// -----

// Without bias the accumulator starts at zero; a 2-D input needs no reshape.
// CHECK-DAG:   #[[LHS:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG:   #[[RHS:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG:   #[[OUT:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @linear_no_bias
// CHECK-SAME:    (%[[X:.+]]: tensor<4x8xf16>, %[[W:.+]]: tensor<16x8xf16>)
// CHECK-NOT:     tensor.collapse_shape
// CHECK:         %[[ZERO:.+]] = arith.constant 0.000000e+00 : f16
// CHECK:         %[[EMPTY:.+]] = tensor.empty() : tensor<4x16xf16>
// CHECK:         %[[INIT:.+]] = linalg.fill ins(%[[ZERO]] : f16) outs(%[[EMPTY]] : tensor<4x16xf16>)
// CHECK:         %[[MM:.+]] = linalg.matmul indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]] ins(%[[X]], %[[W]] : tensor<4x8xf16>, tensor<16x8xf16>) outs(%[[INIT]] : tensor<4x16xf16>)
// CHECK-NOT:     tensor.expand_shape
// CHECK:         return %[[MM]]
func.func @linear_no_bias(%x: tensor<4x8xf16>, %w: tensor<16x8xf16>) -> tensor<4x16xf16> {
  %0 = tfm.linear %x, %w : (tensor<4x8xf16>, tensor<16x8xf16>) -> tensor<4x16xf16>
  return %0 : tensor<4x16xf16>
}

// -----

// A rank-1 input is a single row.
// CHECK-LABEL: func.func @linear_vector
// CHECK-SAME:    (%[[X:.+]]: tensor<8xf32>,
// CHECK:         %[[ROW:.+]] = tensor.expand_shape %[[X]] {{\[\[}}0, 1]] output_shape [1, 8] : tensor<8xf32> into tensor<1x8xf32>
// CHECK:         %[[MM:.+]] = linalg.matmul {{.*}}ins(%[[ROW]], %{{.+}} : tensor<1x8xf32>, tensor<3x8xf32>)
// CHECK:         %[[Y:.+]] = tensor.collapse_shape %[[MM]] {{\[\[}}0, 1]] : tensor<1x3xf32> into tensor<3xf32>
// CHECK:         return %[[Y]]
func.func @linear_vector(%x: tensor<8xf32>, %w: tensor<3x8xf32>) -> tensor<3xf32> {
  %0 = tfm.linear %x, %w : (tensor<8xf32>, tensor<3x8xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// The activation is a pointwise generic on the accumulator, before the
// result is reshaped back.
// CHECK-LABEL: func.func @linear_activation
// CHECK:         %[[MM:.+]] = linalg.matmul
// CHECK:         %[[ACT:.+]] = linalg.generic {{.+}} ins(%[[MM]] : tensor<10x16xf32>)
// CHECK:           math.erf
// CHECK:         tensor.expand_shape %[[ACT]]
func.func @linear_activation(%x: tensor<2x5x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>) -> tensor<2x5x16xf32> {
  %0 = tfm.linear %x, %w, %b {activation = #tfm.activation<gelu>} : (tensor<2x5x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<2x5x16xf32>
  return %0 : tensor<2x5x16xf32>
}

// -----

// Without transposes the default maps are used and not printed.
// CHECK-LABEL: func.func @matmul
// CHECK-SAME:    (%[[A:.+]]: tensor<4x8xf32>, %[[B:.+]]: tensor<8x16xf32>)
// CHECK:         %[[INIT:.+]] = linalg.fill
// CHECK:         %[[MM:.+]] = linalg.matmul ins(%[[A]], %[[B]] : tensor<4x8xf32>, tensor<8x16xf32>) outs(%[[INIT]] : tensor<4x16xf32>)
// CHECK:         return %[[MM]]
func.func @matmul(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %0 = tfm.matmul %a, %b : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// Over (m, n, k): transpose_lhs reads A[k, m], transpose_rhs reads B[n, k].
// CHECK-DAG:   #[[LT:.+]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG:   #[[L:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG:   #[[RT:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG:   #[[R:.+]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG:   #[[OUT:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @matmul_transposes
// CHECK-SAME:    (%[[AT:.+]]: tensor<8x4xf32>, %[[A:.+]]: tensor<4x8xf32>, %[[B:.+]]: tensor<8x16xf32>, %[[BT:.+]]: tensor<16x8xf32>)
// CHECK:         linalg.matmul indexing_maps = [#[[LT]], #[[R]], #[[OUT]]] ins(%[[AT]], %[[B]] : tensor<8x4xf32>, tensor<8x16xf32>)
// CHECK:         linalg.matmul indexing_maps = [#[[L]], #[[RT]], #[[OUT]]] ins(%[[A]], %[[BT]] : tensor<4x8xf32>, tensor<16x8xf32>)
// CHECK:         linalg.matmul indexing_maps = [#[[LT]], #[[RT]], #[[OUT]]] ins(%[[AT]], %[[BT]] : tensor<8x4xf32>, tensor<16x8xf32>)
func.func @matmul_transposes(%at: tensor<8x4xf32>, %a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %bt: tensor<16x8xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) {
  %0 = tfm.matmul %at, %b {transpose_lhs} : (tensor<8x4xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %1 = tfm.matmul %a, %bt {transpose_rhs} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %2 = tfm.matmul %at, %bt {transpose_lhs, transpose_rhs} : (tensor<8x4xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  return %0, %1, %2 : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Batch axes are collapsed into one for linalg.batch_matmul and expanded
// again; Q·Kᵀ reads K[b, n, k].
// CHECK-DAG:   #[[Q:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG:   #[[K:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK-DAG:   #[[S:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @batch_matmul
// CHECK-SAME:    (%[[Q4:.+]]: tensor<2x4x7x16xf32>, %[[K4:.+]]: tensor<2x4x9x16xf32>)
// CHECK:         %[[Q3:.+]] = tensor.collapse_shape %[[Q4]] {{\[\[}}0, 1], [2], [3]] : tensor<2x4x7x16xf32> into tensor<8x7x16xf32>
// CHECK:         %[[K3:.+]] = tensor.collapse_shape %[[K4]] {{\[\[}}0, 1], [2], [3]] : tensor<2x4x9x16xf32> into tensor<8x9x16xf32>
// CHECK:         %[[INIT:.+]] = linalg.fill {{.+}} -> tensor<8x7x9xf32>
// CHECK:         %[[BMM:.+]] = linalg.batch_matmul indexing_maps = [#[[Q]], #[[K]], #[[S]]] ins(%[[Q3]], %[[K3]] : tensor<8x7x16xf32>, tensor<8x9x16xf32>) outs(%[[INIT]] : tensor<8x7x9xf32>)
// CHECK:         %[[R:.+]] = tensor.expand_shape %[[BMM]] {{\[\[}}0, 1], [2], [3]] output_shape [2, 4, 7, 9] : tensor<8x7x9xf32> into tensor<2x4x7x9xf32>
// CHECK:         return %[[R]]
func.func @batch_matmul(%q: tensor<2x4x7x16xf32>, %k: tensor<2x4x9x16xf32>) -> tensor<2x4x7x9xf32> {
  %0 = tfm.matmul %q, %k {transpose_rhs} : (tensor<2x4x7x16xf32>, tensor<2x4x9x16xf32>) -> tensor<2x4x7x9xf32>
  return %0 : tensor<2x4x7x9xf32>
}

// -----

// With one batch axis nothing is reshaped; transpose_lhs reads A[b, k, m].
// CHECK-DAG:   #[[LT:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1)>
// CHECK-DAG:   #[[R:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG:   #[[OUT:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @batch_matmul_transpose_lhs
// CHECK-SAME:    (%[[A:.+]]: tensor<3x7x16xf32>, %[[B:.+]]: tensor<3x7x5xf32>)
// CHECK-NOT:     tensor.collapse_shape
// CHECK:         %[[BMM:.+]] = linalg.batch_matmul indexing_maps = [#[[LT]], #[[R]], #[[OUT]]] ins(%[[A]], %[[B]] : tensor<3x7x16xf32>, tensor<3x7x5xf32>)
// CHECK-NOT:     tensor.expand_shape
// CHECK:         return %[[BMM]]
func.func @batch_matmul_transpose_lhs(%a: tensor<3x7x16xf32>, %b: tensor<3x7x5xf32>) -> tensor<3x16x5xf32> {
  %0 = tfm.matmul %a, %b {transpose_lhs} : (tensor<3x7x16xf32>, tensor<3x7x5xf32>) -> tensor<3x16x5xf32>
  return %0 : tensor<3x16x5xf32>
}

// -----

// Size-1 batch axes are stretched by a copying generic whose input map reads
// index 0 on that axis; then the batch axes are collapsed as usual.
// CHECK-DAG:   #[[LB:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
// CHECK-DAG:   #[[RB:.+]] = affine_map<(d0, d1, d2, d3) -> (0, d1, d2, d3)>
// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @batch_matmul_broadcast
// CHECK-SAME:    (%[[A:.+]]: tensor<2x1x7x16xf64>, %[[B:.+]]: tensor<1x4x16x3xf64>)
// CHECK:         %[[AF:.+]] = linalg.generic {indexing_maps = [#[[LB]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[A]] : tensor<2x1x7x16xf64>) outs(%{{.+}} : tensor<2x4x7x16xf64>)
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: f64, %{{.+}}: f64):
// CHECK-NEXT:      linalg.yield %[[IN]] : f64
// CHECK:         %[[A3:.+]] = tensor.collapse_shape %[[AF]] {{\[\[}}0, 1], [2], [3]] : tensor<2x4x7x16xf64> into tensor<8x7x16xf64>
// CHECK:         %[[BF:.+]] = linalg.generic {indexing_maps = [#[[RB]], #[[ID]]], {{.+}} ins(%[[B]] : tensor<1x4x16x3xf64>) outs(%{{.+}} : tensor<2x4x16x3xf64>)
// CHECK:         %[[B3:.+]] = tensor.collapse_shape %[[BF]] {{\[\[}}0, 1], [2], [3]] : tensor<2x4x16x3xf64> into tensor<8x16x3xf64>
// CHECK:         %[[BMM:.+]] = linalg.batch_matmul ins(%[[A3]], %[[B3]] : tensor<8x7x16xf64>, tensor<8x16x3xf64>)
// CHECK:         tensor.expand_shape %[[BMM]] {{\[\[}}0, 1], [2], [3]] output_shape [2, 4, 7, 3]
func.func @batch_matmul_broadcast(%a: tensor<2x1x7x16xf64>, %b: tensor<1x4x16x3xf64>) -> tensor<2x4x7x3xf64> {
  %0 = tfm.matmul %a, %b : (tensor<2x1x7x16xf64>, tensor<1x4x16x3xf64>) -> tensor<2x4x7x3xf64>
  return %0 : tensor<2x4x7x3xf64>
}

// -----

// A linear layer on panels: one generic whose B map reads panel n floordiv
// 16, column n mod 16, accumulating onto the broadcast bias.
// CHECK-DAG:   #[[PANELS:.+]] = affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2, d1 mod 16)>
// CHECK-LABEL: func.func @linear_panels
// CHECK:         %[[BIAS:.+]] = linalg.broadcast ins(%arg2 : tensor<20xf32>)
// CHECK:         linalg.generic {indexing_maps = [#{{.+}}, #[[PANELS]], #{{.+}}], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME:      ins(%arg0, %arg1 : tensor<3x8xf32>, tensor<2x8x16xf32>) outs(%[[BIAS]] : tensor<3x20xf32>)
// CHECK:           arith.mulf
// CHECK:           arith.addf
func.func @linear_panels(%x: tensor<3x8xf32>, %p: tensor<2x8x16xf32>, %b: tensor<20xf32>) -> tensor<3x20xf32> {
  %0 = tfm.linear %x, %p, %b {weight_panels} : (tensor<3x8xf32>, tensor<2x8x16xf32>, tensor<20xf32>) -> tensor<3x20xf32>
  return %0 : tensor<3x20xf32>
}

// -----

// Packing: B = Wᵀ, zero columns up to 2 · 16, split and transposed.
// CHECK-LABEL: func.func @pack_panels
// CHECK:         %[[B:.+]] = linalg.transpose ins(%arg0 : tensor<20x8xf32>) {{.*}} permutation = [1, 0]
// CHECK:         %[[PAD:.+]] = tensor.pad %[[B]] low[0, 0] high[0, 12]
// CHECK:         %[[SPLIT:.+]] = tensor.expand_shape %[[PAD]] {{\[}}[0], [1, 2]] output_shape [8, 2, 16]
// CHECK:         linalg.transpose ins(%[[SPLIT]] : tensor<8x2x16xf32>) {{.*}} permutation = [1, 0, 2]
// CHECK-LABEL: func.func @pack_panels_in_out
// CHECK-NOT:     tensor.pad
// CHECK:         tensor.expand_shape %arg0
func.func @pack_panels(%w: tensor<20x8xf32>) -> tensor<2x8x16xf32> {
  %p = tfm.pack_panels %w : tensor<20x8xf32> -> tensor<2x8x16xf32>
  return %p : tensor<2x8x16xf32>
}
func.func @pack_panels_in_out(%w: tensor<8x32xf32>) -> tensor<2x8x16xf32> {
  %p = tfm.pack_panels %w {in_out} : tensor<8x32xf32> -> tensor<2x8x16xf32>
  return %p : tensor<2x8x16xf32>
}
