func.func @first(%x: tensor<2xf32>) -> tensor<2xf32> {
  %y = tfm.relu %x : tensor<2xf32>
  return %y : tensor<2xf32>
}
func.func @second(%x: tensor<2xf32>) -> tensor<2xf32> {
  %y = tfm.silu %x : tensor<2xf32>
  return %y : tensor<2xf32>
}
