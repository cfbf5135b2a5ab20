// The LLVM path of codegen/Pipeline.cpp, stage by stage: each RUN line
// below is one stage's pipeline string, in order, on the previous stage's
// output, followed by the checks of what that stage must leave behind.
// (The `kiln` driver also strips the tfm.name/tfm.weight argument attributes
// and sets llvm.emit_c_interface on the entry before "bufferized"; here the
// input carries the attribute itself.)

// Stage "tfm": canonicalize and cse on tfm.
// RUN: kiln-opt %s --pass-pipeline='builtin.module(canonicalize,cse)' -o %t.tfm
// RUN: FileCheck %s --check-prefix=TFM < %t.tfm

// Stage "linalg".
// RUN: kiln-opt %t.tfm --pass-pipeline='builtin.module(func.func(tfm-decompose-attention),tfm-outline-weights,func.func(convert-tfm-to-linalg),canonicalize,cse)' -o %t.linalg
// RUN: FileCheck %s --check-prefix=LINALG < %t.linalg

// Stage "bufferized".
// RUN: kiln-opt %t.linalg --pass-pipeline='builtin.module(one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},buffer-results-to-out-params{hoist-static-allocs modify-public-functions},buffer-deallocation-pipeline,canonicalize)' -o %t.bufferized
// RUN: FileCheck %s --check-prefix=BUFFERIZED < %t.bufferized

// Stage "loops".
// RUN: kiln-opt %t.bufferized --pass-pipeline='builtin.module(func.func(convert-linalg-to-parallel-loops,kiln-serialize-nested-parallel-loops),canonicalize)' -o %t.loops
// RUN: FileCheck %s --check-prefix=LOOPS < %t.loops

// Stage "llvm".
// RUN: kiln-opt %t.loops --pass-pipeline='builtin.module(convert-scf-to-openmp,canonicalize,convert-scf-to-cf,convert-openmp-to-llvm,expand-strided-metadata,lower-affine,finalize-memref-to-llvm,convert-math-to-llvm,convert-math-to-libm,convert-arith-to-llvm,convert-index-to-llvm,convert-func-to-llvm,convert-cf-to-llvm,reconcile-unrealized-casts)' -o %t.llvm
// RUN: FileCheck %s --check-prefix=LLVM < %t.llvm
// RUN: FileCheck %s --check-prefix=LLVM-ONLY < %t.llvm

// The scale by 1 folds away; everything else is still tfm.
// TFM-LABEL: func.func @forward
// TFM-NOT:     tfm.scale
// TFM:         tfm.attention
// TFM-LABEL: func.func @no_c_interface

// LINALG-LABEL: func.func @forward
// LINALG-SAME:    %{{.+}}: tensor<2x5x8xf32>
// LINALG-SAME:    %{{.+}}: tensor<8xf32> {tfm.weight = "ln.weight"}
// LINALG-SAME:    %{{.+}}: tensor<8xf32> {tfm.weight = "ln.bias"}
// LINALG-SAME:    %{{.+}}: tensor<8x8xf32> {tfm.weight = "fc.weight"}
// LINALG-SAME:    -> tensor<2x5x8xf32> attributes {llvm.emit_c_interface}
// LINALG-NOT:     tfm.
// LINALG:         linalg.matmul
// LINALG:         math.erf
// LINALG:         linalg.batch_matmul
// LINALG:         math.exp
// LINALG:         linalg.batch_matmul
// LINALG-LABEL: func.func @no_c_interface

// The result becomes a caller-owned out-parameter that the last op writes;
// temporaries are freed before returning nothing.
// BUFFERIZED-LABEL: func.func @forward
// BUFFERIZED-SAME:    (%{{.+}}: memref<2x5x8xf32>, {{.+}}, %[[OUT:[a-z0-9]+]]: memref<2x5x8xf32>)
// BUFFERIZED-SAME:    attributes {llvm.emit_c_interface}
// BUFFERIZED-NOT:     tensor<
// BUFFERIZED:         linalg.generic {{.+}} outs(%[[OUT]] : memref<2x5x8xf32>)
// BUFFERIZED:         memref.dealloc
// BUFFERIZED-NOT:     linalg.
// BUFFERIZED:         return{{$}}
// BUFFERIZED-LABEL: func.func @no_c_interface
// BUFFERIZED-SAME:    (%{{.+}}: memref<4xf32>, %{{.+}}: memref<4xf32>){{ }}{

