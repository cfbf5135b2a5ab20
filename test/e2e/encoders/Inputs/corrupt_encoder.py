#!/usr/bin/env python3
"""Runs an encoder executable and damages its answer, so that the tests can
show check_encoder.py rejects it.

    KILN_CORRUPT=MODE corrupt_encoder.py EXE ARGS...

MODE (one of MODES below) says what to damage; `none` passes the answer
through. Standard library only.
"""

import ast
import json
import os
import pathlib
import struct
import subprocess
import sys


def damage_json(mode, doc):
    if mode == "texts-drop":  # one text fewer
        return doc[:-1]
    if mode == "tokens-empty":  # every text without its tokens
        return [[] for _ in doc]
    if mode == "tokens-drop":  # each text's last token missing
        return [text[:-1] for text in doc]
    if mode == "tokens-extra":  # each text's last token twice
        return [text + text[-1:] for text in doc]
    if mode == "tokens-label":  # one label changed
        first = doc[0][0]
        first["entity"] = "O" if first["entity"] != "O" else "B-PER"
        return doc
    if mode == "score-nudge":  # one score off by 1e-5
        doc[0][0]["score"] += 1e-5
        return doc
    if mode == "candidates-drop":  # each text's last candidate missing
        return [text[:-1] for text in doc]
    if mode == "labels-drop":  # each text's last class missing
        return [text[:-1] for text in doc]
    if mode == "labels-twice":  # one class listed twice, another missing
        return [text[:-1] + text[:1] for text in doc]
    if mode == "pair-extra":  # two results for one sentence pair
        return doc + doc if "--pair" in sys.argv else doc
    return doc


def damage_npy(mode, path):
    data = bytearray(pathlib.Path(path).read_bytes())
    length = int.from_bytes(data[8:10], "little")
    start = 10 + length
    header = ast.literal_eval(data[10:start].decode("latin1"))
    rows, cols = header["shape"]
    if mode == "embed-nudge":  # the first value off by 5e-5
        (value,) = struct.unpack_from("<f", data, start)
        struct.pack_into("<f", data, start, value + 5e-5)
    elif mode == "embed-row-drop":  # the last row missing
        text = repr({**header, "shape": (rows - 1, cols)})
        text = text.ljust(length - 1) + "\n"
        data = data[:10] + text.encode("latin1") + data[start:-4 * cols]
    pathlib.Path(path).write_bytes(bytes(data))


MODES = ["none", "texts-drop", "tokens-empty", "tokens-drop", "tokens-extra",
         "tokens-label", "score-nudge", "candidates-drop", "labels-drop",
         "labels-twice", "pair-extra", "embed-nudge", "embed-row-drop"]


def main():
    mode = os.environ.get("KILN_CORRUPT", "")
    if mode not in MODES:
        sys.exit(f"corrupt_encoder.py: KILN_CORRUPT={mode!r} is not one of {MODES}")
    args = sys.argv[1:]
    result = subprocess.run(args, capture_output=True, text=True)
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        sys.exit(result.returncode)
    out = result.stdout
    if "--json" in args:
        out = json.dumps(damage_json(mode, json.loads(out))) + "\n"
    if "--output" in args and mode.startswith("embed-"):
        damage_npy(mode, args[args.index("--output") + 1])
    sys.stdout.write(out)


if __name__ == "__main__":
    main()
