#!/usr/bin/env bash
# GPT-2 small baseline: compile time, executable size, prefill latency for a
# 128-token prompt and decode speed, with 1 and 2 threads, median of 3 runs.
#
#   utils/bench/gpt2_baseline.sh [BUILD_DIR] [WORK_DIR]
#
# Needs torch and transformers (pip) once, to write a random full-size
# GPT-2 small checkpoint (124M parameters, ~500 MB, not committed).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
work=${2:-/tmp/kiln-gpt2-small}
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$work"
[ -f "$work/model/model.safetensors" ] ||
  python3 "$root/utils/fixtures/make_gpt2_fixtures.py" --gpt2-small "$work/model"

start=$(date +%s.%N)
"$build/bin/kiln" compile "$work/model" -o "$work/gpt2" --prefill-lengths 128
end=$(date +%s.%N)
echo "compile: $(awk "BEGIN {printf \"%.1f\", $end - $start}") s"
echo "executable: $(stat -c %s "$work/gpt2") bytes"

ids=$(python3 -c "print(' '.join(str((i * 7919) % 50000) for i in range(128)))")
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for threads in 1 2; do
  for run in 1 2 3; do
    "$work/gpt2" --ids "$ids" -n 16 --bench --threads "$threads" 2>&1 >/dev/null
  done > "$work/bench.txt"
  prefill=$(awk '/^prefill:/ { print $2 }' "$work/bench.txt" | median)
  decode=$(awk '/^decode:/ { print $2 }' "$work/bench.txt" | median)
  echo "threads $threads: prefill 128 tokens median $prefill ms, decode median $decode tokens/s"
done
