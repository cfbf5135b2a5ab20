func.func @broadcast(%x: tensor<2x5x8xf32>, %v: tensor<8xf32>, %y: tensor<2x1x8xf32>, %c: tensor<5x1xf32>, %s: tensor<f32>) -> (tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<2x5x8xf32>) {
  %0 = tfm.add %x, %v : tensor<2x5x8xf32>, tensor<8xf32> -> tensor<2x5x8xf32>
  %1 = tfm.sub %v, %x : tensor<8xf32>, tensor<2x5x8xf32> -> tensor<2x5x8xf32>
  %2 = tfm.mul %y, %c : tensor<2x1x8xf32>, tensor<5x1xf32> -> tensor<2x5x8xf32>
  %3 = tfm.div %x, %s : tensor<2x5x8xf32>, tensor<f32> -> tensor<2x5x8xf32>
  return %0, %1, %2, %3 : tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<2x5x8xf32>
}
