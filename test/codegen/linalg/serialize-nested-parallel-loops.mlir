// RUN: kiln-opt %s --split-input-file --kiln-serialize-nested-parallel-loops | FileCheck %s

// Only the outermost scf.parallel of a nest stays parallel; every
// scf.parallel inside it becomes scf.for loops over the same bounds.

// CHECK-LABEL: func.func @nested
// CHECK-SAME:    (%[[M:.+]]: memref<4x8x16xf32>)
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[C4:.+]] = arith.constant 4 : index
// CHECK-DAG:     %[[C8:.+]] = arith.constant 8 : index
// CHECK-DAG:     %[[C16:.+]] = arith.constant 16 : index
// CHECK-DAG:     %[[F:.+]] = arith.constant 1.000000e+00 : f32
// CHECK:         scf.parallel (%[[I:.+]]) = (%[[C0]]) to (%[[C4]]) step (%[[C1]]) {
// CHECK-NEXT:      scf.for %[[J:.+]] = %[[C0]] to %[[C8]] step %[[C1]] {
// CHECK-NEXT:        scf.for %[[K:.+]] = %[[C0]] to %[[C16]] step %[[C2]] {
// CHECK-NEXT:          memref.store %[[F]], %[[M]][%[[I]], %[[J]], %[[K]]] : memref<4x8x16xf32>
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:      scf.reduce
// CHECK-NEXT:    }
// CHECK-NOT:     scf.parallel
func.func @nested(%m: memref<4x8x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    scf.parallel (%j, %k) = (%c0, %c0) to (%c8, %c16) step (%c1, %c2) {
      memref.store %f, %m[%i, %j, %k] : memref<4x8x16xf32>
      scf.reduce
    }
    scf.reduce
  }
  return
}

// -----

// Three levels: both inner loops are serialized, innermost last, and
// ops between the loops stay where they were.
// CHECK-LABEL: func.func @three_levels
// CHECK:         scf.parallel (%[[I:.+]]) =
// CHECK-NEXT:      %[[X:.+]] = memref.load %{{.+}}[%[[I]]]
// CHECK-NEXT:      scf.for %[[J:.+]] =
// CHECK-NEXT:        scf.for %[[K:.+]] =
// CHECK-NEXT:          memref.store %[[X]], %{{.+}}[%[[I]], %[[J]], %[[K]]]
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:      scf.reduce
// CHECK-NEXT:    }
// CHECK-NOT:     scf.parallel
func.func @three_levels(%m: memref<2x3x4xf32>, %v: memref<2xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  scf.parallel (%i) = (%c0) to (%c2) step (%c1) {
    %x = memref.load %v[%i] : memref<2xf32>
    scf.parallel (%j) = (%c0) to (%c3) step (%c1) {
      scf.parallel (%k) = (%c0) to (%c4) step (%c1) {
        memref.store %x, %m[%i, %j, %k] : memref<2x3x4xf32>
        scf.reduce
      }
      scf.reduce
    }
    scf.reduce
  }
  return
}

// -----

// A parallel loop under an scf.for under a parallel loop is nested too.
// CHECK-LABEL: func.func @through_for
// CHECK:         scf.parallel
// CHECK-NEXT:      scf.for
// CHECK-NEXT:        scf.for
// CHECK-NEXT:          memref.store
// CHECK-NOT:     scf.parallel
func.func @through_for(%m: memref<2x3x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %f = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c2) step (%c1) {
    scf.for %j = %c0 to %c3 step %c1 {
      scf.parallel (%k) = (%c0) to (%c4) step (%c1) {
        memref.store %f, %m[%i, %j, %k] : memref<2x3x4xf32>
        scf.reduce
      }
    }
    scf.reduce
  }
  return
}

// -----

// Parallel loops that are not nested (siblings, or at the top level) stay.
// CHECK-LABEL: func.func @not_nested
// CHECK:         scf.parallel (%{{.+}}, %{{.+}}) =
// CHECK:         scf.parallel (%{{.+}}) =
// CHECK-NOT:     scf.for
func.func @not_nested(%m: memref<4x8xf32>, %v: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %f = arith.constant 0.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    memref.store %f, %m[%i, %j] : memref<4x8xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    memref.store %f, %v[%i] : memref<4xf32>
    scf.reduce
  }
  return
}

// -----

// An inner loop with a reduction has results, which scf.for loops of this
// form cannot carry: it is left as it is.
// CHECK-LABEL: func.func @reduction
// CHECK:         scf.parallel (%[[I:.+]]) =
// CHECK-NEXT:      %[[S:.+]] = scf.parallel (%[[J:.+]]) = {{.+}} init (%{{.+}}) -> f32 {
// CHECK-NEXT:        %[[V:.+]] = memref.load %{{.+}}[%[[I]], %[[J]]]
// CHECK-NEXT:        scf.reduce(%[[V]] : f32) {
// CHECK:               arith.addf
// CHECK:               scf.reduce.return
// CHECK:           memref.store %[[S]], %{{.+}}[%[[I]]]
// CHECK-NOT:     scf.for
func.func @reduction(%m: memref<4x8xf32>, %out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %z = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    %s = scf.parallel (%j) = (%c0) to (%c8) step (%c1) init (%z) -> f32 {
      %v = memref.load %m[%i, %j] : memref<4x8xf32>
      scf.reduce(%v : f32) {
      ^bb0(%a: f32, %b: f32):
        %r = arith.addf %a, %b : f32
        scf.reduce.return %r : f32
      }
    }
    memref.store %s, %out[%i] : memref<4xf32>
    scf.reduce
  }
  return
}
