#!/usr/bin/env python3
"""Writes a random-weight GPT-2 checkpoint folder of a published size, for
measuring compile time, start-up and memory on large models (GPT-2 XL's fp32
weights take 6.2 GB). Tensors are generated and written one at a time, so the
script needs little memory. The tokenizer files are copied from a folder that
has them (the test fixture holds the real GPT-2 tokenizer).

usage: make_gpt2_checkpoint.py OUT_DIR [--size small|medium|large|xl]
                               [--tokenizer-from DIR]
"""
import argparse
import json
import os
import shutil
import struct

import numpy as np

SIZES = {  # n_embd, n_layer, n_head
    "small": (768, 12, 12),
    "medium": (1024, 24, 16),
    "large": (1280, 36, 20),
    "xl": (1600, 48, 25),
}


def tensor_shapes(d, layers, vocab, positions):
    yield "transformer.wte.weight", (vocab, d)
    yield "transformer.wpe.weight", (positions, d)
    for i in range(layers):
        p = f"transformer.h.{i}."
        yield p + "ln_1.weight", (d,)
        yield p + "ln_1.bias", (d,)
        yield p + "attn.c_attn.weight", (d, 3 * d)
        yield p + "attn.c_attn.bias", (3 * d,)
        yield p + "attn.c_proj.weight", (d, d)
        yield p + "attn.c_proj.bias", (d,)
        yield p + "ln_2.weight", (d,)
        yield p + "ln_2.bias", (d,)
        yield p + "mlp.c_fc.weight", (d, 4 * d)
        yield p + "mlp.c_fc.bias", (4 * d,)
        yield p + "mlp.c_proj.weight", (4 * d, d)
        yield p + "mlp.c_proj.bias", (d,)
    yield "transformer.ln_f.weight", (d,)
    yield "transformer.ln_f.bias", (d,)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--size", choices=SIZES, default="xl")
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument(
        "--tokenizer-from",
        default=os.path.join(here, "..", "..", "test", "fixtures", "gpt2", "tiny"))
    args = parser.parse_args()
    d, layers, heads = SIZES[args.size]
    vocab, positions = 50257, 1024
    os.makedirs(args.out, exist_ok=True)
    config = {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
        "activation_function": "gelu_new", "n_embd": d, "n_layer": layers,
        "n_head": heads, "n_positions": positions, "n_inner": None,
        "vocab_size": vocab, "layer_norm_epsilon": 1e-5,
        "bos_token_id": 50256, "eos_token_id": 50256,
        "tie_word_embeddings": True, "scale_attn_weights": True,
    }
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(os.path.join(args.tokenizer_from, name), args.out)

    shapes = list(tensor_shapes(d, layers, vocab, positions))
    header, offset = {}, 0
    for name, shape in shapes:
        size = 4 * int(np.prod(shape))
        header[name] = {"dtype": "F32", "shape": list(shape),
                        "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    rng = np.random.default_rng(0)
    with open(os.path.join(args.out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for name, shape in shapes:
            if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
                values = np.ones(shape, np.float32)
            elif name.endswith("bias"):
                values = np.zeros(shape, np.float32)
            else:
                values = rng.standard_normal(shape, np.float32) * 0.02
            f.write(values.tobytes())
    print(f"{args.out}: GPT-2 {args.size}, {offset / 1e9:.2f} GB of weights")


if __name__ == "__main__":
    main()
