
func.func @forward(%x: tensor<3x7x2xf32> {tfm.name = "x"}, %idx: tensor<2x3xi64> {tfm.name = "idx"}) -> (tensor<3x2x3x2xf32> {tfm.name = "y"}) {
%y = tfm.gather %x[%idx] {axis = 1} : (tensor<3x7x2xf32>, tensor<2x3xi64>) -> tensor<3x2x3x2xf32>
  return %y : tensor<3x2x3x2xf32>
}