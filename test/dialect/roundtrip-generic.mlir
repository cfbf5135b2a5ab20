// RUN: kiln-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC
// RUN: kiln-opt %s --mlir-print-op-generic | kiln-opt | FileCheck %s

// The generic form holds everything the custom form does: inherent
// attributes (with their defaults) become properties, attention's optional
// operands get segment sizes, and printing it back gives the custom form.

// GENERIC-LABEL: sym_name = "block"
// GENERIC:         "tfm.weight"() <{name = "ln.weight"}> : () -> tensor<8xf32>
// GENERIC:         "tfm.constant"() <{value = dense<[0, 1, 2, 3, 4]> : tensor<5xi64>}> : () -> tensor<5xi64>
// GENERIC:         "tfm.embedding"(%{{.+}}, %{{.+}}) : (tensor<10x8xf32>, tensor<5xi64>) -> tensor<5x8xf32>
// GENERIC:         "tfm.gather"(%{{.+}}, %{{.+}}) <{axis = 0 : i64}> : (tensor<2x5xi64>, tensor<1xi64>) -> tensor<1x5xi64>
// GENERIC:         "tfm.layer_norm"(%{{.+}}, %{{.+}}, %{{.+}}) <{epsilon = 9.99999974E-6 : f32}>
// GENERIC:         "tfm.rms_norm"(%{{.+}}, %{{.+}}) <{epsilon = 9.99999974E-6 : f32}>
// GENERIC:         "tfm.linear"(%{{.+}}, %{{.+}}, %{{.+}}) <{activation = #tfm.activation<none>}>
// GENERIC:         "tfm.reshape"(%{{.+}}) : (tensor<2x5x8xf32>) -> tensor<2x5x2x4xf32>
// GENERIC:         "tfm.transpose"(%{{.+}}) <{permutation = array<i64: 0, 2, 1, 3>}>
// GENERIC:         "tfm.causal_mask"() : () -> tensor<5x5xf32>
// GENERIC:         "tfm.padding_mask"(%{{.+}}) : (tensor<2xi64>) -> tensor<2x1x1x5xf32>
// GENERIC:         "tfm.attention"(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) <{mask = #tfm.mask<padding>, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>, scale = 5.000000e-01 : f32}>
// GENERIC:         "tfm.attention"(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) <{mask = #tfm.mask<causal>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 1>, scale = 5.000000e-01 : f32}>
// GENERIC:         "tfm.matmul"(%{{.+}}, %{{.+}}) <{transpose_rhs}>
// GENERIC:         "tfm.scale"(%{{.+}}) <{factor = 5.000000e-01 : f32}>
// GENERIC:         "tfm.softmax"(%{{.+}}) <{axis = -1 : i64}>
// GENERIC:         "tfm.add"(%{{.+}}, %{{.+}}) : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>) -> tensor<2x2x5x4xf32>
// GENERIC:         "tfm.slice"(%{{.+}}) <{offsets = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 2>}>
// GENERIC:         "tfm.concat"(%{{.+}}, %{{.+}}) <{axis = 3 : i64}>
// GENERIC:         "tfm.gelu"(%{{.+}}) <{approximation = #tfm.approximation<tanh>}>
// GENERIC:         "tfm.quick_gelu"(%{{.+}}) : (tensor<2x5x8xf32>) -> tensor<2x5x8xf32>

