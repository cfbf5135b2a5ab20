// RUN: kiln-opt %s --split-input-file --convert-tfm-to-linalg | FileCheck %s

// Normalizations: reductions over the last axis (linalg.generic with a
// reduction iterator), then one pointwise generic with math.rsqrt.

// mean = sum(x) / D; var = sum((x - mean)²) / D (two passes, as the
// reference); y = (x - mean) · rsqrt(var + ε) · γ + β.
// CHECK-DAG:   #[[ID3:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG:   #[[ROW:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG:   #[[KEEP:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
// CHECK-DAG:   #[[LAST:.+]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5x8xf32>, %[[G:.+]]: tensor<8xf32>, %[[B:.+]]: tensor<8xf32>)
// CHECK:         %[[Z0:.+]] = linalg.fill {{.+}} -> tensor<2x5xf32>
// CHECK:         %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[ID3]], #[[ROW]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<2x5x8xf32>) outs(%[[Z0]] : tensor<2x5xf32>)
// CHECK:           arith.addf
// CHECK:         %[[MEAN:.+]] = linalg.generic {{.+}} ins(%[[SUM]] : tensor<2x5xf32>)
// CHECK:           arith.constant 8.000000e+00 : f32
// CHECK:           arith.divf
// CHECK:         %[[Z1:.+]] = linalg.fill {{.+}} -> tensor<2x5xf32>
// CHECK:         %[[SQ:.+]] = linalg.generic {indexing_maps = [#[[ID3]], #[[ROW]], #[[ROW]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[MEAN]] : tensor<2x5x8xf32>, tensor<2x5xf32>) outs(%[[Z1]] : tensor<2x5xf32>)
// CHECK:         ^bb0(%[[E:.+]]: f32, %[[M:.+]]: f32, %[[ACC:.+]]: f32):
// CHECK-NEXT:      %[[C:.+]] = arith.subf %[[E]], %[[M]] : f32
// CHECK-NEXT:      %[[C2:.+]] = arith.mulf %[[C]], %[[C]] : f32
// CHECK-NEXT:      %[[NEW:.+]] = arith.addf %[[C2]], %[[ACC]] : f32
// CHECK-NEXT:      linalg.yield %[[NEW]]
// CHECK:         %[[MEANK:.+]] = tensor.expand_shape %[[MEAN]] {{\[}}[0], [1, 2]] output_shape [2, 5, 1]
// CHECK:         %[[SQK:.+]] = tensor.expand_shape %[[SQ]] {{\[}}[0], [1, 2]] output_shape [2, 5, 1]
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[ID3]], #[[KEEP]], #[[KEEP]], #[[LAST]], #[[LAST]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %[[MEANK]], %[[SQK]], %[[G]], %[[B]] :
// CHECK:         ^bb0(%[[XI:[a-z0-9_]+]]: f32, %[[MI:[a-z0-9_]+]]: f32, %[[SI:[a-z0-9_]+]]: f32, %[[GI:[a-z0-9_]+]]: f32, %[[BI:[a-z0-9_]+]]: f32, %{{.+}}: f32):
// CHECK:           %[[VAR:.+]] = arith.divf %[[SI]], %{{.+}} : f32
// CHECK:           %[[EPS:.+]] = arith.constant 9.99999974E-6 : f32
// CHECK:           %[[VE:.+]] = arith.addf %[[VAR]], %[[EPS]] : f32
// CHECK:           %[[RSTD:.+]] = math.rsqrt %[[VE]] : f32
// CHECK:           %[[CEN:.+]] = arith.subf %[[XI]], %[[MI]] : f32
// CHECK:           %[[NORM:.+]] = arith.mulf %[[CEN]], %[[RSTD]] : f32
// CHECK:           %[[SCALED:.+]] = arith.mulf %[[NORM]], %[[GI]] : f32
// CHECK:           %[[OUT:.+]] = arith.addf %[[SCALED]], %[[BI]] : f32
// CHECK:           linalg.yield %[[OUT]] : f32
// CHECK:         return %[[Y]]
func.func @layer_norm(%x: tensor<2x5x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x5x8xf32> {
  %0 = tfm.layer_norm %x, %g, %b : tensor<2x5x8xf32>, tensor<8xf32>, tensor<8xf32>
  return %0 : tensor<2x5x8xf32>
}

// -----

// y = x · rsqrt(sum(x²) / D + ε) · γ, with the op's epsilon rounded to bf16.
// CHECK-DAG:   #[[ID2:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG:   #[[ROW:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG:   #[[KEEP:.+]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-DAG:   #[[LAST:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME:    (%[[X:.+]]: tensor<2x8xbf16>, %[[G:.+]]: tensor<8xbf16>)
// CHECK:         %[[ZERO:.+]] = arith.constant 0.000000e+00 : bf16
// CHECK:         %[[INIT:.+]] = linalg.fill ins(%[[ZERO]] : bf16) {{.+}} -> tensor<2xbf16>
// CHECK:         %[[SQ:.+]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<2x8xbf16>) outs(%[[INIT]] : tensor<2xbf16>)
// CHECK:         ^bb0(%[[E:.+]]: bf16, %[[ACC:.+]]: bf16):
// CHECK-NEXT:      %[[E2:.+]] = arith.mulf %[[E]], %[[E]] : bf16
// CHECK-NEXT:      %[[NEW:.+]] = arith.addf %[[E2]], %[[ACC]] : bf16
// CHECK:         %[[SQK:.+]] = tensor.expand_shape %[[SQ]] {{\[\[}}0, 1]] output_shape [2, 1]
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[ID2]], #[[KEEP]], #[[LAST]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[SQK]], %[[G]] :
// CHECK:         ^bb0(%[[XI:[a-z0-9_]+]]: bf16, %[[SI:[a-z0-9_]+]]: bf16, %[[GI:[a-z0-9_]+]]: bf16, %{{.+}}: bf16):
// CHECK:           %[[MS:.+]] = arith.divf %[[SI]], %{{.+}} : bf16
// CHECK:           %[[EPS:.+]] = arith.constant 1.001360e-05 : bf16
// CHECK:           %[[ME:.+]] = arith.addf %[[MS]], %[[EPS]] : bf16
// CHECK:           %[[R:.+]] = math.rsqrt %[[ME]] : bf16
// CHECK:           %[[N:.+]] = arith.mulf %[[XI]], %[[R]] : bf16
// CHECK:           %[[OUT:.+]] = arith.mulf %[[N]], %[[GI]] : bf16
// CHECK:           linalg.yield %[[OUT]] : bf16
// CHECK:         return %[[Y]]
func.func @rms_norm(%x: tensor<2x8xbf16>, %g: tensor<8xbf16>) -> tensor<2x8xbf16> {
  %0 = tfm.rms_norm %x, %g {epsilon = 1.0e-5 : f32} : tensor<2x8xbf16>, tensor<8xbf16>
  return %0 : tensor<2x8xbf16>
}

