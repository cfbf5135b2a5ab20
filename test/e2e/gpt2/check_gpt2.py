#!/usr/bin/env python3
"""Checks a compiled GPT-2 executable against the `transformers` reference.

    check_gpt2.py EXE FIXTURE_DIR WORK_DIR

FIXTURE_DIR holds reference.json and logits_<n>.npy written by
utils/fixtures/make_gpt2_fixtures.py. Checks, for each reference prompt:
  - prompt logits (every 16th vocabulary column), each within
    ATOL + RTOL * |reference|;
  - 32 greedily generated ids identical to model.generate(do_sample=False);
  - the same through the tokenizer: the prompt text in, the decoded text out;
  - prefill-then-decode logits equal to one prefill over the longer prompt
    (every column, within DECODE_ATOL + DECODE_RTOL * |prefill|).
Any other output (a missing row, a wrong shape) fails. Standard library
only: the test suite needs no Python packages.
"""

import ast
import json
import pathlib
import struct
import subprocess
import sys

# Against transformers (float32 on the same bfloat16 weights), logits up to
# ~4: the largest error measured is 1.5e-5 (tiny, 64 tokens, with any pass
# off), where transformers' float32 is itself 2.0e-5 from float64 and
# Kiln's 1.2e-5; 3.1e-6 at 7 tokens.
ATOL, RTOL = 4e-5, 1e-5
# The same model two ways (decode over the cache vs one prefill): 5.5e-6
# measured, 8.8e-6 with kiln-norm-to-ukernel off.
DECODE_ATOL, DECODE_RTOL = 2e-5, 1e-5


def fail(message):
    sys.exit(f"FAIL: {message}")


def read_npy_f32(path):
    data = pathlib.Path(path).read_bytes()
    if data[:6] != b"\x93NUMPY":
        fail(f"{path}: not a .npy file")
    major = data[6]
    header_len_size = 2 if major == 1 else 4
    header_len = int.from_bytes(data[8:8 + header_len_size], "little")
    start = 8 + header_len_size + header_len
    header = ast.literal_eval(data[8 + header_len_size:start].decode("latin1"))
    if header["descr"] != "<f4" or header["fortran_order"]:
        fail(f"{path}: expected a C-order <f4 array, got {header}")
    shape = tuple(header["shape"])
    count = 1
    for d in shape:
        count *= d
    if len(data) - start != 4 * count:
        fail(f"{path}: {len(data) - start} data bytes for shape {shape}")
    values = struct.unpack_from(f"<{count}f", data, start)
    return shape, values


def check_close(label, pairs, atol, rtol):
    """pairs: (where, actual, expected); every one must be within
    atol + rtol * |expected|. Prints the largest error."""
    worst, worst_excess, bad, count = None, 0.0, 0, 0
    max_error = 0.0
    for where, a, e in pairs:
        count += 1
        error = abs(a - e)
        if error != error:  # NaN
            error = float("inf")
        max_error = max(max_error, error)
        excess = error - (atol + rtol * abs(e))
        if excess > 0:
            bad += 1
            if worst is None or excess > worst_excess:
                worst, worst_excess = (where, a, e), excess
    if count == 0:
        fail(f"{label}: nothing compared")
    print(f"{label}: max abs error {max_error:.3g} over {count} values "
          f"(atol {atol:g}, rtol {rtol:g})")
    if bad:
        where, a, e = worst
        fail(f"{label}: {bad} of {count} values differ from the reference; "
             f"worst at {where}: {a!r} vs {e!r}")


def run(args):
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"{' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result.stdout


def compare_logits(label, actual_shape, actual, expected_shape, expected,
                   stride):
    """actual [R, V] (every column) vs expected [R, ceil(V / stride)]."""
    if len(actual_shape) != 2 or len(expected_shape) != 2:
        fail(f"{label}: logits of shape {actual_shape}, reference {expected_shape}")
    rows, vocab = actual_shape
    columns = expected_shape[1]
    if rows != expected_shape[0] or -(-vocab // stride) != columns:
        fail(f"{label}: logits of shape {actual_shape} do not fit the reference "
             f"{expected_shape} (every {stride}th column)")
    check_close(label, (((r, c * stride), actual[r * vocab + c * stride],
                         expected[r * columns + c])
                        for r in range(rows) for c in range(columns)),
                ATOL, RTOL)


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
        if shape[0] != n:
            fail(f"logits for {n} tokens have shape {shape}")
        ref_shape, ref = read_npy_f32(fixtures / prompt["logits"])
        compare_logits(f"prompt of {n} tokens", shape, values, ref_shape, ref,
                       stride)

        # Greedy generation from ids.
        out = json.loads(run([exe, "--ids", ids, "-n", "32", "--json"]))
        if out["generated_ids"] != prompt["greedy_32"]:
            fail(f"greedy ids after {n} tokens:\n  got      "
                 f"{out['generated_ids']}\n  expected {prompt['greedy_32']}")
        print(f"prompt of {n} tokens: 32 greedy tokens match")

        # The same from text: the tokenizer in and the streaming decoder out.
        text = run([exe, prompt["text"], "-n", "32"])
        if text.rstrip("\n") != prompt["greedy_32_text"]:
            fail(f"text after {prompt['text']!r}:\n  got      "
                 f"{text!r}\n  expected {prompt['greedy_32_text']!r}")
        print(f"prompt of {n} tokens: text in, text out match")

    # Prefill-then-decode against one longer prefill: the logits that chose
    # each decoded token equal the prompt logits of prompt + generated.
    prompt = reference["prompts"][1]
    steps = 8
    step_logits = work / "steps.npy"
    out = json.loads(run([exe, "--ids", " ".join(map(str, prompt["ids"])), "-n",
                          str(steps), "--json", "--step-logits", str(step_logits)]))
    if len(out["generated_ids"]) != steps:
        fail(f"{len(out['generated_ids'])} ids generated, expected {steps}")
    longer = prompt["ids"] + out["generated_ids"][:steps - 1]
    full_logits = work / "full.npy"
    run([exe, "--ids", " ".join(map(str, longer)), "-n", "0", "--logits",
         str(full_logits)])
    step_shape, step_values = read_npy_f32(step_logits)
    full_shape, full_values = read_npy_f32(full_logits)
    if full_shape[0] != len(longer) or step_shape != (steps, full_shape[1]):
        fail(f"step logits of shape {step_shape} and prefill logits of shape "
             f"{full_shape} for {len(longer)} tokens")
    vocab = full_shape[1]
    start = len(prompt["ids"]) - 1
    check_close(f"decode vs prefill over {steps} steps",
                (((i, c), step_values[i * vocab + c],
                  full_values[(start + i) * vocab + c])
                 for i in range(steps) for c in range(vocab)),
                DECODE_ATOL, DECODE_RTOL)
    print("PASS")


if __name__ == "__main__":
    main()
