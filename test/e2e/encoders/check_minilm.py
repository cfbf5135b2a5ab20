#!/usr/bin/env python3
"""check_minilm.py EXE REFERENCE.json OUT.npy: the executable's default
embeddings (mean pooling and normalization, chosen from the folder's
sentence-transformers modules) against sentence-transformers'."""

import json
import math
import pathlib
import struct
import subprocess
import sys


def main():
    exe, reference, out = sys.argv[1], json.loads(pathlib.Path(sys.argv[2]).read_text()), sys.argv[3]
    subprocess.run([exe, "--output", out, *reference["sentences"]], check=True)
    data = pathlib.Path(out).read_bytes()
    header_len = int.from_bytes(data[8:10], "little")
    start = 10 + header_len
    expected = reference["embeddings"]
    dim = len(expected[0])
    values = struct.unpack_from(f"<{len(expected) * dim}f", data, start)
    worst = 1.0
    for row, reference_row in enumerate(expected):
        ours = values[row * dim:(row + 1) * dim]
        dot = sum(a * b for a, b in zip(ours, reference_row))
        norm = math.sqrt(sum(a * a for a in ours)) * math.sqrt(sum(b * b for b in reference_row))
        worst = min(worst, dot / norm)
        if abs(math.sqrt(sum(a * a for a in ours)) - 1) > 1e-4:
            sys.exit(f"FAIL: embedding {row} is not normalized")
    print(f"lowest cosine similarity to sentence-transformers: {worst:.7f}")
    if worst < 1 - 1e-4:
        sys.exit("FAIL")
    print("PASS")


if __name__ == "__main__":
    main()
