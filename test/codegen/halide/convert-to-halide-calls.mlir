// RUN: kiln-opt %s --split-input-file --kiln-convert-to-halide-calls=target-features=avx2+fma+avx512 | FileCheck %s

// A linear layer on panels: the input's rows, the panels and the bias are
// read-only buffers, the output a fresh buffer; the wrapper builds one
// halide_buffer_t per memref and calls the kernel declared with its spec.
// CHECK-LABEL: func.func @linear
// CHECK:         %[[X:.+]] = tensor.collapse_shape %arg0 {{\[}}[0, 1], [2]] : tensor<2x3x8xf32> into tensor<6x8xf32>
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<6x40xf32>
// CHECK:         call @[[KERNEL:kiln_hl_linear_[0-9a-f]+]]_call(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}})
// CHECK:         bufferization.to_tensor %[[OUT]] restrict writable
// CHECK:         tensor.expand_shape
// CHECK:       func.func private @[[KERNEL]](!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr) -> i32
// CHECK-SAME:    kiln.halide_spec = "{\22args\22:[{\22dtype\22:\22f32\22,\22name\22:\22x\22,\22shape\22:[6,8]},{\22dtype\22:\22f32\22,\22name\22:\22weight\22,\22shape\22:[2,8,32]},{\22dtype\22:\22f32\22,\22name\22:\22bias\22,\22shape\22:[40]},{\22dtype\22:\22f32\22,\22name\22:\22out\22,\22shape\22:[6,40]}],\22attrs\22:{\22activation\22:\22gelu\22,\22has_bias\22:true,\22weight_layout\22:\22panels\22},\22op\22:\22linear\22,\22schedule\22:\22cpu\22,\22target\22:{\22arch\22:\22x86-64\22,\22features\22:[\22avx2\22,\22fma\22,\22avx512\22]}}"
// CHECK:       func.func private @[[KERNEL]]_call(%[[A0:[a-z0-9]+]]: memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK:         memref.extract_strided_metadata %[[A0]]
// CHECK:         memref.extract_aligned_pointer_as_index %[[A0]]
// CHECK:         llvm.alloca %{{.+}} x !llvm.struct<(i32, i32, i32, i32)>
// CHECK:         llvm.alloca %{{.+}} x !llvm.struct<(i64, ptr, ptr, i64, i8, i8, i16, i32, ptr, ptr)>
// CHECK:         call @[[KERNEL]](%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr) -> i32
func.func @linear(%x: tensor<2x3x8xf32>, %w: tensor<2x8x32xf32>, %b: tensor<40xf32>) -> tensor<2x3x40xf32> {
  %0 = tfm.linear %x, %w, %b {activation = #tfm.activation<gelu>, weight_panels, kiln.backend = "halide"} : (tensor<2x3x8xf32>, tensor<2x8x32xf32>, tensor<40xf32>) -> tensor<2x3x40xf32>
  return %0 : tensor<2x3x40xf32>
}

// -----

// Two equal layers share one kernel; a different shape gets another.
// CHECK-LABEL: func.func @shared
// CHECK:         call @[[A:kiln_hl_layer_norm_[0-9a-f]+]]_call
// CHECK:         call @[[A]]_call
// CHECK:         call @[[B:kiln_hl_layer_norm_[0-9a-f]+]]_call
// CHECK-COUNT-2: func.func private @kiln_hl_layer_norm_{{[0-9a-f]+}}(
// CHECK-NOT:     func.func private @kiln_hl_layer_norm_{{[0-9a-f]+}}(
func.func @shared(%x: tensor<4x8xf32>, %y: tensor<2x8xf32>, %g: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<2x8xf32>) {
  %0 = tfm.layer_norm %x, %g, %g {kiln.backend = "halide"} : tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>
  %1 = tfm.layer_norm %0, %g, %g {kiln.backend = "halide"} : tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>
  %2 = tfm.layer_norm %y, %g, %g {kiln.backend = "halide"} : tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>
  return %0, %1, %2 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<2x8xf32>
}

// -----

// Attention between head split and merge transposes reads the projections
// and writes the merged layout through transposed views; the lengths are an
// i64 buffer.
// CHECK-LABEL: func.func @attention
// CHECK:         %[[Q:.+]] = memref.transpose %{{.+}} (d0, d1, d2, d3) -> (d0, d2, d1, d3)
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<2x6x2x4xf32>
// CHECK:         %[[OUTV:.+]] = memref.transpose %{{.+}} (d0, d1, d2, d3) -> (d0, d2, d1, d3)
// CHECK:         call @{{kiln_hl_attention_[0-9a-f]+}}_call(%[[Q]], %{{.+}}, %{{.+}}, %{{.+}}, %[[OUTV]]) : ({{.*}}, memref<?xi64, strided<[?], offset: ?>>, {{.*}}) -> ()
// CHECK:         %[[R:.+]] = bufferization.to_tensor %[[OUT]]
// CHECK:         return %[[R]]
// CHECK:       kiln.halide_spec = "{{.*}}\22mask\22:\22padding\22,\22scale\22:0.5{{.*}}"
func.func @attention(%p: tensor<2x6x2x4xf32>, %l: tensor<2xi64>) -> tensor<2x6x2x4xf32> {
  %q = tfm.transpose %p [0, 2, 1, 3] : tensor<2x6x2x4xf32> -> tensor<2x2x6x4xf32>
  %0 = tfm.attention %q, %q, %q lengths(%l) {mask = #tfm.mask<padding>, scale = 0.5 : f32, kiln.backend = "halide"} : (tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>, tensor<2xi64>) -> tensor<2x2x6x4xf32>
  %1 = tfm.transpose %0 [0, 2, 1, 3] : tensor<2x2x6x4xf32> -> tensor<2x6x2x4xf32>
  return %1 : tensor<2x6x2x4xf32>
}

// -----

// An elementwise chain (GPT-2's residual add feeding a scaled gelu) becomes
// one kernel over its leaves: the [16] bias is read as [1, 16]. The chain's
// inner ops go; the add with a second use is a leaf's producer, not part of
// the chain.
// CHECK-LABEL: func.func @chain
// CHECK:         %[[SUM:.+]] = tfm.add %arg0, %arg1
// CHECK:         %[[BIAS:.+]] = tensor.expand_shape %arg2 {{\[}}[0, 1]] output_shape [1, 16] : tensor<16xf32> into tensor<1x16xf32>
// CHECK:         call @{{kiln_hl_elementwise_[0-9a-f]+}}_call
// CHECK-NOT:     tfm.gelu
// CHECK-NOT:     tfm.scale
// CHECK:       kiln.halide_spec = "{{.*}}\22program\22:{{\[}}{{\[}}\22add\22,0,1],{{\[}}\22gelu_tanh\22,2],{{\[}}\22const\22,0.5],{{\[}}\22mul\22,3,4]]{{.*}}"
func.func @chain(%x: tensor<4x16xf32>, %r: tensor<4x16xf32>, %b: tensor<16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %sum = tfm.add %x, %r : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>
  %0 = tfm.add %sum, %b : tensor<4x16xf32>, tensor<16xf32> -> tensor<4x16xf32>
  %1 = tfm.gelu %0 {approximation = #tfm.approximation<tanh>} : tensor<4x16xf32>
  %2 = tfm.scale %1 {factor = 0.5 : f32, kiln.backend = "halide"} : tensor<4x16xf32>
  %3 = tfm.relu %sum {kiln.backend = "halide"} : tensor<4x16xf32>
  return %2, %3 : tensor<4x16xf32>, tensor<4x16xf32>
}
