#!/bin/sh
# The patch embedding alone, on the LLVM path (patch rows, then the GEMM
# kernel) and the Halide path (one GEMM reading the image in place):
# ViT-B/16's (16x16 patches) and CLIP B/32's (32x32), 768 channels, a batch
# of 8 224x224 images. Needs numpy.
#
#   utils/bench/patch_embed.sh [BUILD_DIR] [RUNS]
set -eu
build=${1:-build}
runs=${2:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for model in vit:16 clip:32; do
  name=${model%%:*}
  patch=${model#*:}
  grid=$((224 / patch))
  tokens=$((grid * grid))
  cat > "$work/$name.mlir" <<MLIR
func.func @forward(%x: tensor<8x3x224x224xf32> {tfm.name = "x"}) -> (tensor<8x${tokens}x768xf32> {tfm.name = "y"}) {
  %w = tfm.weight "w" : tensor<768x3x${patch}x${patch}xf32>
  %b = tfm.weight "b" : tensor<768xf32>
  %y = tfm.patch_embed %x, %w, %b : (tensor<8x3x224x224xf32>, tensor<768x3x${patch}x${patch}xf32>, tensor<768xf32>) -> tensor<8x${tokens}x768xf32>
  return %y : tensor<8x${tokens}x768xf32>
}
MLIR
  python3 - "$work" "$name" "$patch" <<'PY'
import json, struct, sys
import numpy as np
work, name, patch = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = np.random.default_rng(0)
w = rng.standard_normal((768, 3, patch, patch)).astype(np.float32)
b = rng.standard_normal(768).astype(np.float32)
np.save(f"{work}/{name}.x.npy", rng.standard_normal((8, 3, 224, 224)).astype(np.float32))
header = {"w": {"dtype": "F32", "shape": list(w.shape), "data_offsets": [0, w.nbytes]},
          "b": {"dtype": "F32", "shape": [768], "data_offsets": [w.nbytes, w.nbytes + b.nbytes]}}
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
with open(f"{work}/{name}.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + w.tobytes() + b.tobytes())
PY
  for backend in llvm halide; do
    "$build/bin/kiln" compile "$work/$name.mlir" --weights "$work/$name.safetensors" \
      --backend $backend -o "$work/$name-$backend"
    printf '%s %s: ' "$name" "$backend"
    "$work/$name-$backend" --input "x=$work/$name.x.npy" --bench "$runs" 2>&1 |
      grep median
  done
done
