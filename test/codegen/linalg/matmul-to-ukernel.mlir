// RUN: kiln-opt %s --split-input-file --kiln-matmul-to-ukernel | FileCheck %s

// nn.Linear layout: x[m, k] · W[n, k], W read transposed.
// CHECK-LABEL: func.func @linear
// CHECK-DAG: %[[FALSE:.*]] = arith.constant 0 : i64
// CHECK-DAG: %[[TRUE:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[A:.*]] = memref.cast %arg0 : memref<4x8xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK-DAG: %[[B:.*]] = memref.cast %arg1 : memref<16x8xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK-DAG: %[[C:.*]] = memref.cast %arg2 : memref<4x16xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK: call @kiln_matmul_f32(%[[A]], %[[B]], %[[C]], %[[FALSE]], %[[TRUE]])
// CHECK-NOT: linalg.matmul
// CHECK: func.func private @kiln_matmul_f32({{.*}}) attributes {llvm.emit_c_interface}
func.func @linear(%x: memref<4x8xf32>, %w: memref<16x8xf32>, %y: memref<4x16xf32>) {
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%x, %w : memref<4x8xf32>, memref<16x8xf32>) outs(%y : memref<4x16xf32>)
  return
}

// -----

// Batched, A transposed, on a strided view; one declaration serves both.
// CHECK-LABEL: func.func @batched
// CHECK: call @kiln_batch_matmul_f32({{.*}}, %c1_i64, %c0_i64)
// CHECK: call @kiln_batch_matmul_f32
// CHECK-COUNT-1: func.func private @kiln_batch_matmul_f32
func.func @batched(%a: memref<2x8x4xf32, strided<[64, 8, 1], offset: 3>>, %b: memref<2x8x5xf32>, %c: memref<2x4x5xf32>) {
  linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, k, m)>, affine_map<(b, m, n, k) -> (b, k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>]
    ins(%a, %b : memref<2x8x4xf32, strided<[64, 8, 1], offset: 3>>, memref<2x8x5xf32>) outs(%c : memref<2x4x5xf32>)
  linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, k, m)>, affine_map<(b, m, n, k) -> (b, k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>]
    ins(%a, %b : memref<2x8x4xf32, strided<[64, 8, 1], offset: 3>>, memref<2x8x5xf32>) outs(%c : memref<2x4x5xf32>)
  return
}

// -----

// Negative: other element types and tensors stay linalg.
// CHECK-LABEL: func.func @not_covered
// CHECK: linalg.matmul ins({{.*}} : memref<4x8xf64>
// CHECK: linalg.matmul ins({{.*}} : tensor<4x8xf32>
// CHECK-NOT: call @kiln
func.func @not_covered(%a: memref<4x8xf64>, %b: memref<8x2xf64>, %c: memref<4x2xf64>, %x: tensor<4x8xf32>, %y: tensor<8x2xf32>, %z: tensor<4x2xf32>) -> tensor<4x2xf32> {
  linalg.matmul ins(%a, %b : memref<4x8xf64>, memref<8x2xf64>) outs(%c : memref<4x2xf64>)
  %r = linalg.matmul ins(%x, %y : tensor<4x8xf32>, tensor<8x2xf32>) outs(%z : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}

// -----

// A linear layer on panels (B map (n floordiv W, k, n mod W)).
// CHECK-LABEL: func.func @panels
// CHECK-DAG: %[[FALSE:.*]] = arith.constant 0 : i64
// CHECK-DAG: %[[P:.*]] = memref.cast %arg1 : memref<2x8x16xf32> to memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>
// CHECK: call @kiln_matmul_panels_f32(%{{.*}}, %[[P]], %{{.*}}, %[[FALSE]])
// CHECK-NOT: linalg.generic
// CHECK: func.func private @kiln_matmul_panels_f32(memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, i64) attributes {llvm.emit_c_interface}
func.func @panels(%x: memref<3x8xf32>, %p: memref<2x8x16xf32>, %y: memref<3x20xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n floordiv 16, k, n mod 16)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
    ins(%x, %p : memref<3x8xf32>, memref<2x8x16xf32>) outs(%y : memref<3x20xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %c, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Negative: the same maps with another body, or another panel map, are not
// the kernel's product.
// CHECK-LABEL: func.func @panels_not_covered
// CHECK-COUNT-2: linalg.generic
// CHECK-NOT: call @kiln_matmul_panels_f32
func.func @panels_not_covered(%x: memref<3x8xf32>, %p: memref<2x8x16xf32>, %y: memref<3x20xf32>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n floordiv 16, k, n mod 16)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
    ins(%x, %p : memref<3x8xf32>, memref<2x8x16xf32>) outs(%y : memref<3x20xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.maximumf %a, %b : f32
    %s = arith.addf %c, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n floordiv 16, k, n mod 8)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
    ins(%x, %p : memref<3x8xf32>, memref<2x8x16xf32>) outs(%y : memref<3x20xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %c, %m : f32
    linalg.yield %s : f32
  }
  return
}
