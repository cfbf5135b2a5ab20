// RUN: kiln-opt %s --verify-diagnostics \
// RUN:   --kiln-prepare-entries=entry=missing -o /dev/null

// A named entry must exist.
// expected-error @below {{no function named 'missing'}}
module {
  func.func @forward(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}
