// RUN: kiln-opt %s --split-input-file --kiln-order-globals | FileCheck %s

// Sorted by type and value, renamed in that order, uses follow.
// CHECK-LABEL: module
// CHECK-NEXT: memref.global "private" constant @__constant_0 : memref<1x2xi64> = dense<{{\[}}[0, 1]]>
// CHECK-NEXT: memref.global "private" constant @__constant_1 : memref<1x2xi64> = dense<{{\[}}[5, 6]]>
// CHECK-NEXT: memref.global "private" constant @__constant_2 : memref<2xf32> = dense<1.000000e+00>
// CHECK: func.func @f
// CHECK-NEXT: memref.get_global @__constant_2 : memref<2xf32>
// CHECK-NEXT: memref.get_global @__constant_1 : memref<1x2xi64>
// CHECK-NEXT: memref.get_global @__constant_0 : memref<1x2xi64>
module {
  memref.global "private" constant @__constant_2xf32 : memref<2xf32> = dense<1.0>
  func.func @f() {
    %a = memref.get_global @__constant_2xf32 : memref<2xf32>
    %b = memref.get_global @__constant_1x2xi64_0 : memref<1x2xi64>
    %c = memref.get_global @__constant_1x2xi64 : memref<1x2xi64>
    return
  }
  memref.global "private" constant @__constant_1x2xi64_0 : memref<1x2xi64> = dense<[[5, 6]]>
  memref.global "private" constant @__constant_1x2xi64 : memref<1x2xi64> = dense<[[0, 1]]>
}

// -----

// Public or mutable globals keep their names and places.
// CHECK-LABEL: module
// CHECK-NEXT: memref.global @state : memref<2xf32> = uninitialized
// CHECK-NEXT: memref.global "private" @scratch : memref<2xf32> = uninitialized
module {
  memref.global @state : memref<2xf32> = uninitialized
  memref.global "private" @scratch : memref<2xf32> = uninitialized
}
