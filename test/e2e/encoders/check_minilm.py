#!/usr/bin/env python3
"""The real all-MiniLM-L6-v2's embeddings against sentence-transformers'.

    check_minilm.py EXE REFERENCE.json OUT.npy
        runs EXE on the reference sentences (its default embeddings: mean
        pooling and normalization, chosen from the folder's
        sentence-transformers modules), writing OUT.npy, then checks it;
    check_minilm.py --check OUT.npy REFERENCE.json
        checks an existing OUT.npy.

OUT.npy must be f32 [sentences, 384] with every value within
ATOL + RTOL * |reference|, every row of unit length within NORM_TOLERANCE
and at cosine similarity >= 1 - COSINE_TOLERANCE to the reference.
Standard library only.
"""

import ast
import json
import math
import pathlib
import struct
import subprocess
import sys

# Embedding values are below 0.2; measured in float32: largest error 1.2e-7,
# unit length within 2.9e-9, 1 - cosine 2.9e-13.
ATOL, RTOL = 4e-7, 1e-5
NORM_TOLERANCE = 1e-6
COSINE_TOLERANCE = 1e-10


def fail(message):
    sys.exit(f"FAIL: {message}")


def read_npy_f32(path):
    data = pathlib.Path(path).read_bytes()
    if data[:6] != b"\x93NUMPY":
        fail(f"{path}: not a .npy file")
    size = 2 if data[6] == 1 else 4
    length = int.from_bytes(data[8:8 + size], "little")
    start = 8 + size + length
    header = ast.literal_eval(data[8 + size:start].decode("latin1"))
    shape = tuple(header["shape"])
    if header["descr"] != "<f4" or header["fortran_order"] or len(shape) != 2:
        fail(f"{path}: expected a 2-D C-order <f4 array, got {header}")
    if len(data) - start != 4 * shape[0] * shape[1]:
        fail(f"{path}: {len(data) - start} data bytes for shape {shape}")
    values = struct.unpack_from(f"<{shape[0] * shape[1]}f", data, start)
    return shape, [values[r * shape[1]:(r + 1) * shape[1]] for r in range(shape[0])]


def check(out, reference):
    expected = reference["embeddings"]
    shape, rows = read_npy_f32(out)
    if shape != (len(expected), len(expected[0])):
        fail(f"{out}: shape {shape}, expected {(len(expected), len(expected[0]))}")
    bad, worst, worst_excess, max_error = 0, None, 0.0, 0.0
    lowest_cosine, worst_norm = 1.0, 0.0
    for r, (ours, theirs) in enumerate(zip(rows, expected)):
        for c, (a, e) in enumerate(zip(ours, theirs)):
            error = abs(a - e)
            if error != error:  # NaN
                error = math.inf
            max_error = max(max_error, error)
            excess = error - (ATOL + RTOL * abs(e))
            if excess > 0:
                bad += 1
                if worst is None or excess > worst_excess:
                    worst, worst_excess = (r, c, a, e), excess
        norm = math.sqrt(sum(a * a for a in ours))
        dot = sum(a * b for a, b in zip(ours, theirs))
        cosine = dot / (norm * math.sqrt(sum(b * b for b in theirs)))
        lowest_cosine = min(lowest_cosine, cosine)
        worst_norm = max(worst_norm, abs(norm - 1))
    print(f"max abs error {max_error:.3g} (atol {ATOL:g}, rtol {RTOL:g}); "
          f"largest |norm - 1| {worst_norm:.3g}; "
          f"lowest cosine similarity 1 - {1 - lowest_cosine:.3g}")
    if bad:
        r, c, a, e = worst
        fail(f"{bad} of {len(expected) * len(expected[0])} values differ from "
             f"sentence-transformers'; worst [{r}, {c}]: {a!r} vs {e!r}")
    if not worst_norm <= NORM_TOLERANCE:
        fail(f"an embedding is not normalized: |norm - 1| = {worst_norm:.3g}")
    if not lowest_cosine >= 1 - COSINE_TOLERANCE:
        fail(f"cosine similarity 1 - {1 - lowest_cosine:.3g}")
    print("PASS")


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "--check":
        check(args[1], json.loads(pathlib.Path(args[2]).read_text()))
    elif len(args) == 3:
        exe, reference, out = args[0], json.loads(pathlib.Path(args[1]).read_text()), args[2]
        result = subprocess.run([exe, "--output", out, *reference["sentences"]])
        if result.returncode != 0:
            fail(f"{exe} exited {result.returncode}")
        check(out, reference)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
