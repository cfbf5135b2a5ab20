// RUN: kiln-opt %s --split-input-file --verify-diagnostics --kiln-convert-to-halide-calls

// An op marked for Halide that no kernel covers is an error, not a silent
// fallback.
func.func @not_kernelable(%x: tensor<4x8xf16>, %g: tensor<8xf16>) -> tensor<4x8xf16> {
  // expected-error @+1 {{cannot be computed by a Halide kernel (marked "halide")}}
  %0 = tfm.layer_norm %x, %g, %g {kiln.backend = "halide"} : tensor<4x8xf16>, tensor<8xf16>, tensor<8xf16>
  return %0 : tensor<4x8xf16>
}