// -----

// A rank-1 input reduces to a scalar (rank-0) tensor.
// CHECK-LABEL: func.func @layer_norm_vector
// CHECK:         linalg.generic {{.+}} iterator_types = ["reduction"]} ins(%{{.+}} : tensor<8xf32>) outs(%{{.+}} : tensor<f32>)
// CHECK:         tensor.expand_shape %{{.+}} [] output_shape [1] : tensor<f32> into tensor<1xf32>
// CHECK:         math.rsqrt
func.func @layer_norm_vector(%x: tensor<8xf32>, %g: tensor<8xf32>) -> tensor<8xf32> {
  %0 = tfm.layer_norm %x, %g, %g : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// The residual sum, then the LayerNorm passes.
// CHECK-LABEL: func.func @add_layer_norm
// CHECK:         %[[SUM:.+]] = linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<2x8xf32>, tensor<2x8xf32>)
// CHECK:           arith.addf
// CHECK:         linalg.generic {{.*}} ins(%[[SUM]] : tensor<2x8xf32>)
// CHECK:         math.rsqrt
func.func @add_layer_norm(%x: tensor<2x8xf32>, %r: tensor<2x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x8xf32> {
  %0 = tfm.add_layer_norm %x, %r, %g, %b : tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>
  return %0 : tensor<2x8xf32>
}
