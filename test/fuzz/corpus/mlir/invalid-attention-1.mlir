func.func @causal_mask_more_queries() {
  %0 = tfm.causal_mask : tensor<8x7xf32>
  return
}
