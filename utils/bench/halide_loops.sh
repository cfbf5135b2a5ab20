#!/usr/bin/env bash
# The ops `--backend llvm` lowers to generated loops (no hand-written
# kernel), against their Halide kernels: softmax over [12, 128, 128] (the
# scores of 12 heads at 128 tokens) and GPT-2's elementwise chain after a
# projection (bias add, gelu, residual add) over [128, 3072].
#
#   utils/bench/halide_loops.sh [BUILD_DIR] [THREADS]   (defaults: build, 1)
#
# Each program is compiled with --backend llvm and --backend halide and run
# with --bench 200 (median of 200 calls), three times, alternating.
set -euo pipefail
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
kiln=$(cd "${1:-build}" && pwd)/bin/kiln
threads=${2:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > softmax.mlir <<'MLIR'
func.func @forward(%x: tensor<12x128x128xf32> {tfm.name = "x"}) -> (tensor<12x128x128xf32> {tfm.name = "y"}) {
  %y = tfm.softmax %x : tensor<12x128x128xf32>
  return %y : tensor<12x128x128xf32>
}
MLIR
cat > chain.mlir <<'MLIR'
func.func @forward(%x: tensor<128x3072xf32> {tfm.name = "x"}, %r: tensor<128x3072xf32> {tfm.name = "r"}, %b: tensor<3072xf32> {tfm.name = "b"}) -> (tensor<128x3072xf32> {tfm.name = "y"}) {
  %0 = tfm.add %x, %b : tensor<128x3072xf32>, tensor<3072xf32> -> tensor<128x3072xf32>
  %1 = tfm.gelu %0 : tensor<128x3072xf32>
  %y = tfm.add %1, %r : tensor<128x3072xf32>, tensor<128x3072xf32> -> tensor<128x3072xf32>
  return %y : tensor<128x3072xf32>
}
MLIR
python3 - <<'PY'
import random, struct
def save(path, shape):
    n = 1
    for d in shape:
        n *= d
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % "".join(
        "%d, " % d for d in shape)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    rng = random.Random(len(path))
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%df" % n, *(rng.uniform(-3, 3) for _ in range(n))))
save("x.npy", (12, 128, 128))
save("cx.npy", (128, 3072))
save("cr.npy", (128, 3072))
save("cb.npy", (3072,))
PY
for backend in llvm halide; do
  "$kiln" compile softmax.mlir -o softmax-$backend --backend $backend
  "$kiln" compile chain.mlir -o chain-$backend --backend $backend
done
for round in 1 2 3; do
  for backend in llvm halide; do
    printf 'softmax %-6s ' $backend
    ./softmax-$backend --input x=x.npy --threads "$threads" --bench 200 2>&1 | grep '^bench:'
    printf 'chain   %-6s ' $backend
    ./chain-$backend --input x=cx.npy --input r=cr.npy --input b=cb.npy \
      --threads "$threads" --bench 200 2>&1 | grep '^bench:'
  done
done
