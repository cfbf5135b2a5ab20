func.func @layer_norm_epsilon(%x: tensor<8xbf16>, %g: tensor<8xbf16>, %b: tensor<8xbf16>) -> (tensor<8xbf16>, tensor<8xbf16>) {
  %0 = tfm.layer_norm %x, %g, %b {epsilon = 1.0e-5 : f32} : tensor<8xbf16>, tensor<8xbf16>, tensor<8xbf16>
  %1 = tfm.layer_norm %x, %g, %b {epsilon = 1.0e-6 : f32} : tensor<8xbf16>, tensor<8xbf16>, tensor<8xbf16>
  return %0, %1 : tensor<8xbf16>, tensor<8xbf16>
}
