// RUN: kiln-opt %s --split-input-file --kiln-assign-backends=backend=halide | FileCheck %s --check-prefix=HALIDE
// RUN: kiln-opt %s --split-input-file --kiln-assign-backends=backend=auto | FileCheck %s --check-prefix=AUTO
// RUN: kiln-opt %s --split-input-file --kiln-assign-backends=backend=llvm | FileCheck %s --check-prefix=LLVM
// RUN: not kiln-opt %s --split-input-file --kiln-assign-backends=backend=tvm 2>&1 | FileCheck %s --check-prefix=BAD

// Every kernel-able op is marked with halide; auto marks the normalizations,
// softmax, elementwise chains' roots and linear layers of at most 8 rows
// (decoding), not larger ones or attention; llvm marks nothing.
// HALIDE-LABEL: func.func @block
// HALIDE:         tfm.linear {{.*}}kiln.backend = "halide"
// HALIDE:         tfm.linear {{.*}}kiln.backend = "halide"
// HALIDE:         tfm.attention {{.*}}kiln.backend = "halide"
// HALIDE:         tfm.layer_norm {{.*}}kiln.backend = "halide"
// HALIDE:         tfm.softmax {{.*}}kiln.backend = "halide"
// HALIDE:         tfm.gelu %{{.+}} :
// HALIDE:         tfm.add {{.*}}kiln.backend = "halide"
// AUTO-LABEL:   func.func @block
// AUTO:           tfm.linear %arg0, %arg1 {kiln.backend = "halide"} : (
// AUTO:           tfm.linear %arg4, %arg1 : (
// AUTO:           tfm.attention {{.*}} {mask = #tfm.mask<causal>, scale = 5.000000e-01 : f32} : (
// AUTO:           tfm.layer_norm {{.*}}kiln.backend = "halide"
// AUTO:           tfm.softmax {{.*}}kiln.backend = "halide"
// AUTO:           tfm.gelu %{{.+}} :
// AUTO:           tfm.add {{.*}}kiln.backend = "halide"
// LLVM-NOT:       kiln.backend
// BAD:            backend must be llvm, halide or auto, got 'tvm'
func.func @block(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>, %q: tensor<1x2x4x4xf32>, %g: tensor<8xf32>, %big: tensor<16x8xf32>) -> (tensor<4x8xf32>, tensor<1x2x4x4xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<16x8xf32>) {
  %0 = tfm.linear %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %6 = tfm.linear %big, %w : (tensor<16x8xf32>, tensor<8x8xf32>) -> tensor<16x8xf32>
  %1 = tfm.attention %q, %q, %q {mask = #tfm.mask<causal>, scale = 0.5 : f32} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %2 = tfm.layer_norm %0, %g, %g : tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>
  %3 = tfm.softmax %2 : tensor<4x8xf32>
  // A chain: the gelu feeds only the add, whose result is the chain's root.
  %4 = tfm.gelu %3 : tensor<4x8xf32>
  %5 = tfm.add %4, %g : tensor<4x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  return %0, %1, %2, %3, %5, %6 : tensor<4x8xf32>, tensor<1x2x4x4xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<16x8xf32>
}

// -----

// Not kernel-able: f16, attention with a bias, softmax over a middle axis,
// a rank-1 linear input and a 2-d matmul stay unmarked.
// HALIDE-LABEL: func.func @unsupported
// HALIDE-NOT:     kiln.backend
func.func @unsupported(%h: tensor<4x8xf16>, %g: tensor<8xf16>, %q: tensor<1x2x4x4xf32>, %bias: tensor<1x1x4x4xf32>, %s: tensor<4x8x2xf32>, %v: tensor<8xf32>, %w: tensor<8x8xf32>) -> (tensor<4x8xf16>, tensor<1x2x4x4xf32>, tensor<4x8x2xf32>, tensor<8xf32>, tensor<8x8xf32>) {
  %0 = tfm.layer_norm %h, %g, %g : tensor<4x8xf16>, tensor<8xf16>, tensor<8xf16>
  %1 = tfm.attention %q, %q, %q bias(%bias) {scale = 0.5 : f32} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32>
  %2 = tfm.softmax %s {axis = 1} : tensor<4x8x2xf32>
  %3 = tfm.linear %v, %w : (tensor<8xf32>, tensor<8x8xf32>) -> tensor<8xf32>
  %4 = tfm.matmul %w, %w : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %0, %1, %2, %3, %4 : tensor<4x8xf16>, tensor<1x2x4x4xf32>, tensor<4x8x2xf32>, tensor<8xf32>, tensor<8x8xf32>
}
