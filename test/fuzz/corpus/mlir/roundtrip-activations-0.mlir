func.func @gelu(%x: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) {
  %0 = tfm.gelu %x : tensor<2x8xf32>
  %1 = tfm.gelu %x {approximation = #tfm.approximation<none>} : tensor<2x8xf32>
  %2 = tfm.gelu %x {approximation = #tfm.approximation<tanh>} : tensor<2x8xf32>
  return %0, %1, %2 : tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>
}
