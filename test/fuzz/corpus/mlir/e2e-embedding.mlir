
func.func @forward(%ids: tensor<2x5xi32> {tfm.name = "ids"}) -> (tensor<2x5x6xf32> {tfm.name = "y"}) {
  %w_wte_weight = tfm.weight "wte.weight" : tensor<11x6xf32>
%y = tfm.embedding %w_wte_weight[%ids] : (tensor<11x6xf32>, tensor<2x5xi32>) -> tensor<2x5x6xf32>
  return %y : tensor<2x5x6xf32>
}