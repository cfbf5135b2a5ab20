func.func @transpose(%x: tensor<2x5x2x4xf32>, %m: tensor<3x4xi1>) -> (tensor<2x2x5x4xf32>, tensor<4x3xi1>) {
  %0 = tfm.transpose %x [0, 2, 1, 3] : tensor<2x5x2x4xf32> -> tensor<2x2x5x4xf32>
  %1 = tfm.transpose %m [1, 0] : tensor<3x4xi1> -> tensor<4x3xi1>
  return %0, %1 : tensor<2x2x5x4xf32>, tensor<4x3xi1>
}
