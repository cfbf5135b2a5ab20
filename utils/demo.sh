#!/usr/bin/env bash
# `make demo`: compile real models to standalone executables and run them.
#
#   utils/demo.sh BUILD_DIR MINILM_DIR
#
# 1. all-MiniLM-L6-v2 (real pretrained weights, fetched by
#    utils/fetch_minilm.sh): sentence embeddings and their similarities.
# 2. A small GPT-2 (random weights, test/fixtures/gpt2/tiny): text generation
#    through the real GPT-2 tokenizer, prefill + KV-cache decode.
set -euo pipefail
build=${1:-build}
minilm=${2:?usage: demo.sh BUILD_DIR MINILM_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$build/demo
mkdir -p "$out"

timed_compile() {
  local start end
  start=$(date +%s.%N)
  "$build/bin/kiln" compile "$@"
  end=$(date +%s.%N)
  awk "BEGIN {printf \"compiled in %.1f s\\n\", $end - $start}"
}

echo "== all-MiniLM-L6-v2: kiln compile $minilm -o $out/minilm"
timed_compile "$minilm" -o "$out/minilm"
echo "executable: $out/minilm ($(stat -c %s "$out/minilm") bytes, weights and tokenizer inside)"
echo
"$out/minilm" --bench \
  "A man is playing a guitar." \
  "Someone is making music on an instrument." \
  "The stock market fell sharply today." \
  "Shares dropped as investors grew worried." \
  "A cat is sleeping on the sofa." \
  "The kitten naps on the couch."

echo
echo "== GPT-2 (2 layers, random weights, real tokenizer): kiln compile test/fixtures/gpt2/tiny"
timed_compile "$root/test/fixtures/gpt2/tiny" -o "$out/gpt2-tiny" --prefill-lengths 16
echo "$out/gpt2-tiny \"The quick brown fox\" -n 24 --bench"
"$out/gpt2-tiny" "The quick brown fox" -n 24 --bench
