// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-plan-memory))' | FileCheck %s

// Three temporaries: %a dies at its last use (the second copy), so %c
// reuses its bytes; %b is alive across both and gets its own range. The
// deallocs (which the deallocation pipeline puts at the end) go, and an
// entry takes the arena as a trailing argument.
// CHECK-LABEL: func.func @entry
// CHECK-SAME:    %[[ARENA:[^:]+]]: memref<2048xi8> {kiln.arena}
// CHECK-SAME:    attributes {kiln.arena_bytes = 2048 : i64}
// CHECK:         %[[A_AT:.+]] = arith.constant 0 : index
// CHECK-NEXT:    memref.view %[[ARENA]][%[[A_AT]]][] : memref<2048xi8> to memref<256xf32>
// CHECK:         %[[B_AT:.+]] = arith.constant 1024 : index
// CHECK-NEXT:    memref.view %[[ARENA]][%[[B_AT]]][] : memref<2048xi8> to memref<256xf32>
// CHECK:         %[[C_AT:.+]] = arith.constant 0 : index
// CHECK-NEXT:    memref.view %[[ARENA]][%[[C_AT]]][] : memref<2048xi8> to memref<256xf32>
// CHECK-NOT:     memref.alloc
// CHECK-NOT:     memref.dealloc
// CHECK:         return
func.func @entry(%x: memref<256xf32>, %y: memref<256xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  memref.copy %x, %a : memref<256xf32> to memref<256xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  memref.copy %a, %b : memref<256xf32> to memref<256xf32>
  %c = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  memref.copy %b, %c : memref<256xf32> to memref<256xf32>
  memref.copy %c, %y : memref<256xf32> to memref<256xf32>
  memref.dealloc %a : memref<256xf32>
  memref.dealloc %b : memref<256xf32>
  memref.dealloc %c : memref<256xf32>
  return
}

// -----

// A view keeps its buffer alive: %a is read through a subview after %b is
// written, so they must not overlap. A private function allocates its arena
// and frees it before returning.
// CHECK-LABEL: func.func private @through_view
// CHECK:         %[[ARENA:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2048xi8>
// CHECK:         memref.view %[[ARENA]][%{{.+}}][] : memref<2048xi8> to memref<256xf32>
// CHECK:         memref.view %[[ARENA]][%{{.+}}][] : memref<2048xi8> to memref<256xf32>
// CHECK:         memref.dealloc %[[ARENA]]
// CHECK-NEXT:    return
func.func private @through_view(%x: memref<256xf32>, %y: memref<128xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  memref.copy %x, %a : memref<256xf32> to memref<256xf32>
  %v = memref.subview %a[0] [128] [1] : memref<256xf32> to memref<128xf32, strided<[1]>>
  %b = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  memref.copy %x, %b : memref<256xf32> to memref<256xf32>
  memref.copy %v, %y : memref<128xf32, strided<[1]>> to memref<128xf32>
  %w = memref.subview %b[0] [128] [1] : memref<256xf32> to memref<128xf32, strided<[1]>>
  memref.copy %w, %y : memref<128xf32, strided<[1]>> to memref<128xf32>
  memref.dealloc %a : memref<256xf32>
  memref.dealloc %b : memref<256xf32>
  return
}

// -----

// memref.transpose is not a ViewLikeOpInterface op but still a view: %a is
// read through it after %b is written (as the attention kernel reads a
// projection through a transposed view), so they must not overlap.
// CHECK-LABEL: func.func private @through_transpose
// CHECK-SAME:    attributes {kiln.arena_bytes = 2048 : i64}
func.func private @through_transpose(%x: memref<16x16xf32>, %y: memref<16x16xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<16x16xf32>
  memref.copy %x, %a : memref<16x16xf32> to memref<16x16xf32>
  %t = memref.transpose %a (d0, d1) -> (d1, d0) : memref<16x16xf32> to memref<16x16xf32, strided<[1, 16]>>
  %b = memref.alloc() {alignment = 64 : i64} : memref<16x16xf32>
  memref.copy %x, %b : memref<16x16xf32> to memref<16x16xf32>
  memref.copy %t, %y : memref<16x16xf32, strided<[1, 16]>> to memref<16x16xf32>
  memref.copy %b, %y : memref<16x16xf32> to memref<16x16xf32>
  memref.dealloc %a : memref<16x16xf32>
  memref.dealloc %b : memref<16x16xf32>
  return
}

// -----

// Negative: dynamic sizes, buffers allocated inside loops and buffers that
// are returned keep their own allocations; no arena for nothing.
// CHECK-LABEL: func.func @not_planned
// CHECK-NOT:     kiln.arena
// CHECK:         memref.alloc(%arg0)
// CHECK:         scf.for
// CHECK:           memref.alloc()
// CHECK:         %[[R:.+]] = memref.alloc()
// CHECK:         return %[[R]]
func.func @not_planned(%n: index) -> memref<4xf32> {
  %d = memref.alloc(%n) : memref<?xf32>
  memref.dealloc %d : memref<?xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %l = memref.alloc() : memref<4xf32>
    memref.dealloc %l : memref<4xf32>
  }
  %r = memref.alloc() : memref<4xf32>
  return %r : memref<4xf32>
}
