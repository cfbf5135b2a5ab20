// RUN: kiln-opt %s --kiln-prepare-entries | FileCheck %s
// RUN: kiln-opt %s --kiln-prepare-entries=entry=forward \
// RUN:   | FileCheck %s --check-prefix=ENTRY

// Every public function with a body is an entry: weights become read-only,
// the tfm names go, result states stay for kiln-drop-state-results, and the
// entry gets the C interface the runtime calls. Private functions are no
// entries. Only the weights of prepare_weights that no other function reads
// are consumed.
// CHECK-LABEL: func.func @forward(
// CHECK-SAME:    %{{.+}}: tensor<4xf32>,
// CHECK-SAME:    %{{.+}}: tensor<4xf32> {bufferization.writable = false},
// CHECK-SAME:    %{{.+}}: tensor<4xf32>)
// CHECK-SAME:    -> (tensor<4xf32>, tensor<4xf32> {tfm.state = "cache"})
// CHECK-SAME:    attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @other(
// CHECK-SAME:    %{{.+}}: tensor<4xf32>) -> tensor<4xf32>
// CHECK-SAME:    attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func private @helper(
// CHECK-SAME:    %{{.+}}: tensor<4xf32> {tfm.name = "kept"}) -> tensor<4xf32> {
// CHECK-LABEL: func.func @prepare_weights(
// CHECK-SAME:    %{{.+}}: tensor<4xf32> {bufferization.writable = false},
// CHECK-SAME:    %{{.+}}: tensor<4xf32> {bufferization.writable = false, kiln.consumed_weight})
// CHECK-SAME:    -> tensor<4xf32> attributes {llvm.emit_c_interface}
// CHECK-NOT:   tfm.name
// CHECK-NOT:   tfm.weight

// With an entry named, the other public functions are left alone;
// prepare_weights is an entry all the same.
// ENTRY-LABEL: func.func @forward(
// ENTRY-SAME:    attributes {llvm.emit_c_interface}
// ENTRY-LABEL: func.func @other(
// ENTRY-SAME:    %{{.+}}: tensor<4xf32> {tfm.name = "z"}) -> tensor<4xf32> {
// ENTRY-LABEL: func.func private @helper(
// ENTRY-LABEL: func.func @prepare_weights(
// ENTRY-SAME:    attributes {llvm.emit_c_interface}
func.func @forward(%x: tensor<4xf32> {tfm.name = "x"},
                   %w: tensor<4xf32> {tfm.weight = "shared"},
                   %c: tensor<4xf32> {tfm.state = "cache"})
    -> (tensor<4xf32> {tfm.name = "y"}, tensor<4xf32> {tfm.state = "cache"}) {
  %0 = call @helper(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %0, %c : tensor<4xf32>, tensor<4xf32>
}

func.func @other(%z: tensor<4xf32> {tfm.name = "z"}) -> tensor<4xf32> {
  return %z : tensor<4xf32>
}

func.func private @helper(%a: tensor<4xf32> {tfm.name = "kept"})
    -> tensor<4xf32> {
  return %a : tensor<4xf32>
}

func.func @prepare_weights(%s: tensor<4xf32> {tfm.weight = "shared"},
                           %o: tensor<4xf32> {tfm.weight = "only_here"})
    -> (tensor<4xf32> {tfm.name = "derived"}) {
  return %o : tensor<4xf32>
}
