// Two layer norms of one shape and a linear layer: two distinct kernels.
func.func @forward(%x: tensor<2x3x16xf32> {tfm.name = "x"}, %g: tensor<16xf32> {tfm.name = "g"}, %b: tensor<16xf32> {tfm.name = "b"}) -> (tensor<2x3x16xf32> {tfm.name = "y"}) {
  %0 = tfm.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32} : tensor<2x3x16xf32>, tensor<16xf32>, tensor<16xf32>
  %y = tfm.layer_norm %0, %g, %b {epsilon = 1.0e-05 : f32} : tensor<2x3x16xf32>, tensor<16xf32>, tensor<16xf32>
  return %y : tensor<2x3x16xf32>
}