// CHECK-LABEL: func.func @block
// CHECK:         tfm.weight "ln.weight" : tensor<8xf32>
// CHECK:         tfm.constant dense<[0, 1, 2, 3, 4]> : tensor<5xi64>
// CHECK:         tfm.embedding
// CHECK:         tfm.gather %{{.+}}[%{{.+}}] {axis = 0 : i64}
// CHECK:         tfm.layer_norm %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} : tensor<2x5x8xf32>
// CHECK:         tfm.rms_norm %{{[a-z0-9]+}}, %{{[a-z0-9]+}} {epsilon = 9.99999974E-6 : f32}
// CHECK:         tfm.linear %{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}} : (
// CHECK:         tfm.reshape
// CHECK:         tfm.transpose %{{.+}} [0, 2, 1, 3]
// CHECK:         tfm.causal_mask : tensor<5x5xf32>
// CHECK:         tfm.padding_mask %{{.+}} : tensor<2xi64> -> tensor<2x1x1x5xf32>
// CHECK:         tfm.attention %[[T:.+]], %[[T]], %[[T]] lengths(%{{.+}}) {mask = #tfm.mask<padding>, scale = 5.000000e-01 : f32}
// CHECK:         tfm.attention %[[T]], %[[T]], %[[T]] bias(%{{.+}}) {mask = #tfm.mask<causal>, scale = 5.000000e-01 : f32}
// CHECK:         tfm.matmul %{{.+}}, %{{.+}} {transpose_rhs}
// CHECK:         tfm.scale %{{.+}} {factor = 5.000000e-01 : f32}
// CHECK:         tfm.softmax %{{[a-z0-9]+}} : tensor<2x2x5x5xf32>
// CHECK:         tfm.add
// CHECK:         tfm.slice %{{.+}} offsets = [0, 0, 0, 0] strides = [1, 1, 1, 2]
// CHECK:         tfm.concat %{{.+}}, %{{.+}} {axis = 3 : i64}
// CHECK:         tfm.gelu %{{.+}} {approximation = #tfm.approximation<tanh>}
// CHECK:         tfm.quick_gelu
func.func @block(%ids: tensor<5xi64>, %len: tensor<2xi64>, %bias: tensor<5x5xf32>) -> tensor<2x5x8xf32> {
  %wte = tfm.weight "wte.weight" : tensor<10x8xf32>
  %g = tfm.weight "ln.weight" : tensor<8xf32>
  %b = tfm.weight "ln.bias" : tensor<8xf32>
  %w = tfm.weight "fc.weight" : tensor<8x8xf32>
  %pos = tfm.constant dense<[0, 1, 2, 3, 4]> : tensor<5xi64>
  %e = tfm.embedding %wte[%pos] : (tensor<10x8xf32>, tensor<5xi64>) -> tensor<5x8xf32>
  %two = tfm.constant dense<[[0, 1, 2, 3, 4], [4, 3, 2, 1, 0]]> : tensor<2x5xi64>
  %first = tfm.constant dense<0> : tensor<1xi64>
  %row = tfm.gather %two[%first] {axis = 0} : (tensor<2x5xi64>, tensor<1xi64>) -> tensor<1x5xi64>
  %tok = tfm.embedding %wte[%row] : (tensor<10x8xf32>, tensor<1x5xi64>) -> tensor<1x5x8xf32>
  %x = tfm.add %tok, %e : tensor<1x5x8xf32>, tensor<5x8xf32> -> tensor<1x5x8xf32>
  %x2 = tfm.concat %x, %x {axis = 0} : (tensor<1x5x8xf32>, tensor<1x5x8xf32>) -> tensor<2x5x8xf32>
  %n = tfm.layer_norm %x2, %g, %b : tensor<2x5x8xf32>, tensor<8xf32>, tensor<8xf32>
  %r = tfm.rms_norm %n, %g {epsilon = 1.0e-5 : f32} : tensor<2x5x8xf32>, tensor<8xf32>
  %l = tfm.linear %r, %w, %b : (tensor<2x5x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<2x5x8xf32>
  %q = tfm.reshape %l : tensor<2x5x8xf32> -> tensor<2x5x2x4xf32>
  %t = tfm.transpose %q [0, 2, 1, 3] : tensor<2x5x2x4xf32> -> tensor<2x2x5x4xf32>
  %cm = tfm.causal_mask : tensor<5x5xf32>
  %pm = tfm.padding_mask %len : tensor<2xi64> -> tensor<2x1x1x5xf32>
  %a = tfm.attention %t, %t, %t lengths(%len) {mask = #tfm.mask<padding>, scale = 0.5 : f32} : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2xi64>) -> tensor<2x2x5x4xf32>
  %c = tfm.attention %t, %t, %t bias(%bias) {mask = #tfm.mask<causal>, scale = 0.5 : f32} : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<5x5xf32>) -> tensor<2x2x5x4xf32>
  %s0 = tfm.matmul %t, %t {transpose_rhs} : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>) -> tensor<2x2x5x5xf32>
  %s1 = tfm.scale %s0 {factor = 0.5 : f32} : tensor<2x2x5x5xf32>
  %s2 = tfm.add %s1, %cm : tensor<2x2x5x5xf32>, tensor<5x5xf32> -> tensor<2x2x5x5xf32>
  %s3 = tfm.add %s2, %pm : tensor<2x2x5x5xf32>, tensor<2x1x1x5xf32> -> tensor<2x2x5x5xf32>
  %p = tfm.softmax %s3 : tensor<2x2x5x5xf32>
  %o = tfm.matmul %p, %t : (tensor<2x2x5x5xf32>, tensor<2x2x5x4xf32>) -> tensor<2x2x5x4xf32>
  %sum = tfm.add %a, %c : tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32> -> tensor<2x2x5x4xf32>
  %sum2 = tfm.sub %sum, %o : tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32> -> tensor<2x2x5x4xf32>
  %half = tfm.slice %sum2 offsets = [0, 0, 0, 0] strides = [1, 1, 1, 2] : tensor<2x2x5x4xf32> -> tensor<2x2x5x2xf32>
  %m = tfm.mul %half, %half : tensor<2x2x5x2xf32>, tensor<2x2x5x2xf32> -> tensor<2x2x5x2xf32>
  %d = tfm.div %m, %half : tensor<2x2x5x2xf32>, tensor<2x2x5x2xf32> -> tensor<2x2x5x2xf32>
  %full = tfm.concat %half, %d {axis = 3} : (tensor<2x2x5x2xf32>, tensor<2x2x5x2xf32>) -> tensor<2x2x5x4xf32>
  %u = tfm.transpose %full [0, 2, 1, 3] : tensor<2x2x5x4xf32> -> tensor<2x5x2x4xf32>
  %v = tfm.reshape %u : tensor<2x5x2x4xf32> -> tensor<2x5x8xf32>
  %gl = tfm.gelu %v {approximation = #tfm.approximation<tanh>} : tensor<2x5x8xf32>
  %qg = tfm.quick_gelu %gl : tensor<2x5x8xf32>
  %si = tfm.silu %qg : tensor<2x5x8xf32>
  %re = tfm.relu %si : tensor<2x5x8xf32>
  return %re : tensor<2x5x8xf32>
}
