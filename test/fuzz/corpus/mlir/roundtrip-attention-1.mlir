func.func @padding_mask(%l: tensor<2xi64>, %l32: tensor<2xi32>) -> (tensor<2x1x1x7xf32>, tensor<2x7xf32>, tensor<2x1x7xbf16>) {
  %0 = tfm.padding_mask %l : tensor<2xi64> -> tensor<2x1x1x7xf32>
  %1 = tfm.padding_mask %l32 : tensor<2xi32> -> tensor<2x7xf32>
  %2 = tfm.padding_mask %l : tensor<2xi64> -> tensor<2x1x7xbf16>
  return %0, %1, %2 : tensor<2x1x1x7xf32>, tensor<2x7xf32>, tensor<2x1x7xbf16>
}
