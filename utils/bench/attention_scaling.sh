#!/usr/bin/env bash
# Causal self-attention (12 heads, head size 64, batch 1) as the model
# builders emit it — Q·Kᵀ, scale, causal mask, softmax, ·V — compiled twice:
# fused (the default: tfm-fuse-attention, then the runtime's flash kernel)
# and unfused (--disable-pass tfm-fuse-attention: the score matrix in
# memory, softmax as loops, the products on the GEMM kernels). For each
# sequence length it prints the median time of the compiled entry
# (--bench) and the process's peak resident memory (GNU time), whose growth
# shows whether attention's memory is linear or quadratic in S.
#
#   utils/bench/attention_scaling.sh [BUILD_DIR] [WORK_DIR] [THREADS]
#
# Needs python3 with numpy to write the random inputs.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
work=${2:-/tmp/kiln-attention}
threads=${3:-2}
mkdir -p "$work"

printf '%-6s %-8s %12s %14s\n' S variant "median ms" "peak RSS MB"
for s in 512 1024 2048 4096; do
  shape="1x12x${s}x64xf32"
  cat > "$work/attention_$s.mlir" <<MLIR
func.func @attention(%q: tensor<$shape> {tfm.name = "q"}, %k: tensor<$shape> {tfm.name = "k"}, %v: tensor<$shape> {tfm.name = "v"}) -> (tensor<$shape> {tfm.name = "o"}) {
  %s = tfm.matmul %q, %k {transpose_rhs} : (tensor<$shape>, tensor<$shape>) -> tensor<1x12x${s}x${s}xf32>
  %t = tfm.scale %s {factor = 0.125 : f32} : tensor<1x12x${s}x${s}xf32>
  %m = tfm.causal_mask : tensor<${s}x${s}xf32>
  %a = tfm.add %t, %m : tensor<1x12x${s}x${s}xf32>, tensor<${s}x${s}xf32> -> tensor<1x12x${s}x${s}xf32>
  %p = tfm.softmax %a : tensor<1x12x${s}x${s}xf32>
  %o = tfm.matmul %p, %v : (tensor<1x12x${s}x${s}xf32>, tensor<$shape>) -> tensor<$shape>
  return %o : tensor<$shape>
}
MLIR
  python3 - "$work" "$s" <<'PY'
import sys, numpy as np
work, s = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(s)
for name in "qkv":
    np.save(f"{work}/{name}_{s}.npy", rng.standard_normal((1, 12, s, 64), dtype=np.float32))
PY
  for variant in fused unfused; do
    flags=()
    [ "$variant" = unfused ] && flags=(--disable-pass tfm-fuse-attention)
    "$build/bin/kiln" compile "$work/attention_$s.mlir" -o "$work/attention_${s}_$variant" "${flags[@]}"
    runs=$(( s >= 4096 ? 3 : 10 ))
    out=$( { /usr/bin/time -f 'peak_kb %M' "$work/attention_${s}_$variant" \
               --input q="$work/q_$s.npy" --input k="$work/k_$s.npy" \
               --input v="$work/v_$s.npy" --output "$work/out_${s}_$variant" \
               --threads "$threads" --bench "$runs"; } 2>&1 )
    median=$(sed -n 's/^bench: median \([0-9.]*\) ms.*/\1/p' <<<"$out")
    peak=$(sed -n 's/^peak_kb \([0-9]*\)/\1/p' <<<"$out")
    printf '%-6s %-8s %12s %14.1f\n' "$s" "$variant" "$median" "$(awk "BEGIN {print $peak / 1024}")"
  done
  python3 -c "
import numpy as np, sys
a = np.load('$work/out_${s}_fused/o.npy'); b = np.load('$work/out_${s}_unfused/o.npy')
print(f'       max |fused - unfused| = {np.abs(a - b).max():.2e}')"
done
