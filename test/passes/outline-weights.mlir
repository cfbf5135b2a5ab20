// RUN: kiln-opt %s --split-input-file --tfm-outline-weights --verify-diagnostics | FileCheck %s

// Weights of public functions become trailing arguments, in order of first
// use, each marked with its checkpoint name.

// CHECK-LABEL: func.func @forward
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<2x8xf32> {tfm.name = "x"},
// CHECK-SAME:    %[[W:[a-z0-9]+]]: tensor<16x8xf32> {tfm.weight = "fc.weight"},
// CHECK-SAME:    %[[B:[a-z0-9]+]]: tensor<16xf32> {tfm.weight = "fc.bias"})
// CHECK-SAME:    -> tensor<2x16xf32>
// CHECK-NOT:     tfm.weight "
// CHECK:         %[[Y:.+]] = tfm.linear %[[X]], %[[W]], %[[B]]
// CHECK:         return %[[Y]]
func.func @forward(%x: tensor<2x8xf32> {tfm.name = "x"}) -> tensor<2x16xf32> {
  %w = tfm.weight "fc.weight" : tensor<16x8xf32>
  %b = tfm.weight "fc.bias" : tensor<16xf32>
  %0 = tfm.linear %x, %w, %b : (tensor<2x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<2x16xf32>
  return %0 : tensor<2x16xf32>
}

// -----

// Two uses of one name (tied embeddings) share one argument.
// CHECK-LABEL: func.func @tied
// CHECK-SAME:    (%[[IDS:[a-z0-9]+]]: tensor<3xi64>,
// CHECK-SAME:    %[[WTE:[a-z0-9]+]]: tensor<10x4xf32> {tfm.weight = "wte.weight"},
// CHECK-SAME:    %[[G:[a-z0-9]+]]: tensor<4xf32> {tfm.weight = "ln_f.weight"})
// CHECK-SAME:    -> tensor<3x10xf32>
// CHECK:         %[[E:.+]] = tfm.embedding %[[WTE]][%[[IDS]]]
// CHECK:         %[[N:.+]] = tfm.rms_norm %[[E]], %[[G]]
// CHECK:         tfm.linear %[[N]], %[[WTE]] :
func.func @tied(%ids: tensor<3xi64>) -> tensor<3x10xf32> {
  %wte = tfm.weight "wte.weight" : tensor<10x4xf32>
  %0 = tfm.embedding %wte[%ids] : (tensor<10x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  %g = tfm.weight "ln_f.weight" : tensor<4xf32>
  %1 = tfm.rms_norm %0, %g : tensor<3x4xf32>, tensor<4xf32>
  %head = tfm.weight "wte.weight" : tensor<10x4xf32>
  %2 = tfm.linear %1, %head : (tensor<3x4xf32>, tensor<10x4xf32>) -> tensor<3x10xf32>
  return %2 : tensor<3x10xf32>
}

// -----

// Weights inside nested regions are found too.
// CHECK-LABEL: func.func @nested
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<4xf32>, %[[B:[a-z0-9]+]]: tensor<4xf32> {tfm.weight = "inner.bias"})
// CHECK:         scf.execute_region
// CHECK-NEXT:      scf.yield %[[B]]
func.func @nested(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = scf.execute_region -> tensor<4xf32> {
    %b = tfm.weight "inner.bias" : tensor<4xf32>
    scf.yield %b : tensor<4xf32>
  }
  %1 = tfm.add %x, %0 : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// Each public function gets its own arguments; private and external
// functions, and public functions without weights, are left unchanged.
// CHECK-LABEL: func.func private @helper
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<4xf32>) -> tensor<4xf32>
// CHECK:         %[[B:.+]] = tfm.weight "fc.bias" : tensor<4xf32>
// CHECK:         tfm.add %[[X]], %[[B]]
// CHECK-LABEL: func.func private @external(tensor<4xf32>) -> tensor<4xf32>
// CHECK-LABEL: func.func @no_weights
// CHECK-SAME:    (%{{[a-z0-9]+}}: tensor<4xf32>) -> tensor<4xf32>
// CHECK-LABEL: func.func @first
// CHECK-SAME:    (%{{[a-z0-9]+}}: tensor<4xf32>, %{{[a-z0-9]+}}: tensor<4xf32> {tfm.weight = "fc.bias"})
// CHECK-LABEL: func.func @second
// CHECK-SAME:    (%{{[a-z0-9]+}}: tensor<4xf32> {tfm.weight = "fc.bias"})
func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  %b = tfm.weight "fc.bias" : tensor<4xf32>
  %0 = tfm.add %x, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
func.func private @external(tensor<4xf32>) -> tensor<4xf32>
func.func @no_weights(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
func.func @first(%x: tensor<4xf32>) -> tensor<4xf32> {
  %b = tfm.weight "fc.bias" : tensor<4xf32>
  %0 = tfm.add %x, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
func.func @second() -> tensor<4xf32> {
  %b = tfm.weight "fc.bias" : tensor<4xf32>
  return %b : tensor<4xf32>
}

// -----

// One name used with two types is an error at the second use; the module is
// not printed.
// CHECK-NOT: func.func @type_mismatch
func.func @type_mismatch() -> tensor<4xf32> {
  %b = tfm.weight "fc.bias" : tensor<4xf32>
  // expected-error @+1 {{'tfm.weight' op uses weight 'fc.bias' as 'tensor<4xf16>' but an earlier use has type 'tensor<4xf32>'}}
  %c = tfm.weight "fc.bias" : tensor<4xf16>
  return %b : tensor<4xf32>
}

// -----

// A called function cannot gain arguments without breaking its callers.
// expected-error @+1 {{'func.func' op is called within the module, so its weights cannot become arguments (inline it or make it private first)}}
func.func @callee(%x: tensor<4xf32>) -> tensor<4xf32> {
  %w = tfm.weight "w" : tensor<4xf32>
  %y = tfm.add %x, %w : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}
func.func @caller(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = func.call @callee(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
