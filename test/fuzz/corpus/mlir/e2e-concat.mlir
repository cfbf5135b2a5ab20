
func.func @forward(%a: tensor<2x3x4xf32> {tfm.name = "a"}, %b: tensor<2x1x4xf32> {tfm.name = "b"}, %c: tensor<2x2x4xf32> {tfm.name = "c"}) -> (tensor<2x6x4xf32> {tfm.name = "y"}) {
%y = tfm.concat %a, %b, %c {axis = 1} : (tensor<2x3x4xf32>, tensor<2x1x4xf32>, tensor<2x2x4xf32>) -> tensor<2x6x4xf32>
  return %y : tensor<2x6x4xf32>
}