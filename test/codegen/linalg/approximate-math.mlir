// RUN: kiln-opt %s --split-input-file --kiln-approximate-math | FileCheck %s

// GELU's erf, softmax's exp and tanh become inline arithmetic on f32, in
// scalar and vector form.
// CHECK-LABEL: func.func @f32
// CHECK-NOT:     math.erf
// CHECK-NOT:     math.exp
// CHECK-NOT:     math.tanh
// CHECK:         math.fma
func.func @f32(%x: f32, %v: vector<8xf32>) -> (f32, f32, f32, vector<8xf32>) {
  %0 = math.erf %x : f32
  %1 = math.exp %x : f32
  %2 = math.tanh %x : f32
  %3 = math.exp %v : vector<8xf32>
  return %0, %1, %2, %3 : f32, f32, f32, vector<8xf32>
}

// -----

// Negative: f64 keeps the library call; other functions are left alone.
// CHECK-LABEL: func.func @kept
// CHECK:         math.exp %{{.+}} : f64
// CHECK:         math.sqrt
// CHECK:         math.log
func.func @kept(%x: f64, %y: f32) -> (f64, f32, f32) {
  %0 = math.exp %x : f64
  %1 = math.sqrt %y : f32
  %2 = math.log %y : f32
  return %0, %1, %2 : f64, f32, f32
}
