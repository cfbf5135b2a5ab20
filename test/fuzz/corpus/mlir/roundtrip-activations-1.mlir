func.func @pointwise(%x: tensor<3x4xf16>) -> tensor<3x4xf16> {
  %0 = tfm.quick_gelu %x : tensor<3x4xf16>
  %1 = tfm.silu %0 : tensor<3x4xf16>
  %2 = tfm.relu %1 : tensor<3x4xf16>
  return %2 : tensor<3x4xf16>
}
