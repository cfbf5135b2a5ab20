// RUN: kiln-opt %s --split-input-file --tfm-hoist-weight-expressions --verify-diagnostics

// The load-time entry's name is taken by a function of the program.
// expected-error @below {{the name 'prepare_weights' is reserved for the load-time entry that computes derived weights; rename this function}}
func.func @prepare_weights() {
  return
}
func.func @layer(%x: tensor<3x8xf32>) -> tensor<3x16xf32> {
  %w = tfm.weight "fc.weight" : tensor<16x8xf32>
  %p = tfm.pack_panels %w : tensor<16x8xf32> -> tensor<1x8x16xf32>
  %0 = tfm.linear %x, %p {weight_panels} : (tensor<3x8xf32>, tensor<1x8x16xf32>) -> tensor<3x16xf32>
  return %0 : tensor<3x16xf32>
}

// -----

// Without weight expressions the name is free to use.
func.func @prepare_weights(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}
