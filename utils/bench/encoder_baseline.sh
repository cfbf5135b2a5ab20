#!/usr/bin/env bash
# Encoder baselines, median of 3 runs each:
#  - BERT-base (random weights; 12 layers, 768 wide) at 128 tokens, batch 1,
#    with 1 and 2 threads;
#  - all-MiniLM-L6-v2 sentence embeddings per second for a batch of 32.
#
#   utils/bench/encoder_baseline.sh [BUILD_DIR] [WORK_DIR]
#
# Needs transformers (pip) once, to write the random BERT-base checkpoint,
# and the MiniLM download (utils/fetch_minilm.sh).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
work=${2:-/tmp/kiln-encoders}
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$work"
minilm=$("$root/utils/fetch_minilm.sh")
if [ ! -f "$work/bert-base/model.safetensors" ]; then
  python3 - "$work/bert-base" "$minilm/tokenizer.json" <<'PY'
import shutil, sys
import transformers as tf
tf.BertModel(tf.BertConfig()).save_pretrained(sys.argv[1], safe_serialization=True)
shutil.copy(sys.argv[2], sys.argv[1] + "/tokenizer.json")
PY
fi

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

"$build/bin/kiln" compile "$work/bert-base" -o "$work/bert-base.exe" --batch 1 --sequence-lengths 128
# 126 words + [CLS] + [SEP] = 128 tokens.
text=$(python3 -c "print(' '.join(['word'] * 126))")
for threads in 1 2; do
  ms=$(for run in 1 2 3; do
         "$work/bert-base.exe" --embed --threads "$threads" --bench "$text" 2>&1 >/dev/null |
           awk '/^encode:/ { print $2 }'
       done | median)
  echo "BERT-base, 128 tokens, batch 1, $threads thread(s): $ms ms"
done

"$build/bin/kiln" compile "$minilm" -o "$work/minilm32.exe" --batch 32 --sequence-lengths 16
python3 -c "
for i in range(32): print(f'Sentence number {i} is about a topic worth embedding.')" > "$work/sentences.txt"
for threads in 1 2; do
  rate=$(for run in 1 2 3; do
           "$work/minilm32.exe" --file "$work/sentences.txt" --output "$work/emb.npy" \
             --threads "$threads" --bench 2>&1 >/dev/null | awk '/^encode:/ { print $(NF-1) }'
         done | median)
  echo "all-MiniLM-L6-v2, batch of 32, $threads thread(s): $rate sentences/s"
done
