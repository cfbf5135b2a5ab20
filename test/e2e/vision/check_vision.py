#!/usr/bin/env python3
"""Checks the --json output of a vision executable against reference.json.

    check_vision.py classify|zero-shot OUTPUT.json REFERENCE.json [--atol A]
                    [--pixels]

reference.json (utils/fixtures/make_vision_fixtures.py) holds, per image,
the labels (classify) or captions (zero-shot) in the order transformers
ranks them, with their probabilities. The output must name the same images
in order (with --pixels, the output of a --pixels FILE.npy run, its rows
instead) and rank the same entries, each probability within --atol (default
2e-6). Standard library only.
"""

import json
import sys


def fail(message):
    sys.exit(f"FAIL: {message}")


def main():
    args = sys.argv[1:]
    atol = 2e-6
    pixels = "--pixels" in args
    if pixels:
        args.remove("--pixels")
    if "--atol" in args:
        at = args.index("--atol")
        atol = float(args[at + 1])
        del args[at:at + 2]
    if len(args) != 3 or args[0] not in ("classify", "zero-shot"):
        sys.exit(__doc__)
    mode, output_path, reference_path = args
    try:
        output = json.load(open(output_path))
    except (OSError, json.JSONDecodeError) as error:
        fail(f"{output_path}: {error}")
    reference = json.load(open(reference_path))
    key, field = ("labels", "label") if mode == "classify" else ("captions", "caption")
    expected_images = reference["images"]
    if not isinstance(output, list) or len(output) != len(expected_images):
        fail(f"expected {len(expected_images)} images, got {output!r:.200}")
    worst = 0.0
    for row, (got, want) in enumerate(zip(output, expected_images)):
        name = f"[{row}]" if pixels else want["image"]
        if not got.get("image", "").endswith(name):
            fail(f"image {got.get('image')!r}, expected {name!r}")
        entries = got.get(key)
        if not isinstance(entries, list) or len(entries) != len(want[key]):
            fail(f"{want['image']}: expected {len(want[key])} {key}, got {entries!r:.200}")
        for rank, (g, w) in enumerate(zip(entries, want[key])):
            if g.get(field) != w[field]:
                fail(f"{want['image']}: rank {rank + 1} is {g.get(field)!r}, expected {w[field]!r}")
            error = abs(g["score"] - w["score"])
            worst = max(worst, error)
            if error > atol:
                fail(f"{want['image']}: {w[field]!r} scores {g['score']}, expected {w['score']} "
                     f"(error {error:.3g} > {atol:g})")
    print(f"{len(output)} images, max probability error {worst:.3g}")
    print("PASS")


if __name__ == "__main__":
    main()
