#!/usr/bin/env python3
"""Small .npy files for the tests, with the standard library only.

    npytool.py write OUT.npy DTYPE SHAPE VALUES
        DTYPE: f4, f8, f2, i4, i8, i1, u1 or b1 (numpy's, little-endian).
        SHAPE: comma-separated dimensions, "" for a scalar.
        VALUES: comma-separated, row-major; floats also take inf, -inf,
        nan and lowest (the dtype's finfo.min). A single value fills the
        whole shape.
    npytool.py columns IN.npy OUT.npy STRIDE
        Every STRIDE-th column (0, STRIDE, ...) of a 2-D <f4 array.
    npytool.py perturb IN.npy OUT.npy INDEX DELTA
        A copy of a <f4 array with DELTA added to the element at flat INDEX.
"""

import ast
import math
import pathlib
import struct
import sys

FORMATS = {"f4": "f", "f8": "d", "f2": "e", "i4": "i", "i8": "q",
           "i1": "b", "u1": "B", "b1": "?"}
LOWEST = {"f4": -3.4028234663852886e38, "f8": -sys.float_info.max,
          "f2": -65504.0}


def encode(descr, shape, data):
    byte_order = "|" if descr[1] == "1" else "<"
    dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
    header = (f"{{'descr': '{byte_order}{descr}', 'fortran_order': False, "
              f"'shape': ({dims}), }}")
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    return (b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header))
            + header.encode("latin1") + data)


def decode(path):
    data = pathlib.Path(path).read_bytes()
    if data[:6] != b"\x93NUMPY":
        sys.exit(f"error: {path}: not a .npy file")
    size = 2 if data[6] == 1 else 4
    length = int.from_bytes(data[8:8 + size], "little")
    start = 8 + size + length
    header = ast.literal_eval(data[8 + size:start].decode("latin1"))
    if header["descr"] != "<f4" or header["fortran_order"]:
        sys.exit(f"error: {path}: expected a C-order <f4 array, got {header}")
    shape = tuple(header["shape"])
    count = math.prod(shape)
    return shape, list(struct.unpack_from(f"<{count}f", data, start))


def parse_value(descr, text):
    text = text.strip()
    if descr[0] != "f":
        return int(text) if descr != "b1" else bool(int(text))
    if text == "lowest":
        return LOWEST[descr]
    return float(text)


def write(out, descr, shape_text, values_text):
    shape = tuple(int(d) for d in shape_text.split(",") if d.strip())
    count = math.prod(shape)
    values = [parse_value(descr, v) for v in values_text.split(",")]
    if len(values) == 1:
        values *= count
    if len(values) != count:
        sys.exit(f"error: {count} elements in shape {shape}, got {len(values)} values")
    data = struct.pack(f"<{count}{FORMATS[descr]}", *values)
    pathlib.Path(out).write_bytes(encode(descr, shape, data))


def columns(src, out, stride):
    shape, values = decode(src)
    if len(shape) != 2:
        sys.exit(f"error: {src}: expected a 2-D array, got shape {shape}")
    rows, cols = shape
    kept = [values[r * cols + c] for r in range(rows) for c in range(0, cols, stride)]
    width = len(range(0, cols, stride))
    pathlib.Path(out).write_bytes(
        encode("f4", (rows, width), struct.pack(f"<{len(kept)}f", *kept)))


def perturb(src, out, index, delta):
    shape, values = decode(src)
    values[index] += delta
    pathlib.Path(out).write_bytes(
        encode("f4", shape, struct.pack(f"<{len(values)}f", *values)))


def main():
    args = sys.argv[1:]
    if len(args) == 5 and args[0] == "write":
        write(args[1], args[2], args[3], args[4])
    elif len(args) == 4 and args[0] == "columns":
        columns(args[1], args[2], int(args[3]))
    elif len(args) == 5 and args[0] == "perturb":
        perturb(args[1], args[2], int(args[3]), float(args[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
