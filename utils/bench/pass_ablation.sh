#!/usr/bin/env bash
# What each optional pass is worth: compiles one checkpoint once with every
# pass and once with each optional pass disabled, and times the model's
# `--bench` report for each build, interleaved over rounds (median).
#
#   utils/bench/pass_ablation.sh MODEL_DIR KIND [BUILD_DIR] [THREADS] [ROUNDS]
#
# KIND is bert (encode a 128-token text, --batch 1 --sequence-lengths 128)
# or gpt2 (prefill of a 128-token prompt and 32 decoded tokens,
# --prefill-lengths 128). The list of passes comes from the driver.
set -euo pipefail
model=$1
kind=$2
build=$(cd "${3:-build}" && pwd)
threads=${4:-2}
rounds=${5:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passes=$("$build/bin/kiln" compile "$model" -o "$work/none" --disable-pass list 2>&1 |
  sed -n 's/.*not an optional pass (\(.*\))$/\1/p' | tr -d ',') || true
[ -n "$passes" ] || { echo "cannot read the pass list from kiln" >&2; exit 1; }

case $kind in
bert) flags=(--batch 1 --sequence-lengths 128) ;;
gpt2) flags=(--prefill-lengths 128) ;;
*) echo "KIND must be bert or gpt2" >&2; exit 1 ;;
esac
for variant in all $passes; do
  disable=()
  [ "$variant" = all ] || disable=(--disable-pass "$variant")
  "$build/bin/kiln" compile "$model" -o "$work/$variant" "${flags[@]}" "${disable[@]}"
done

text=$(python3 -c "print(' '.join(['hello world'] * 60))")
ids=$(python3 -c "print(' '.join(str((i * 7919) % 50000) for i in range(128)))")
measure() {
  if [ "$kind" = bert ]; then
    "$work/$1" --embed --bench --threads "$threads" "$text" "$text" "$text" \
      "$text" "$text" 2>&1 >/dev/null | sed -n 's/^encode: \([0-9.]*\) ms.*/\1/p'
  else
    "$work/$1" --ids "$ids" -n 32 --ignore-eos --bench --threads "$threads" \
      2>&1 >/dev/null | awk '/^prefill:/ { p = $2 } /^decode:/ { sub(/\(/, "", $4); d = $4 } END { print p, d }'
  fi
}
for round in $(seq "$rounds"); do
  for variant in all $passes; do
    echo "$variant $(measure "$variant")"
  done
done > "$work/times"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
label() { [ "$1" = all ] && echo "all passes" || echo "without $1"; }
if [ "$kind" = bert ]; then
  base=$(awk '$1 == "all" { print $2 }' "$work/times" | median)
  printf '%-40s %10s %8s\n' "build" "encode ms" "vs all"
  for variant in all $passes; do
    t=$(awk -v v="$variant" '$1 == v { print $2 }' "$work/times" | median)
    printf '%-40s %10.2f %8.2f\n' "$(label "$variant")" "$t" "$(awk "BEGIN {print $t / $base}")"
  done
else
  base=$(awk '$1 == "all" { print $2 }' "$work/times" | median)
  dbase=$(awk '$1 == "all" { print $3 }' "$work/times" | median)
  printf '%-40s %11s %8s %13s %8s\n' "build" "prefill ms" "vs all" "decode ms/tok" "vs all"
  for variant in all $passes; do
    p=$(awk -v v="$variant" '$1 == v { print $2 }' "$work/times" | median)
    d=$(awk -v v="$variant" '$1 == v { print $3 }' "$work/times" | median)
    printf '%-40s %11.2f %8.2f %13.3f %8.2f\n' "$(label "$variant")" "$p" \
      "$(awk "BEGIN {print $p / $base}")" "$d" "$(awk "BEGIN {print $d / $dbase}")"
  done
fi
