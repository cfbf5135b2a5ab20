func.func @causal_mask_rank() {
  %0 = tfm.causal_mask : tensor<1x7x7xf32>
  return
}
