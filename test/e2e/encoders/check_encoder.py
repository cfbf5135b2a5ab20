#!/usr/bin/env python3
"""Checks a compiled BERT/RoBERTa executable against `transformers`.

    check_encoder.py EXE FIXTURE_DIR WORK_DIR

FIXTURE_DIR/reference.json (utils/fixtures/make_encoder_fixtures.py) holds
the texts, their reference tokenization and the head's outputs on a padded
batch. Every text runs in one batch, so padding is exercised. Compared,
every value within atol + rtol * |reference|: CLS and mean-pooled last
hidden states (all heads; HIDDEN), fill-mask scores, next-sentence
probabilities, class scores and token scores (PROBABILITY); exactly:
fill-mask candidates, token labels, indices and ids. Every count must match too: a missing or extra text, mask,
candidate, label or token fails. Standard library only.
"""

import ast
import json
import pathlib
import struct
import subprocess
import sys

# (atol, rtol). Hidden states, values up to ~3: largest error measured
# 1.2e-6 (RoBERTa), 1.4e-6 for BERT with a pass off. Probabilities:
# 5.4e-7 (token scores).
HIDDEN = (4e-6, 1e-5)
PROBABILITY = (1.5e-6, 1e-5)

TOKEN_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
CLASS_LABELS = ["NEGATIVE", "NEUTRAL", "POSITIVE"]


def fail(message):
    sys.exit(f"FAIL: {message}")


def run(args):
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"{' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result.stdout


def run_json(args):
    out = run(args)
    try:
        return json.loads(out)
    except json.JSONDecodeError as error:
        fail(f"{' '.join(args)}: not JSON ({error}): {out!r}")


def read_npy_f32(path):
    """The rows of a 2-D <f4 .npy file."""
    data = pathlib.Path(path).read_bytes()
    if data[:6] != b"\x93NUMPY":
        fail(f"{path}: not a .npy file")
    size = 2 if data[6] == 1 else 4
    header_len = int.from_bytes(data[8:8 + size], "little")
    start = 8 + size + header_len
    header = ast.literal_eval(data[8 + size:start].decode("latin1"))
    shape = tuple(header["shape"])
    if header["descr"] != "<f4" or header["fortran_order"] or len(shape) != 2:
        fail(f"{path}: expected a 2-D C-order <f4 array, got {header}")
    rows, cols = shape
    if len(data) - start != 4 * rows * cols:
        fail(f"{path}: {len(data) - start} data bytes for shape {shape}")
    values = struct.unpack_from(f"<{rows * cols}f", data, start)
    return [list(values[i * cols:(i + 1) * cols]) for i in range(rows)]


def shape_of(values):
    """The shape of nested lists; fails on ragged ones."""
    if not isinstance(values, (list, tuple)):
        return ()
    inner = {shape_of(v) for v in values}
    if len(inner) > 1:
        return None
    return (len(values),) + (inner.pop() if inner else ())


def flatten(values):
    if isinstance(values, (list, tuple)):
        return [x for v in values for x in flatten(v)]
    return [values]


def close(label, actual, expected, tolerance):
    """actual and expected, nested lists of the same shape, agree within
    atol + rtol * |expected| everywhere."""
    atol, rtol = tolerance
    if shape_of(actual) != shape_of(expected) or shape_of(expected) is None:
        fail(f"{label}: got shape {shape_of(actual)}, expected {shape_of(expected)}")
    flat_a, flat_e = flatten(actual), flatten(expected)
    if not flat_e:
        fail(f"{label}: nothing to compare")
    worst, worst_excess, bad, max_error = 0, 0.0, 0, 0.0
    for i, (a, e) in enumerate(zip(flat_a, flat_e)):
        if not isinstance(a, (int, float)):
            fail(f"{label}: value {i} is {a!r}, not a number")
        error = abs(a - e)
        if error != error:  # NaN
            error = float("inf")
        max_error = max(max_error, error)
        excess = error - (atol + rtol * abs(e))
        if excess > 0:
            bad += 1
            if excess > worst_excess:
                worst, worst_excess = i, excess
    print(f"{label}: max abs error {max_error:.3g} (atol {atol:g}, rtol {rtol:g})")
    if bad:
        fail(f"{label}: {bad} of {len(flat_e)} values differ from the reference; "
             f"worst: value {worst}, {flat_a[worst]!r} vs {flat_e[worst]!r}")


