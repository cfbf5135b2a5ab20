#!/usr/bin/env python3
"""Checks a compiled BERT/RoBERTa executable against `transformers`.

    check_encoder.py EXE FIXTURE_DIR WORK_DIR

FIXTURE_DIR/reference.json (utils/fixtures/make_encoder_fixtures.py) holds
the texts, their reference tokenization and the head's outputs on a padded
batch. Every text runs in one batch, so padding is exercised. Compared
within 1e-4: CLS and mean-pooled last hidden states (all heads), fill-mask
candidates and scores, next-sentence probabilities, class scores and token
labels. Standard library only.
"""

import json
import pathlib
import struct
import subprocess
import sys

TOLERANCE = 1e-4


def run(args):
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"FAIL: {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result.stdout


def read_npy_f32(path):
    data = pathlib.Path(path).read_bytes()
    header_len = int.from_bytes(data[8:10], "little") if data[6] == 1 else \
        int.from_bytes(data[8:12], "little")
    start = (10 if data[6] == 1 else 12) + header_len
    header = eval(data[start - header_len:start].decode("latin1"))
    count = 1
    for d in header["shape"]:
        count *= d
    values = struct.unpack_from(f"<{count}f", data, start)
    cols = header["shape"][-1]
    return [list(values[i:i + cols]) for i in range(0, count, cols)]


def close(label, actual, expected):
    flat_a, flat_e = flatten(actual), flatten(expected)
    if len(flat_a) != len(flat_e):
        sys.exit(f"FAIL: {label}: {len(flat_a)} values, expected {len(flat_e)}")
    magnitude = max([1.0] + [abs(v) for v in flat_e])
    worst = max(abs(a - e) for a, e in zip(flat_a, flat_e))
    print(f"{label}: max abs error {worst:.3g}")
    if not worst <= TOLERANCE * magnitude:
        sys.exit(f"FAIL: {label} differs from the reference")


def flatten(values):
    if isinstance(values, (list, tuple)):
        return [x for v in values for x in flatten(v)]
    return [values]


def main():
    exe, fixtures, work = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    work.mkdir(parents=True, exist_ok=True)
    ref = json.loads((fixtures / "reference.json").read_text())
    texts, head = ref["texts"], ref["head"]

    for mode in ("cls", "mean"):
        out = work / f"embed_{mode}.npy"
        run([exe, "--embed", mode, "--output", str(out), *texts])
        close(f"{mode} embeddings", read_npy_f32(out), ref[f"embed_{mode}"])

    if head in ("masked-lm", "pretraining"):
        # Like the transformers pipeline: per text, the candidates of its
        # mask (a list of lists when a text has several masks).
        masked = [t for t in texts if "[MASK]" in t or "<mask>" in t]
        doc = json.loads(run([exe, "--json", "--top-k", "5", *masked]))
        got = []
        for text in doc:
            got.extend([text] if text and isinstance(text[0], dict) else text)
        if len(got) != len(ref["fill_mask"]):
            sys.exit(f"FAIL: {len(got)} masks, expected {len(ref['fill_mask'])}")
        for mine, theirs in zip(got, ref["fill_mask"]):
            ids = [c["token_id"] for c in mine]
            if ids != theirs["token_ids"]:
                sys.exit(f"FAIL: fill-mask candidates {ids}, expected {theirs['token_ids']}")
        close("fill-mask scores", [[c["score"] for c in m] for m in got],
              [m["scores"] for m in ref["fill_mask"]])
    if head in ("next-sentence", "pretraining"):
        probs = []
        for first, second in ref["pairs"]:
            doc = json.loads(run([exe, "--json", "--pair", first, second]))
            probs.append(doc[0]["is_next"])
        close("next-sentence probability", probs, ref["is_next"])
    if head == "sequence-classification":
        doc = json.loads(run([exe, "--json", "--classify", *texts]))
        scores = []
        for text in doc:
            by_label = {c["label"]: c["score"] for c in text}
            scores.append([by_label[label] for label in ("NEGATIVE", "NEUTRAL", "POSITIVE")])
        close("class scores", scores, ref["class_scores"])
    if head == "token-classification":
        doc = json.loads(run([exe, "--json", "--tokens", *texts]))
        for text, expected in zip(doc, ref["token_labels"]):
            rows = {t["index"]: t for t in text}
            for position, (label, score) in enumerate(expected):
                if position not in rows:
                    continue  # special tokens are not listed
                got = rows[position]
                if abs(got["score"] - score) > TOLERANCE:
                    sys.exit(f"FAIL: token {position}: score {got['score']}, expected {score}")
                if got["entity"] != ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"][label]:
                    sys.exit(f"FAIL: token {position}: score {got['score']}, expected {score}")
        print("token labels: match")
    print("PASS")


if __name__ == "__main__":
    main()
