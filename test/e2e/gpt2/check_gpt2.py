#!/usr/bin/env python3
"""Checks a compiled GPT-2 executable against the `transformers` reference.

    check_gpt2.py EXE FIXTURE_DIR WORK_DIR

FIXTURE_DIR holds reference.json and logits_<n>.npy written by
utils/fixtures/make_gpt2_fixtures.py. Checks, for each reference prompt:
  - prompt logits (every 16th vocabulary column) within 1e-4 relative to the
    largest reference logit;
  - 32 greedily generated ids identical to model.generate(do_sample=False);
  - the same through the tokenizer: the prompt text in, the decoded text out;
  - prefill-then-decode logits equal to one prefill over the longer prompt.
Standard library only: the test suite needs no Python packages.
"""

import json
import pathlib
import struct
import subprocess
import sys

TOLERANCE = 1e-4


def read_npy_f32(path):
    data = pathlib.Path(path).read_bytes()
    assert data[:6] == b"\x93NUMPY", f"{path}: not a .npy file"
    major = data[6]
    header_len_size = 2 if major == 1 else 4
    header_len = int.from_bytes(data[8:8 + header_len_size], "little")
    start = 8 + header_len_size + header_len
    header = eval(data[8 + header_len_size:start].decode("latin1"))  # a dict literal
    assert header["descr"] == "<f4" and not header["fortran_order"], header
    shape = header["shape"]
    count = 1
    for d in shape:
        count *= d
    values = struct.unpack_from(f"<{count}f", data, start)
    return shape, values


def run(args):
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"FAIL: {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result.stdout


def compare_rows(label, actual_shape, actual, expected_shape, expected, stride,
                 rows=None):
    """actual [R, V] (every column) vs expected [R', ceil(V/stride)]."""
    vocab = actual_shape[1]
    columns = expected_shape[1]
    rows = rows if rows is not None else list(range(expected_shape[0]))
    magnitude = max(1.0, max(abs(v) for v in expected))
    worst = 0.0
    for out_row, ref_row in rows:
        for c in range(columns):
            a = actual[out_row * vocab + c * stride]
            e = expected[ref_row * columns + c]
            worst = max(worst, abs(a - e))
    print(f"{label}: max abs error {worst:.3g} (allowed {TOLERANCE * magnitude:.3g})")
    if not worst <= TOLERANCE * magnitude:
        sys.exit(f"FAIL: {label}: logits differ from the reference")


def main():
    exe, fixtures, work = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    work.mkdir(parents=True, exist_ok=True)
    reference = json.loads((fixtures / "reference.json").read_text())
    stride = reference["column_stride"]
    for prompt in reference["prompts"]:
        n = prompt["length"]
        ids = " ".join(map(str, prompt["ids"]))

        # Prompt logits.
        logits = work / f"logits_{n}.npy"
        run([exe, "--ids", ids, "-n", "0", "--logits", str(logits)])
        shape, values = read_npy_f32(logits)
        assert shape[0] == n, f"logits for {n} tokens have shape {shape}"
        ref_shape, ref = read_npy_f32(fixtures / prompt["logits"])
        compare_rows(f"prompt of {n} tokens", shape, values, ref_shape, ref, stride,
                     [(r, r) for r in range(n)])

        # Greedy generation from ids.
        out = json.loads(run([exe, "--ids", ids, "-n", "32", "--json"]))
        if out["generated_ids"] != prompt["greedy_32"]:
            sys.exit(f"FAIL: greedy ids after {n} tokens:\n  got      "
                     f"{out['generated_ids']}\n  expected {prompt['greedy_32']}")
        print(f"prompt of {n} tokens: 32 greedy tokens match")

        # The same from text: the tokenizer in and the streaming decoder out.
        text = run([exe, prompt["text"], "-n", "32"])
        if text.rstrip("\n") != prompt["greedy_32_text"]:
            sys.exit(f"FAIL: text after {prompt['text']!r}:\n  got      "
                     f"{text!r}\n  expected {prompt['greedy_32_text']!r}")
        print(f"prompt of {n} tokens: text in, text out match")

    # Prefill-then-decode against one longer prefill: the logits that chose
    # each decoded token equal the prompt logits of prompt + generated.
    prompt = reference["prompts"][1]
    steps = 8
    step_logits = work / "steps.npy"
    out = json.loads(run([exe, "--ids", " ".join(map(str, prompt["ids"])), "-n",
                          str(steps), "--json", "--step-logits", str(step_logits)]))
    longer = prompt["ids"] + out["generated_ids"][:steps - 1]
    full_logits = work / "full.npy"
    run([exe, "--ids", " ".join(map(str, longer)), "-n", "0", "--logits",
         str(full_logits)])
    step_shape, step_values = read_npy_f32(step_logits)
    full_shape, full_values = read_npy_f32(full_logits)
    assert step_shape == [steps, full_shape[1]] or tuple(step_shape) == (steps, full_shape[1]), step_shape
    vocab = full_shape[1]
    start = len(prompt["ids"]) - 1
    magnitude = max(1.0, max(abs(v) for v in full_values))
    worst = 0.0
    for i in range(steps):
        for c in range(vocab):
            worst = max(worst, abs(step_values[i * vocab + c] -
                                   full_values[(start + i) * vocab + c]))
    print(f"decode vs prefill: max abs error {worst:.3g} over {steps} steps")
    if not worst <= TOLERANCE * magnitude:
        sys.exit("FAIL: prefill-then-decode logits differ from one prefill")
    print("PASS")


if __name__ == "__main__":
    main()
