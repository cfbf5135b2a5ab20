#!/usr/bin/env bash
# `make demo`: compile the bundled example model and run it.
#
# The example is a 2-layer GPT-style language model written by hand in the
# tfm dialect (test/e2e/models/tiny_gpt.mlir) with random weights; its
# reference logits come from PyTorch (utils/fixtures/make_op_fixtures.py).
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
model=$root/test/e2e/models/tiny_gpt.mlir
fixtures=$root/test/fixtures/tiny_gpt
out=$build/demo
rm -rf "$out" && mkdir -p "$out"

echo "== Kiln demo: a 2-layer GPT-style model in the tfm dialect =="
echo "compile: kiln compile $model --weights $fixtures/weights.safetensors"
start=$(date +%s.%N)
"$build/bin/kiln" compile "$model" -o "$out/tiny_gpt" \
  --weights "$fixtures/weights.safetensors" --dump-ir "$out/ir"
end=$(date +%s.%N)
printf 'compiled in %.2f s: %s (%s bytes), IR of every stage in %s/\n' \
  "$(awk "BEGIN {print $end - $start}")" "$out/tiny_gpt" \
  "$(stat -c %s "$out/tiny_gpt")" "$out/ir"

echo
echo "run: $out/tiny_gpt --input ids=ids.npy --bench 20"
"$out/tiny_gpt" --input "ids=$fixtures/ids.npy" --bench 20
"$out/tiny_gpt" --input "ids=$fixtures/ids.npy" --output "$out/result" >/dev/null

echo
echo "compare with the PyTorch reference:"
"$build/bin/npy-compare" "$out/result/logits.npy" "$fixtures/logits.npy"
