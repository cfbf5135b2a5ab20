// The stages of `kiln compile`, replayed one by one with the pipelines that
// kiln-opt registers from the driver's own stage list (getLoweringStages in
// codegen/Pipeline.cpp), each on the previous stage's output. Every stage's
// result must be what the driver prints with `--emit mlir --stop-after
// <stage>`, byte for byte: the test fails as soon as the two diverge. The
// checks after that say what each stage must leave behind.
//
// `--cpu x86-64-v3` has no AVX-512, so the driver packs weights in 16-wide
// panels, as `panel-width=16` asks. kiln-opt ends its output with one more
// newline than kiln, which sed drops.

// RUN: kiln compile %s --cpu x86-64-v3 --entry forward --emit mlir --stop-after tfm -o %t.kiln.tfm
// RUN: kiln-opt %s --kiln-stage-tfm='panel-width=16 entry=forward' | sed '${/^$/d;}' > %t.tfm
// RUN: diff %t.kiln.tfm %t.tfm
// RUN: FileCheck %s --check-prefix=TFM < %t.tfm

// RUN: kiln compile %s --cpu x86-64-v3 --entry forward --emit mlir --stop-after linalg -o %t.kiln.linalg
// RUN: kiln-opt %t.tfm --kiln-stage-linalg='panel-width=16 entry=forward' | sed '${/^$/d;}' > %t.linalg
// RUN: diff %t.kiln.linalg %t.linalg
// RUN: FileCheck %s --check-prefix=LINALG < %t.linalg

// RUN: kiln compile %s --cpu x86-64-v3 --entry forward --emit mlir --stop-after bufferized -o %t.kiln.bufferized
// RUN: kiln-opt %t.linalg --kiln-stage-bufferized='panel-width=16 entry=forward' | sed '${/^$/d;}' > %t.bufferized
// RUN: diff %t.kiln.bufferized %t.bufferized
// RUN: FileCheck %s --check-prefix=BUFFERIZED < %t.bufferized

// RUN: kiln compile %s --cpu x86-64-v3 --entry forward --emit mlir --stop-after loops -o %t.kiln.loops
// RUN: kiln-opt %t.bufferized --kiln-stage-loops='panel-width=16 entry=forward' | sed '${/^$/d;}' > %t.loops
// RUN: diff %t.kiln.loops %t.loops
// RUN: FileCheck %s --check-prefix=LOOPS < %t.loops

// RUN: kiln compile %s --cpu x86-64-v3 --entry forward --emit mlir --stop-after llvm -o %t.kiln.llvm
// RUN: kiln-opt %t.loops --kiln-stage-llvm='panel-width=16 entry=forward' | sed '${/^$/d;}' > %t.llvm
// RUN: diff %t.kiln.llvm %t.llvm
// RUN: FileCheck %s --check-prefix=LLVM < %t.llvm
// RUN: FileCheck %s --check-prefix=LLVM-ONLY < %t.llvm

// The scale by 1 folds away; the linear weight is packed in panels by
// prepare_weights, the load-time entry; everything is still tfm.
// TFM-LABEL: func.func @forward(
// TFM-NOT:     tfm.scale
// TFM:         tfm.weight "pack_panels[width=16](fc.weight)" : tensor<1x8x16xf32>
// TFM:         tfm.linear {{.+}} weight_panels
// TFM:         tfm.attention
// TFM-LABEL: func.func @no_c_interface(
// TFM-LABEL: func.func @prepare_weights()
// TFM:         tfm.pack_panels

// The norm, the linear layer on panels and the attention are kernel calls
// (the head transposes around attention are views); the rest is linalg on
// tensors. Weights are entry arguments, still named for the signature.
// LINALG-LABEL: func.func @forward(
// LINALG-SAME:    %{{.+}}: tensor<2x5x8xf32>,
// LINALG-SAME:    %{{.+}}: tensor<8xf32> {tfm.weight = "ln.weight"},
// LINALG-SAME:    %{{.+}}: tensor<8xf32> {tfm.weight = "ln.bias"},
// LINALG-SAME:    %{{.+}}: tensor<1x8x16xf32> {tfm.weight = "pack_panels[width=16](fc.weight)"})
// LINALG-SAME:    -> tensor<2x5x8xf32> {
// LINALG-NOT:     tfm.
// LINALG:         call @kiln_layer_norm_f32(
// LINALG:         call @kiln_linear_panels_f32(
// LINALG:         memref.transpose
// LINALG:         call @kiln_attention_f32(
// LINALG:         linalg.generic
// LINALG:         math.exp
// LINALG-LABEL: func.func @no_c_interface(
// LINALG-LABEL: func.func @prepare_weights(
// LINALG-SAME:    %{{.+}}: tensor<8x8xf32> {tfm.weight = "fc.weight"})
// LINALG:         call @kiln_pack_panels_f32(

