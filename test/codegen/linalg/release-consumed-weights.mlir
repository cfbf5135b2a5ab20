// RUN: kiln-opt %s --split-input-file --verify-diagnostics \
// RUN:   --kiln-release-consumed-weights | FileCheck %s

// The release follows the last read; the mark is gone.
// CHECK-LABEL: func.func @prepare_weights
// CHECK-SAME: (%[[W:.*]]: memref<4x8xf32>, %[[OUT:.*]]: memref<4x8xf32>)
// CHECK-NOT: kiln.consumed_weight
// CHECK: memref.copy %[[W]], %[[OUT]]
// CHECK-NEXT: %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[W]]
// CHECK-NEXT: %[[I:.*]] = arith.index_cast %[[P]] : index to i64
// CHECK-NEXT: %[[N:.*]] = arith.constant 128 : i64
// CHECK-NEXT: call @kiln_release_weight(%[[I]], %[[N]]) : (i64, i64) -> ()
// CHECK: linalg.fill
// CHECK: func.func private @kiln_release_weight(i64, i64)
func.func @prepare_weights(%w: memref<4x8xf32> {kiln.consumed_weight},
                           %out: memref<4x8xf32>) {
  memref.copy %w, %out : memref<4x8xf32> to memref<4x8xf32>
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<4x8xf32>)
  return
}

// -----

// A read through a view inside a loop counts: the release follows the loop,
// not the view.
// CHECK-LABEL: func.func @prepare_weights
// CHECK: memref.subview
// CHECK: scf.for
// CHECK: memref.load
// CHECK: }
// CHECK-NEXT: memref.extract_aligned_pointer_as_index
// CHECK: arith.constant 128 : i64
// CHECK-NEXT: call @kiln_release_weight
func.func @prepare_weights(%w: memref<4x8xf32> {kiln.consumed_weight},
                           %out: memref<8xf32>) {
  %view = memref.subview %w[1, 0] [1, 8] [1, 1]
      : memref<4x8xf32> to memref<8xf32, strided<[1], offset: 8>>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %i = %c0 to %c8 step %c1 {
    %v = memref.load %view[%i] : memref<8xf32, strided<[1], offset: 8>>
    memref.store %v, %out[%i] : memref<8xf32>
  }
  return
}

// -----

// Unmarked weights are left alone; an unread marked one is released first.
// One declaration serves every release. bf16 counts two bytes an element.
// CHECK-LABEL: func.func @prepare_weights
// CHECK-SAME: (%[[KEPT:.*]]: memref<2xf32>, %[[UNREAD:.*]]: memref<3xbf16>
// CHECK-NEXT: memref.extract_aligned_pointer_as_index %[[UNREAD]]
// CHECK: arith.constant 6 : i64
// CHECK-NEXT: call @kiln_release_weight
// CHECK-NOT: call @kiln_release_weight
// CHECK: return
// CHECK-COUNT-1: func.func private @kiln_release_weight
func.func @prepare_weights(%kept: memref<2xf32>,
                           %unread: memref<3xbf16> {kiln.consumed_weight},
                           %out: memref<2xf32>) {
  memref.copy %kept, %out : memref<2xf32> to memref<2xf32>
  return
}

// -----

// Weights have static shapes; anything else is an error, not a guess.
// expected-error @+1 {{argument #0 marked 'kiln.consumed_weight' must be a statically shaped memref}}
func.func @prepare_weights(%w: memref<?xf32> {kiln.consumed_weight}) {
  return
}
