func.func @forward(%x: tensor<2xf32>) -> tensor<2xf32> {
  %y = tfm.relu %x : tensor<2xf32>
  return %y
