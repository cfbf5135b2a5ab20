func.func @reshape_element_count(%x: tensor<2x3xf32>) {
  %0 = tfm.reshape %x : tensor<2x3xf32> -> tensor<2x4xf32>
  return
}
