func.func @weight() -> tensor<64x192xf32> {
  %w = tfm.weight "h.0.attn.c_attn.weight" : tensor<64x192xf32>
  return %w : tensor<64x192xf32>
}