// Linalg ops are loops now, and only the outermost loop of a nest is
// parallel: the softmax over axis 1 iterates (parallel, reduction, parallel)
// and its innermost parallel axis has become an scf.for.
// LOOPS-LABEL: func.func @forward
// LOOPS-NOT:     linalg.
// LOOPS:         scf.parallel (%[[B:[a-z0-9]+]]) = (%{{.+}}) to (%{{.+}}) step
// LOOPS-NEXT:      scf.for %[[S:[a-z0-9]+]] =
// LOOPS-NEXT:        scf.for %[[D:[a-z0-9]+]] =
// LOOPS-NEXT:          memref.load %{{.+}}[%[[B]], %[[S]], %[[D]]]
// LOOPS-LABEL: func.func @no_c_interface

// LLVM:       llvm.func @erff(f32) -> f32
// LLVM:       llvm.func @forward(
// LLVM-SAME:    attributes {llvm.emit_c_interface}
// LLVM:         omp.parallel {
// LLVM-NEXT:      omp.wsloop {
// LLVM-NEXT:        omp.loop_nest
// LLVM:         llvm.call @erff
// LLVM:         llvm.return
// LLVM:       llvm.func @_mlir_ciface_forward(%{{.+}}: !llvm.ptr,
// LLVM:         llvm.call @forward(
// LLVM:       llvm.func @no_c_interface(
// LLVM-NOT:   _mlir_ciface_no_c_interface

// Nothing but llvm and omp ops is left.
// LLVM-ONLY-NOT: {{^ *(%[^ ]+ = )?(tfm|linalg|tensor|bufferization|memref|scf|math|arith|cf|func|affine)\.}}
// LLVM-ONLY-NOT: unrealized_conversion_cast

func.func @forward(%x: tensor<2x5x8xf32>) -> tensor<2x5x8xf32> attributes {llvm.emit_c_interface} {
  %g = tfm.weight "ln.weight" : tensor<8xf32>
  %b = tfm.weight "ln.bias" : tensor<8xf32>
  %w = tfm.weight "fc.weight" : tensor<8x8xf32>
  %n = tfm.layer_norm %x, %g, %b : tensor<2x5x8xf32>, tensor<8xf32>, tensor<8xf32>
  %l = tfm.linear %n, %w, %b {activation = #tfm.activation<gelu>} : (tensor<2x5x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<2x5x8xf32>
  %q = tfm.reshape %l : tensor<2x5x8xf32> -> tensor<2x5x2x4xf32>
  %t = tfm.transpose %q [0, 2, 1, 3] : tensor<2x5x2x4xf32> -> tensor<2x2x5x4xf32>
  %a = tfm.attention %t, %t, %t {mask = #tfm.mask<causal>, scale = 0.5 : f32} : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>) -> tensor<2x2x5x4xf32>
  %u = tfm.transpose %a [0, 2, 1, 3] : tensor<2x2x5x4xf32> -> tensor<2x5x2x4xf32>
  %v = tfm.reshape %u : tensor<2x5x2x4xf32> -> tensor<2x5x8xf32>
  %s = tfm.scale %v {factor = 1.0 : f32} : tensor<2x5x8xf32>
  %y = tfm.add %s, %x : tensor<2x5x8xf32>, tensor<2x5x8xf32> -> tensor<2x5x8xf32>
  %p = tfm.softmax %y {axis = 1} : tensor<2x5x8xf32>
  return %p : tensor<2x5x8xf32>
}

// Without the attribute no C interface wrapper is emitted.
func.func @no_c_interface(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tfm.relu %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}