// The signature has been read: kiln-prepare-entries dropped the names and
// asked for the C interface of the entries. The result is a caller-owned
// out-parameter, the temporaries share one arena argument, and
// prepare_weights releases the checkpoint tensor that only it reads.
// @no_c_interface is no entry (--entry forward): no C interface.
// BUFFERIZED-LABEL: func.func @forward(
// BUFFERIZED-SAME:    %{{.+}}: memref<2x5x8xf32>, %{{.+}}: memref<8xf32>, %{{.+}}: memref<8xf32>, %{{.+}}: memref<1x8x16xf32>,
// BUFFERIZED-SAME:    %[[OUT:[a-z0-9]+]]: memref<2x5x8xf32>, %[[ARENA:[a-z0-9]+]]: memref<640xi8> {kiln.arena})
// BUFFERIZED-SAME:    attributes {kiln.arena_bytes = 640 : i64, llvm.emit_c_interface}
// BUFFERIZED-NOT:     tensor<
// BUFFERIZED-NOT:     memref.alloc
// BUFFERIZED:         memref.view %[[ARENA]]
// BUFFERIZED:         linalg.generic {{.+}} outs(%[[OUT]] : memref<2x5x8xf32>)
// BUFFERIZED:         return{{$}}
// BUFFERIZED-LABEL: func.func @no_c_interface(
// BUFFERIZED-SAME:    %{{.+}}: memref<4xf32>, %{{.+}}: memref<4xf32>) {
// BUFFERIZED-LABEL: func.func @prepare_weights(
// BUFFERIZED-SAME:    attributes {llvm.emit_c_interface}
// BUFFERIZED:         call @kiln_pack_panels_f32(
// BUFFERIZED:         call @kiln_release_weight(

// Linalg ops are loops now, and only the outermost loop of a nest is
// parallel: the softmax over axis 1 iterates (parallel, reduction, parallel)
// and its innermost parallel axis has become an scf.for. exp is an inline
// polynomial.
// LOOPS-LABEL: func.func @forward(
// LOOPS-NOT:     linalg.
// LOOPS-NOT:     math.exp
// LOOPS:         scf.parallel (%[[B:[a-z0-9]+]]) = (%{{.+}}) to (%{{.+}}) step
// LOOPS-NEXT:      scf.for %[[S:[a-z0-9]+]] =
// LOOPS-NEXT:        scf.for %[[D:[a-z0-9]+]] =
// LOOPS-NEXT:          memref.load %{{.+}}[%[[B]], %[[S]], %[[D]]]
// LOOPS-LABEL: func.func @no_c_interface(

// The parallel loops are OpenMP regions (served by the runtime's thread
// pool); entries and kernels are called through their C interfaces.
// LLVM-LABEL: llvm.func @forward(
// LLVM:         llvm.call @kiln_layer_norm_f32(
// LLVM:         omp.parallel {
// LLVM-NEXT:      omp.wsloop {
// LLVM-NEXT:        omp.loop_nest
// LLVM:         llvm.return
// LLVM:       llvm.func @_mlir_ciface_forward(
// LLVM:         llvm.call @forward(
// LLVM:       llvm.func @no_c_interface(
// LLVM:       llvm.func @_mlir_ciface_prepare_weights(
// LLVM:         llvm.call @_mlir_ciface_kiln_attention_f32(
// LLVM-NOT:   _mlir_ciface_no_c_interface

// Nothing but llvm and omp ops is left.
// LLVM-ONLY-NOT: {{^ *(%[^ ]+ = )?(tfm|linalg|tensor|bufferization|memref|scf|math|arith|cf|func|affine)\.}}
// LLVM-ONLY-NOT: unrealized_conversion_cast

func.func @forward(%x: tensor<2x5x8xf32>) -> tensor<2x5x8xf32> {
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

// Public, but not the entry the driver compiles: no C interface.
func.func @no_c_interface(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tfm.relu %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}
