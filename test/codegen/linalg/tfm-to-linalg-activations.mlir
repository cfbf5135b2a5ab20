// RUN: kiln-opt %s --split-input-file --convert-tfm-to-linalg | FileCheck %s

// Pointwise activations and tfm.scale become one parallel linalg.generic
// each; tfm.softmax becomes max, sum-of-exp and normalize generics.

// gelu(x) = 0.5 · x · (1 + erf(x / √2))
// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @gelu
// CHECK-SAME:    (%[[X:.+]]: tensor<2x8xf32>)
// CHECK:         %[[EMPTY:.+]] = tensor.empty() : tensor<2x8xf32>
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]] : tensor<2x8xf32>) outs(%[[EMPTY]] : tensor<2x8xf32>)
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT:      %[[RSQRT2:.+]] = arith.constant 0.707106769 : f32
// CHECK-NEXT:      %[[S:.+]] = arith.mulf %[[IN]], %[[RSQRT2]] : f32
// CHECK-NEXT:      %[[ERF:.+]] = math.erf %[[S]] : f32
// CHECK-NEXT:      %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:      %[[SUM:.+]] = arith.addf %[[ONE]], %[[ERF]] : f32
// CHECK-NEXT:      %[[HALF:.+]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT:      %[[HX:.+]] = arith.mulf %[[HALF]], %[[IN]] : f32
// CHECK-NEXT:      %[[R:.+]] = arith.mulf %[[HX]], %[[SUM]] : f32
// CHECK-NEXT:      linalg.yield %[[R]] : f32
// CHECK:         return %[[Y]]
func.func @gelu(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %0 = tfm.gelu %x : tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// gelu_tanh(x) = 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
// CHECK-LABEL: func.func @gelu_tanh
// CHECK:         linalg.generic
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: f64, %{{.+}}: f64):
// CHECK-NEXT:      %[[X2:.+]] = arith.mulf %[[IN]], %[[IN]] : f64
// CHECK-NEXT:      %[[X3:.+]] = arith.mulf %[[IN]], %[[X2]] : f64
// CHECK-NEXT:      %[[C:.+]] = arith.constant 4.471500e-02 : f64
// CHECK-NEXT:      %[[CX3:.+]] = arith.mulf %[[C]], %[[X3]] : f64
// CHECK-NEXT:      %[[INNER:.+]] = arith.addf %[[IN]], %[[CX3]] : f64
// CHECK-NEXT:      %[[K:.+]] = arith.constant 0.79788456080286{{[0-9]*}} : f64
// CHECK-NEXT:      %[[ARG:.+]] = arith.mulf %[[K]], %[[INNER]] : f64
// CHECK-NEXT:      %[[TANH:.+]] = math.tanh %[[ARG]] : f64
// CHECK-NEXT:      %[[ONE:.+]] = arith.constant 1.000000e+00 : f64
// CHECK-NEXT:      %[[SUM:.+]] = arith.addf %[[ONE]], %[[TANH]] : f64
// CHECK-NEXT:      %[[HALF:.+]] = arith.constant 5.000000e-01 : f64
// CHECK-NEXT:      %[[HX:.+]] = arith.mulf %[[HALF]], %[[IN]] : f64
// CHECK-NEXT:      %[[R:.+]] = arith.mulf %[[HX]], %[[SUM]] : f64
// CHECK-NEXT:      linalg.yield %[[R]] : f64
// CHECK-NOT:     math.erf
func.func @gelu_tanh(%x: tensor<4xf64>) -> tensor<4xf64> {
  %0 = tfm.gelu %x {approximation = #tfm.approximation<tanh>} : tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

// quick_gelu(x) = x · σ(1.702 x), σ(z) = 1 / (1 + exp(-z))
// CHECK-LABEL: func.func @quick_gelu
// CHECK:         linalg.generic
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT:      %[[K:.+]] = arith.constant 1.702000e+00 : f32
// CHECK-NEXT:      %[[Z:.+]] = arith.mulf %[[K]], %[[IN]] : f32
// CHECK-NEXT:      %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:      %[[NEG:.+]] = arith.negf %[[Z]] : f32
// CHECK-NEXT:      %[[EXP:.+]] = math.exp %[[NEG]] : f32
// CHECK-NEXT:      %[[DEN:.+]] = arith.addf %[[ONE]], %[[EXP]] : f32
// CHECK-NEXT:      %[[SIG:.+]] = arith.divf %[[ONE]], %[[DEN]] : f32
// CHECK-NEXT:      %[[R:.+]] = arith.mulf %[[IN]], %[[SIG]] : f32
// CHECK-NEXT:      linalg.yield %[[R]] : f32
func.func @quick_gelu(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tfm.quick_gelu %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// silu(x) = x · σ(x)
// CHECK-LABEL: func.func @silu
// CHECK:         linalg.generic
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: f16, %{{.+}}: f16):
// CHECK-NEXT:      %[[ONE:.+]] = arith.constant 1.000000e+00 : f16
// CHECK-NEXT:      %[[NEG:.+]] = arith.negf %[[IN]] : f16
// CHECK-NEXT:      %[[EXP:.+]] = math.exp %[[NEG]] : f16
// CHECK-NEXT:      %[[DEN:.+]] = arith.addf %[[ONE]], %[[EXP]] : f16
// CHECK-NEXT:      %[[SIG:.+]] = arith.divf %[[ONE]], %[[DEN]] : f16
// CHECK-NEXT:      %[[R:.+]] = arith.mulf %[[IN]], %[[SIG]] : f16
// CHECK-NEXT:      linalg.yield %[[R]] : f16
func.func @silu(%x: tensor<4xf16>) -> tensor<4xf16> {
  %0 = tfm.silu %x : tensor<4xf16>
  return %0 : tensor<4xf16>
}

// -----

// CHECK-LABEL: func.func @relu
// CHECK:         linalg.generic
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT:      %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:      %[[R:.+]] = arith.maximumf %[[IN]], %[[ZERO]] : f32
// CHECK-NEXT:      linalg.yield %[[R]] : f32
func.func @relu(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tfm.relu %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @scale
// CHECK:         linalg.generic {{.+}} ins(%{{.+}} : tensor<1x4x7x7xf32>)
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT:      %[[F:.+]] = arith.constant 1.250000e-01 : f32
// CHECK-NEXT:      %[[R:.+]] = arith.mulf %[[IN]], %[[F]] : f32
// CHECK-NEXT:      linalg.yield %[[R]] : f32
func.func @scale(%x: tensor<1x4x7x7xf32>) -> tensor<1x4x7x7xf32> {
  %0 = tfm.scale %x {factor = 0.125 : f32} : tensor<1x4x7x7xf32>
  return %0 : tensor<1x4x7x7xf32>
}

// -----

// softmax over the last axis: max from -inf, then sum(exp(x - max)) from 0,
// then exp(x - max) / sum with max and sum broadcast back along the axis.
// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG:   #[[RED:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG:   #[[KEEP:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
// CHECK-LABEL: func.func @softmax
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5x8xf32>)
// CHECK:         %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK:         %[[MAXINIT:.+]] = linalg.fill ins(%[[NEGINF]] : f32) {{.+}} -> tensor<2x5xf32>
// CHECK:         %[[MAX:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[RED]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<2x5x8xf32>) outs(%[[MAXINIT]] : tensor<2x5xf32>)
// CHECK:           arith.maximumf
// CHECK:         %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[SUMINIT:.+]] = linalg.fill ins(%[[ZERO]] : f32) {{.+}} -> tensor<2x5xf32>
// CHECK:         %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[RED]], #[[RED]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[MAX]] : tensor<2x5x8xf32>, tensor<2x5xf32>) outs(%[[SUMINIT]] : tensor<2x5xf32>)
// CHECK-NEXT:    ^bb0(%[[E:.+]]: f32, %[[M:.+]]: f32, %[[ACC:.+]]: f32):
// CHECK-NEXT:      %[[C:.+]] = arith.subf %[[E]], %[[M]] : f32
// CHECK-NEXT:      %[[EXP:.+]] = math.exp %[[C]] : f32
// CHECK-NEXT:      %[[NEW:.+]] = arith.addf %[[EXP]], %[[ACC]] : f32
// CHECK:         %[[MAXK:.+]] = tensor.expand_shape %[[MAX]] {{.+}} into tensor<2x5x1xf32>
// CHECK:         %[[SUMK:.+]] = tensor.expand_shape %[[SUM]] {{.+}} into tensor<2x5x1xf32>
// CHECK:         %[[Y:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[KEEP]], #[[KEEP]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %[[MAXK]], %[[SUMK]] :
// CHECK-NEXT:    ^bb0(%[[XI:.+]]: f32, %[[MI:.+]]: f32, %[[SI:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT:      %[[D:.+]] = arith.subf %[[XI]], %[[MI]] : f32
// CHECK-NEXT:      %[[EX:.+]] = math.exp %[[D]] : f32
// CHECK-NEXT:      %[[P:.+]] = arith.divf %[[EX]], %[[SI]] : f32
// CHECK-NEXT:      linalg.yield %[[P]] : f32
// CHECK:         return %[[Y]]
func.func @softmax(%x: tensor<2x5x8xf32>) -> tensor<2x5x8xf32> {
  %0 = tfm.softmax %x : tensor<2x5x8xf32>
  return %0 : tensor<2x5x8xf32>
}

// -----

// axis = -2 reduces the middle axis; the broadcast maps read index 0 there.
// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG:   #[[RED:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG:   #[[KEEP:.+]] = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
// CHECK-LABEL: func.func @softmax_middle_axis
// CHECK:         linalg.generic {indexing_maps = [#[[ID]], #[[RED]]], iterator_types = ["parallel", "reduction", "parallel"]} {{.+}} outs(%{{.+}} : tensor<2x8xf32>)
// CHECK:         linalg.generic {indexing_maps = [#[[ID]], #[[RED]], #[[RED]]], iterator_types = ["parallel", "reduction", "parallel"]} {{.+}} outs(%{{.+}} : tensor<2x8xf32>)
// CHECK:         tensor.expand_shape {{.+}} into tensor<2x1x8xf32>
// CHECK:         tensor.expand_shape {{.+}} into tensor<2x1x8xf32>
// CHECK:         linalg.generic {indexing_maps = [#[[ID]], #[[KEEP]], #[[KEEP]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]}
func.func @softmax_middle_axis(%x: tensor<2x5x8xf32>) -> tensor<2x5x8xf32> {
  %0 = tfm.softmax %x {axis = -2} : tensor<2x5x8xf32>
  return %0 : tensor<2x5x8xf32>
}
