// RUN: kiln-opt %s --split-input-file --convert-tfm-to-linalg | FileCheck %s

// Shape ops become tensor ops (reshape, transpose, slice, concat) or a
// generic that reads with tensor.extract at clamped indices (gather,
// embedding).

// Splitting or merging axes is one expand/collapse; a regrouping without a
// direct reassociation goes through the flat vector.
// CHECK-LABEL: func.func @reshape
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5x8xf32>, %[[Y:.+]]: tensor<6x4xf32>, %[[S:.+]]: tensor<1xi64>)
// CHECK:         %[[SPLIT:.+]] = tensor.expand_shape %[[X]] {{\[}}[0], [1], [2, 3]] output_shape [2, 5, 2, 4] : tensor<2x5x8xf32> into tensor<2x5x2x4xf32>
// CHECK:         %[[MERGE:.+]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<2x5x8xf32> into tensor<10x8xf32>
// CHECK:         %[[FLAT:.+]] = tensor.collapse_shape %[[Y]] {{\[\[}}0, 1]] : tensor<6x4xf32> into tensor<24xf32>
// CHECK:         %[[REGROUP:.+]] = tensor.expand_shape %[[FLAT]] {{\[\[}}0, 1]] output_shape [4, 6] : tensor<24xf32> into tensor<4x6xf32>
// CHECK:         %[[SCALAR:.+]] = tensor.collapse_shape %[[S]] [] : tensor<1xi64> into tensor<i64>
// CHECK:         return %[[SPLIT]], %[[MERGE]], %[[REGROUP]], %[[SCALAR]]
func.func @reshape(%x: tensor<2x5x8xf32>, %y: tensor<6x4xf32>, %s: tensor<1xi64>) -> (tensor<2x5x2x4xf32>, tensor<10x8xf32>, tensor<4x6xf32>, tensor<i64>) {
  %0 = tfm.reshape %x : tensor<2x5x8xf32> -> tensor<2x5x2x4xf32>
  %1 = tfm.reshape %x : tensor<2x5x8xf32> -> tensor<10x8xf32>
  %2 = tfm.reshape %y : tensor<6x4xf32> -> tensor<4x6xf32>
  %3 = tfm.reshape %s : tensor<1xi64> -> tensor<i64>
  return %0, %1, %2, %3 : tensor<2x5x2x4xf32>, tensor<10x8xf32>, tensor<4x6xf32>, tensor<i64>
}

// -----

// CHECK-LABEL: func.func @transpose
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5x2x4xf32>)
// CHECK:         %[[EMPTY:.+]] = tensor.empty() : tensor<2x2x5x4xf32>
// CHECK:         %[[T:.+]] = linalg.transpose ins(%[[X]] : tensor<2x5x2x4xf32>) outs(%[[EMPTY]] : tensor<2x2x5x4xf32>) permutation = [0, 2, 1, 3]
// CHECK:         return %[[T]]
func.func @transpose(%x: tensor<2x5x2x4xf32>) -> tensor<2x2x5x4xf32> {
  %0 = tfm.transpose %x [0, 2, 1, 3] : tensor<2x5x2x4xf32> -> tensor<2x2x5x4xf32>
  return %0 : tensor<2x2x5x4xf32>
}

// -----

// Offsets, sizes (from the result type) and strides carry over.
// CHECK-LABEL: func.func @slice
// CHECK-SAME:    (%[[X:.+]]: tensor<2x7x8xf32>)
// CHECK:         %[[S:.+]] = tensor.extract_slice %[[X]][1, 0, 3] [1, 4, 2] [1, 2, 4] : tensor<2x7x8xf32> to tensor<1x4x2xf32>
// CHECK:         return %[[S]]
func.func @slice(%x: tensor<2x7x8xf32>) -> tensor<1x4x2xf32> {
  %0 = tfm.slice %x offsets = [1, 0, 3] strides = [1, 2, 4] : tensor<2x7x8xf32> -> tensor<1x4x2xf32>
  return %0 : tensor<1x4x2xf32>
}

// -----

// Each input is inserted at the running offset along the (normalized) axis.
// CHECK-LABEL: func.func @concat
// CHECK-SAME:    (%[[A:.+]]: tensor<2x3x8xf32>, %[[B:.+]]: tensor<2x4x8xf32>)
// CHECK:         %[[EMPTY:.+]] = tensor.empty() : tensor<2x10x8xf32>
// CHECK:         %[[I0:.+]] = tensor.insert_slice %[[A]] into %[[EMPTY]][0, 0, 0] [2, 3, 8] [1, 1, 1] : tensor<2x3x8xf32> into tensor<2x10x8xf32>
// CHECK:         %[[I1:.+]] = tensor.insert_slice %[[B]] into %[[I0]][0, 3, 0] [2, 4, 8] [1, 1, 1] : tensor<2x4x8xf32> into tensor<2x10x8xf32>
// CHECK:         %[[I2:.+]] = tensor.insert_slice %[[A]] into %[[I1]][0, 7, 0] [2, 3, 8] [1, 1, 1] : tensor<2x3x8xf32> into tensor<2x10x8xf32>
// CHECK:         return %[[I2]]
func.func @concat(%a: tensor<2x3x8xf32>, %b: tensor<2x4x8xf32>) -> tensor<2x10x8xf32> {
  %0 = tfm.concat %a, %b, %a {axis = -2} : (tensor<2x3x8xf32>, tensor<2x4x8xf32>, tensor<2x3x8xf32>) -> tensor<2x10x8xf32>
  return %0 : tensor<2x10x8xf32>
}

