func.func @weight_element_types() -> (tensor<4xbf16>, tensor<f16>, tensor<2x3xf64>, tensor<2x3xi64>, tensor<2xi32>, tensor<3xi1>) {
  %a = tfm.weight "a" : tensor<4xbf16>
  %b = tfm.weight "b" : tensor<f16>
  %c = tfm.weight "c" : tensor<2x3xf64>
  %d = tfm.weight "d" : tensor<2x3xi64>
  %e = tfm.weight "e" : tensor<2xi32>
  %f = tfm.weight "f" : tensor<3xi1>
  return %a, %b, %c, %d, %e, %f : tensor<4xbf16>, tensor<f16>, tensor<2x3xf64>, tensor<2x3xi64>, tensor<2xi32>, tensor<3xi1>
}
