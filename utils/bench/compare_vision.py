#!/usr/bin/env python3
"""Kiln against its peers on a vision model's image tower, in one run.

    compare_vision.py --model DIR --exe [NAME=]KILN_EXE [--exe NAME=KILN_EXE ...]
                      [--batch 1] [--threads 2] [--rounds 5] [--runs 10]
                      [--peak-gflops P]

DIR is a ViT (ViTForImageClassification) or CLIP (CLIPModel) checkpoint
(utils/bench/make_vision_checkpoint.py); for CLIP the image tower and its
projection are measured (CLIPModel.get_image_features). Peers: PyTorch
eager, ONNX Runtime and OpenVINO (from PyPI; a missing one is skipped), fp32,
the same batch, thread count and weights; OpenVINO runs a second time at its
default inference precision ("openvino-default": bf16 on CPUs with AVX-512
BF16). Rounds interleave the engines; each round times --runs inferences
after a warm-up; the table gives the median and p90 over rounds, each
engine's time over the first Kiln executable's (> 1: Kiln is faster) and the
fraction of the FMA peak (--peak-gflops, measured by
shared/tools/roofline.cpp) the FLOP count implies.

Each KILN_EXE is compiled from DIR with `kiln compile DIR --batch B` (its
classify_<B> / image_embed_<B> entry is timed by the executable's --bench,
which excludes process start and weight loading, as for the peers); repeat
--exe NAME=PATH to compare several (e.g. fused and unfused patch
embedding: `kiln compile ... --disable-pass tfm-fuse-patch-embed`).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from peers import add_onnx_peers, kiln_executables, print_table, run_rounds, time_callable


def tower_config(config):
    return config["vision_config"] if config["model_type"] == "clip" else config


def pair(value):
    return tuple(value) if isinstance(value, list) else (value, value)


def flops(config, batch):
    v = tower_config(config)
    d = v.get("hidden_size", 768)
    layers = v.get("num_hidden_layers", 12)
    inner = v.get("intermediate_size", 3072)
    (height, width), (ph, pw) = pair(v.get("image_size", 224)), pair(v.get("patch_size", 16))
    tokens = (height // ph) * (width // pw) + 1
    per_layer = 2 * tokens * (4 * d * d + 2 * d * inner) + 4 * tokens * tokens * d
    embed = 2 * (tokens - 1) * d * 3 * ph * pw
    return batch * (layers * per_layer + embed)




def kiln_round(exe, pixels_path, batch, threads, label):
    # CLIP's executable embeds images alone when only --image-embed is asked.
    extra = (["--image-embed", pixels_path + ".embeds.npy"] if label == "image"
             else ["--json"])
    out = subprocess.run([exe, "--pixels", pixels_path, "--bench",
                          "--threads", str(threads), *extra],
                         capture_output=True, text=True, check=True).stderr
    for line in out.splitlines():
        if line.startswith(label + ":") and f"batch of {batch}," in line:
            return float(line.split()[1])
    sys.exit(f"no timing from {exe}: {out}")




def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--exe", required=True, action="append",
                        help="[NAME=]PATH of a Kiln executable (repeatable)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--peak-gflops", type=float)
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    import torch
    import transformers as tf
    torch.set_num_threads(args.threads)
    config = json.load(open(os.path.join(args.model, "config.json")))
    clip = config["model_type"] == "clip"
    v = tower_config(config)
    height, width = pair(v.get("image_size", 224))
    if clip:
        full = tf.CLIPModel.from_pretrained(args.model).eval()

        class Tower(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, pixel_values):
                features = self.inner.get_image_features(pixel_values=pixel_values)
                return getattr(features, "pooler_output", features)
        model = Tower(full).eval()
        label = "image"
    else:
        inner = tf.ViTForImageClassification.from_pretrained(args.model).eval()

        class Tower(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, pixel_values):
                return self.inner(pixel_values=pixel_values).logits
        model = Tower(inner).eval()
        label = "classify"

    rng = np.random.default_rng(0)
    pixels = rng.standard_normal((args.batch, 3, height, width)).astype(np.float32)
    work_dir = tempfile.mkdtemp()
    # One --pixels file runs warm-up and --runs batches in one process.
    pixels_path = os.path.join(work_dir, "pixels.npy")
    np.save(pixels_path, np.concatenate([pixels] * (args.runs + 1)))
    tensor = torch.from_numpy(pixels)

    engines = {}
    for name, exe in kiln_executables(args.exe):
        engines[name] = lambda exe=exe: kiln_round(exe, pixels_path, args.batch,
                                                   args.threads, label)
    base = next(iter(engines))

    def torch_round():
        with torch.no_grad():
            return time_callable(lambda: model(tensor), args.runs)
    engines["pytorch"] = torch_round

    onnx_path = os.path.join(work_dir, "tower.onnx")
    try:
        torch.onnx.export(model, (tensor,), onnx_path, input_names=["pixels"],
                          output_names=["out"], opset_version=17, dynamo=False)
    except Exception as error:  # noqa: BLE001 - report and go on without ONNX peers
        print(f"onnx export failed: {error}")
        onnx_path = None
    if onnx_path:
        add_onnx_peers(engines, onnx_path, {"pixels": pixels}, args.threads, args.runs)

    times = run_rounds(engines, args.rounds)
    kind = "CLIP image tower" if clip else "ViT"
    print(f"{kind} ({v.get('num_hidden_layers', 12)} x {v.get('hidden_size', 768)}, "
          f"{height}x{width}, patch {v.get('patch_size', 16)}), batch {args.batch}, "
          f"{args.threads} thread(s), {args.rounds} rounds x {args.runs} runs; "
          f"peer/kiln is to {base}")
    print_table(times, base, flops(config, args.batch), args.peak_gflops)


if __name__ == "__main__":
    main()
