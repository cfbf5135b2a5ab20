#!/usr/bin/env bash
# Fetches Halide 21's C++ SDK once.
#
#   utils/fetch_halide.sh [CACHE_DIR]   (default: $KILN_CACHE or ~/.cache/kiln)
#
# Debian's Halide is 14 (LLVM 14, no Zen 4/5 tuning). PyPI's halide==21.0.0
# wheel carries the whole C++ SDK: include/Halide.h, lib64/libHalide.so (its
# own LLVM linked inside) and the runtime headers. pip downloads the wheel,
# which must match the pinned SHA-256; its halide/ folder (headers, libHalide
# and the notices, not the Python module) is unpacked to
# CACHE_DIR/halide-21.0.0. Prints that folder, the SDK root CMake takes as
# KILN_HALIDE_ROOT.
set -euo pipefail
cache=${1:-${KILN_CACHE:-$HOME/.cache/kiln}}
sdk=$cache/halide-21.0.0
wheel=halide-21.0.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl
sha256=3686c2b4c9aed1e26e1e55631608b2c4a4c3fe2d4386505ba1921859adb683ab

if [ ! -f "$sdk/lib64/libHalide.so" ]; then
  mkdir -p "$cache/download"
  if [ ! -f "$cache/download/$wheel" ]; then
    # The platform and interpreter are pinned: the wheel is the same
    # whatever Python runs pip.
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
      --platform manylinux_2_28_x86_64 --python-version 3.11 \
      --implementation cp --abi cp311 \
      --dest "$cache/download" halide==21.0.0 >&2
  fi
  if ! echo "$sha256  $cache/download/$wheel" | sha256sum --check --status; then
    echo "error: $cache/download/$wheel does not match the pinned SHA-256" >&2
    exit 1
  fi
  rm -rf "$sdk.partial"
  python3 - "$cache/download/$wheel" "$sdk.partial" <<'PY'
import pathlib, sys, zipfile
wheel, dest = sys.argv[1], pathlib.Path(sys.argv[2])
keep = ("halide/include/", "halide/lib64/libHalide.so", "halide/share/")
with zipfile.ZipFile(wheel) as archive:
    for item in archive.infolist():
        if item.is_dir() or not item.filename.startswith(keep):
            continue
        target = dest / item.filename[len("halide/"):]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(archive.read(item))
        target.chmod(0o755 if item.filename.endswith(".so") else 0o644)
PY
  mv "$sdk.partial" "$sdk"
fi
echo "$sdk"
