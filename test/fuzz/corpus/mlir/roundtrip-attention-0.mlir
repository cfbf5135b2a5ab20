func.func @causal_mask() -> (tensor<7x7xf32>, tensor<1x9xf16>) {
  %0 = tfm.causal_mask : tensor<7x7xf32>
  %1 = tfm.causal_mask : tensor<1x9xf16>
  return %0, %1 : tensor<7x7xf32>, tensor<1x9xf16>
}
