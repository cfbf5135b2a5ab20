func.func @reshape(%x: tensor<2x5x8xf32>, %s: tensor<1xi64>) -> (tensor<80xf32>, tensor<i64>) {
  %0 = tfm.reshape %x : tensor<2x5x8xf32> -> tensor<2x5x2x4xf32>
  %1 = tfm.reshape %0 : tensor<2x5x2x4xf32> -> tensor<80xf32>
  %2 = tfm.reshape %s : tensor<1xi64> -> tensor<i64>
  return %1, %2 : tensor<80xf32>, tensor<i64>
}