def expect_count(label, items, count):
    if not isinstance(items, list) or len(items) != count:
        got = len(items) if isinstance(items, list) else repr(items)
        fail(f"{label}: got {got}, expected {count}")


def check_fill_mask(exe, ref):
    """Like the transformers pipeline: per text, the top-5 candidates of each
    of its masks, each with its mask's position."""
    texts = ref["texts"]
    masked = sorted({m["text"] for m in ref["fill_mask"]})
    doc = run_json([exe, "--json", "--top-k", "5", *[texts[r] for r in masked]])
    expect_count("fill-mask: texts", doc, len(masked))
    got_scores, want_scores = [], []
    for r, candidates in zip(masked, doc):
        masks = [m for m in ref["fill_mask"] if m["text"] == r]
        expect_count(f"fill-mask: candidates of text {r}", candidates, 5 * len(masks))
        for k, mask in enumerate(masks):
            mine = candidates[5 * k:5 * k + 5]
            positions = [c["position"] for c in mine]
            if positions != [mask["position"]] * 5:
                fail(f"fill-mask: text {r}: candidates at positions {positions}, "
                     f"expected 5 at {mask['position']}")
            ids = [c["token_id"] for c in mine]
            if ids != mask["token_ids"]:
                fail(f"fill-mask: text {r}: candidates {ids}, expected {mask['token_ids']}")
            got_scores.append([c["score"] for c in mine])
            want_scores.append(mask["scores"])
    close("fill-mask scores", got_scores, want_scores, PROBABILITY)


def check_tokens(exe, ref):
    """Every token but the template's first and last ([CLS]/<s>, [SEP]/</s>),
    in order, with the reference's label and score."""
    texts = ref["texts"]
    doc = run_json([exe, "--json", "--tokens", *texts])
    expect_count("token labels: texts", doc, len(texts))
    got_scores, want_scores = [], []
    for r, (rows, ids, expected) in enumerate(zip(doc, ref["ids"], ref["token_labels"])):
        positions = list(range(1, len(ids) - 1))
        if not isinstance(rows, list) or [t.get("index") for t in rows] != positions:
            got = [t.get("index") for t in rows] if isinstance(rows, list) else rows
            fail(f"token labels: text {r}: tokens {got}, expected {positions}")
        for row, position in zip(rows, positions):
            label, score = expected[position]
            if row["token_id"] != ids[position]:
                fail(f"token labels: text {r}, token {position}: id {row['token_id']}, "
                     f"expected {ids[position]}")
            if row["entity"] != TOKEN_LABELS[label]:
                fail(f"token labels: text {r}, token {position}: {row['entity']}, "
                     f"expected {TOKEN_LABELS[label]}")
            got_scores.append(row["score"])
            want_scores.append(score)
    close("token scores", got_scores, want_scores, PROBABILITY)
    print("token labels: match")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    exe, fixtures, work = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    work.mkdir(parents=True, exist_ok=True)
    ref = json.loads((fixtures / "reference.json").read_text())
    texts, head = ref["texts"], ref["head"]

    for mode in ("cls", "mean"):
        out = work / f"embed_{mode}.npy"
        out.unlink(missing_ok=True)
        run([exe, "--embed", mode, "--output", str(out), *texts])
        close(f"{mode} embeddings", read_npy_f32(out), ref[f"embed_{mode}"], HIDDEN)

    if head in ("masked-lm", "pretraining"):
        check_fill_mask(exe, ref)
    if head in ("next-sentence", "pretraining"):
        probs = []
        for first, second in ref["pairs"]:
            doc = run_json([exe, "--json", "--pair", first, second])
            expect_count("next-sentence: results of one pair", doc, 1)
            probs.append(doc[0]["is_next"])
        close("next-sentence probability", probs, ref["is_next"], PROBABILITY)
    if head == "sequence-classification":
        doc = run_json([exe, "--json", "--classify", *texts])
        expect_count("class scores: texts", doc, len(texts))
        scores = []
        for r, text in enumerate(doc):
            labels = sorted(c["label"] for c in text)
            if labels != sorted(CLASS_LABELS):
                fail(f"class scores: text {r}: labels {labels}, expected {CLASS_LABELS}")
            by_label = {c["label"]: c["score"] for c in text}
            scores.append([by_label[label] for label in CLASS_LABELS])
        close("class scores", scores, ref["class_scores"], PROBABILITY)
    if head == "token-classification":
        check_tokens(exe, ref)
    print("PASS")


if __name__ == "__main__":
    main()