// -----

// result[a, i, j, b] = x[a, clamp(idx[i, j], 0, 9), b]: the generic iterates
// over the result, reads the index through its map and the data with
// tensor.extract.
// CHECK-DAG:   #[[IDX:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d2)>
// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @gather
// CHECK-SAME:    (%[[X:.+]]: tensor<4x10x8xf32>, %[[I:.+]]: tensor<2x3xi64>)
// CHECK:         %[[EMPTY:.+]] = tensor.empty() : tensor<4x2x3x8xf32>
// CHECK:         %[[G:.+]] = linalg.generic {indexing_maps = [#[[IDX]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[I]] : tensor<2x3xi64>) outs(%[[EMPTY]] : tensor<4x2x3x8xf32>)
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: i64, %{{.+}}: f32):
// CHECK-NEXT:      %[[RAW:.+]] = arith.index_cast %[[IN]] : i64 to index
// CHECK-NEXT:      %[[C0:.+]] = arith.constant 0 : index
// CHECK-NEXT:      %[[LO:.+]] = arith.maxsi %[[RAW]], %[[C0]] : index
// CHECK-NEXT:      %[[C9:.+]] = arith.constant 9 : index
// CHECK-NEXT:      %[[ROW:.+]] = arith.minsi %[[LO]], %[[C9]] : index
// CHECK-NEXT:      %[[A:.+]] = linalg.index 0 : index
// CHECK-NEXT:      %[[B:.+]] = linalg.index 3 : index
// CHECK-NEXT:      %[[E:.+]] = tensor.extract %[[X]][%[[A]], %[[ROW]], %[[B]]] : tensor<4x10x8xf32>
// CHECK-NEXT:      linalg.yield %[[E]] : f32
// CHECK:         return %[[G]]
func.func @gather(%x: tensor<4x10x8xf32>, %i: tensor<2x3xi64>) -> tensor<4x2x3x8xf32> {
  %0 = tfm.gather %x[%i] {axis = 1} : (tensor<4x10x8xf32>, tensor<2x3xi64>) -> tensor<4x2x3x8xf32>
  return %0 : tensor<4x2x3x8xf32>
}

// -----

// A rank-0 index on the last axis (axis = -1) removes that axis.
// CHECK-DAG:   #[[IDX:.+]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func.func @gather_scalar_index
// CHECK-SAME:    (%[[X:.+]]: tensor<4x10xi32>, %[[I:.+]]: tensor<i32>)
// CHECK:         linalg.generic {indexing_maps = [#[[IDX]], #{{.+}}], iterator_types = ["parallel"]} ins(%[[I]] : tensor<i32>) outs(%{{.+}} : tensor<4xi32>)
// CHECK:           arith.index_cast %{{.+}} : i32 to index
// CHECK:           arith.maxsi
// CHECK:           %[[C9:.+]] = arith.constant 9 : index
// CHECK:           %[[ROW:.+]] = arith.minsi %{{.+}}, %[[C9]] : index
// CHECK:           %[[A:.+]] = linalg.index 0 : index
// CHECK:           tensor.extract %[[X]][%[[A]], %[[ROW]]] : tensor<4x10xi32>
func.func @gather_scalar_index(%x: tensor<4x10xi32>, %i: tensor<i32>) -> tensor<4xi32> {
  %0 = tfm.gather %x[%i] {axis = -1} : (tensor<4x10xi32>, tensor<i32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// Embedding is a gather on axis 0 of the table: ids are clamped to [0, V-1].
// CHECK-DAG:   #[[IDS:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @embedding
// CHECK-SAME:    (%[[T:.+]]: tensor<50x16xf32>, %[[IDX:.+]]: tensor<2x7xi32>)
// CHECK:         %[[E:.+]] = linalg.generic {indexing_maps = [#[[IDS]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[IDX]] : tensor<2x7xi32>) outs(%{{.+}} : tensor<2x7x16xf32>)
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: i32, %{{.+}}: f32):
// CHECK-NEXT:      %[[RAW:.+]] = arith.index_cast %[[IN]] : i32 to index
// CHECK-NEXT:      %[[C0:.+]] = arith.constant 0 : index
// CHECK-NEXT:      %[[LO:.+]] = arith.maxsi %[[RAW]], %[[C0]] : index
// CHECK-NEXT:      %[[C49:.+]] = arith.constant 49 : index
// CHECK-NEXT:      %[[ROW:.+]] = arith.minsi %[[LO]], %[[C49]] : index
// CHECK-NEXT:      %[[COL:.+]] = linalg.index 2 : index
// CHECK-NEXT:      %[[V:.+]] = tensor.extract %[[T]][%[[ROW]], %[[COL]]] : tensor<50x16xf32>
// CHECK-NEXT:      linalg.yield %[[V]] : f32
// CHECK:         return %[[E]]
func.func @embedding(%t: tensor<50x16xf32>, %ids: tensor<2x7xi32>) -> tensor<2x7x16xf32> {
  %0 = tfm.embedding %t[%ids] : (tensor<50x16xf32>, tensor<2x7xi32>) -> tensor<2x7x16xf32>
  return %0 : tensor<2x7x16xf32>
}
