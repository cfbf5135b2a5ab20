
func.func @forward(%x: tensor<2x3x8xf32> {tfm.name = "x"}, %w: tensor<5x8xf32> {tfm.name = "w"}, %b: tensor<5xf32> {tfm.name = "b"}) -> (tensor<2x3x5xf32> {tfm.name = "y"}) {
%y = tfm.linear %x, %w, %b : (tensor<2x3x8xf32>, tensor<5x8xf32>, tensor<5xf32>) -> tensor<2x3x5xf32>
  return %y : tensor<2x3x5xf32>
}