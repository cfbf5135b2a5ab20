"""Writes a sparse safetensors file: a U8 "filler" tensor of HOLE bytes that
is a hole on disk, followed by every tensor of SOURCE.

usage: sparse_safetensors.py SOURCE OUTPUT HOLE
"""
import json
import struct
import sys

source, output, hole = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(source, "rb") as f:
    (length,) = struct.unpack("<Q", f.read(8))
    header = json.loads(f.read(length))
    data = f.read()
header.pop("__metadata__", None)
layout = {"filler": {"dtype": "U8", "shape": [hole], "data_offsets": [0, hole]}}
for name, info in header.items():
    begin, end = info["data_offsets"]
    layout[name] = dict(info, data_offsets=[hole + begin, hole + end])
text = json.dumps(layout).encode()
text += b" " * (-len(text) % 8)
with open(output, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text)
    f.seek(8 + len(text) + hole)
    f.write(data)
