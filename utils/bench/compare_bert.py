#!/usr/bin/env python3
"""Kiln against its peers on one BERT model and shape, in one run.

    compare_bert.py --model DIR --exe [NAME=]KILN_EXE [--exe NAME=KILN_EXE ...]
                    [--seq 128] [--threads 2] [--rounds 5] [--runs 10]
                    [--peak-gflops P]

Peers: PyTorch eager, ONNX Runtime and OpenVINO (each from PyPI; a missing
one is reported and skipped), all fp32, batch 1, the same thread count, the
same weights; OpenVINO also runs a second time at its default inference
precision ("openvino-default": bf16 on CPUs with AVX-512 BF16 or AMX, else
f32; the line before the table names it). Rounds interleave the engines
(kiln, torch, onnxruntime, openvino, openvino-default, kiln, ...); each round
times `--runs` inferences after a warm-up; the table reports the median and
p90 over rounds, the ratio of each engine to Kiln (> 1: Kiln is faster), and
the fraction of the FMA peak the FLOP count implies (pass the peak measured
next to the run by shared/tools/roofline.cpp).

Several Kiln executables (e.g. one per kernel backend) are compared in one
run by repeating --exe with a name: `--exe llvm=A --exe halide=B` times
engines kiln-llvm and kiln-halide, and the ratio column is then to the
first one. A plain `--exe PATH` is the engine "kiln".

Each KILN_EXE must be compiled from the same folder with
`kiln compile DIR --batch 1 --sequence-lengths SEQ`; its `--bench` timing of
the encode entry is used, so process start and weight loading are excluded,
as they are for the peers.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

from peers import add_onnx_peers, kiln_executables, print_table, run_rounds, time_callable


def flops(config, seq):
    d, layers, inner = config["hidden_size"], config["num_hidden_layers"], config["intermediate_size"]
    per_layer = 2 * seq * (4 * d * d + 2 * d * inner) + 4 * seq * seq * d
    return layers * per_layer




def kiln_round(exe, text, threads, runs):
    out = subprocess.run([exe, "--embed", "--bench", "--threads", str(threads), *([text] * (runs + 1))],
                         capture_output=True, text=True, check=True).stderr
    for line in out.splitlines():
        if line.startswith("encode:"):
            return float(line.split()[1])
    sys.exit(f"no timing from {exe}: {out}")




def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--exe", required=True, action="append",
                        help="[NAME=]PATH of a Kiln executable (repeatable)")
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--peak-gflops", type=float)
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    import numpy as np
    import torch
    import transformers as tf
    torch.set_num_threads(args.threads)
    tf.logging.disable_progress_bar()
    config = json.load(open(os.path.join(args.model, "config.json")))
    model = tf.BertModel.from_pretrained(args.model).eval()
    words = args.seq - 2
    text = " ".join(["word"] * words)
    ids = torch.full((1, args.seq), 2773)  # "word" in the BERT vocabulary
    ids[0, 0], ids[0, -1] = 101, 102
    mask = torch.ones_like(ids)

    engines = {}
    for name, exe in kiln_executables(args.exe):
        engines[name] = lambda exe=exe: kiln_round(exe, text, args.threads, args.runs)
    base = next(iter(engines))

    def torch_round():
        with torch.no_grad():
            return time_callable(lambda: model(input_ids=ids, attention_mask=mask), args.runs)
    engines["pytorch"] = torch_round

    class HiddenStates(torch.nn.Module):
        """Positional inputs for the ONNX exporter."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids,
                              attention_mask=attention_mask).last_hidden_state

    onnx_path = os.path.join(tempfile.mkdtemp(), "bert.onnx")
    try:
        torch.onnx.export(HiddenStates(model), (ids, mask), onnx_path,
                          input_names=["ids", "mask"],
                          output_names=["hidden"], opset_version=17, dynamo=False)
    except Exception as error:  # noqa: BLE001 - report and go on without ONNX peers
        print(f"onnx export failed: {error}")
        onnx_path = None
    if onnx_path:
        add_onnx_peers(engines, onnx_path, {"ids": ids.numpy(), "mask": mask.numpy()},
                       args.threads, args.runs)

    times = run_rounds(engines, args.rounds)
    print(f"BERT ({config['num_hidden_layers']} x {config['hidden_size']}), seq {args.seq}, "
          f"batch 1, {args.threads} thread(s), {args.rounds} rounds x {args.runs} runs; "
          f"peer/kiln is to {base}")
    print_table(times, base, flops(config, args.seq), args.peak_gflops)


if __name__ == "__main__":
    main()
