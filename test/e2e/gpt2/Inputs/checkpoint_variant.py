#!/usr/bin/env python3
"""Makes a variant of a checkpoint folder: damaged ones for the bad-input
tests, and the same weights in another layout (sharded, GPT2Model names).

    checkpoint_variant.py MODE SOURCE_DIR DEST_DIR

Files the mode does not touch are symlinked. Standard library only.
"""

import json
import pathlib
import shutil
import struct
import sys


def read_safetensors(path):
    data = path.read_bytes()
    (length,) = struct.unpack_from("<Q", data)
    header = json.loads(data[8:8 + length])
    return header, data[8 + length:]


def write_safetensors(path, header, body, declared_length=None):
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    length = len(text) if declared_length is None else declared_length
    path.write_bytes(struct.pack("<Q", length) + text + body)


def tensors(header):
    return sorted((k for k in header if k != "__metadata__"),
                  key=lambda k: header[k]["data_offsets"][0])


def main():
    mode, source, dest = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for item in source.iterdir():
        (dest / item.name).symlink_to(item.resolve())
    weights = dest / "model.safetensors"
    config = dest / "config.json"

    def replace(path):
        path.unlink()
        return path

    if mode in ("missing-tensor", "overlap", "unknown-dtype", "header-too-long",
                "truncated"):
        header, body = read_safetensors(source / "model.safetensors")
        names = tensors(header)
        replace(weights)
        if mode == "missing-tensor":
            # Renamed, not deleted: its bytes must still belong to a tensor.
            name = "transformer.h.1.mlp.c_fc.weight"
            header[name + ".renamed"] = header.pop(name)
            write_safetensors(weights, header, body)
        elif mode == "overlap":
            first, second = names[0], names[1]
            header[second]["data_offsets"][0] -= 4
            header[second]["data_offsets"][1] -= 4
            write_safetensors(weights, header, body)
        elif mode == "unknown-dtype":
            header["transformer.ln_f.weight"]["dtype"] = "Q4_K"
            write_safetensors(weights, header, body)
        elif mode == "header-too-long":
            write_safetensors(weights, header, body, declared_length=1 << 40)
        elif mode == "truncated":
            write_safetensors(weights, header, body[: len(body) // 2])
    elif mode == "sharded":
        # Two shards and an index, as save_pretrained writes large models.
        header, body = read_safetensors(source / "model.safetensors")
        names = tensors(header)
        weights.unlink()
        index = {"metadata": {}, "weight_map": {}}
        for part, chunk in enumerate((names[: len(names) // 2],
                                      names[len(names) // 2:])):
            file = f"model-{part + 1:05d}-of-00002.safetensors"
            shard_header, pieces, offset = {}, [], 0
            for name in chunk:
                begin, end = header[name]["data_offsets"]
                shard_header[name] = dict(header[name], data_offsets=[offset, offset + end - begin])
                pieces.append(body[begin:end])
                offset += end - begin
                index["weight_map"][name] = file
            write_safetensors(dest / file, shard_header, b"".join(pieces))
        (dest / "model.safetensors.index.json").write_text(json.dumps(index))
    elif mode == "base-model":
        # GPT2Model: no "transformer." prefix, no LM head.
        header, body = read_safetensors(source / "model.safetensors")
        header = {k.removeprefix("transformer."): v for k, v in header.items()}
        replace(weights)
        write_safetensors(weights, header, body)
        values = json.loads((source / "config.json").read_text())
        values["architectures"] = ["GPT2Model"]
        replace(config).write_text(json.dumps(values))
    elif mode == "config-shape":
        values = json.loads((source / "config.json").read_text())
        values["n_inner"] = 100
        replace(config).write_text(json.dumps(values))
    elif mode == "invalid-json":
        replace(config).write_text('{"model_type": "gpt2", "n_embd": 64,,}')
    elif mode == "unknown-model-type":
        values = json.loads((source / "config.json").read_text())
        values["model_type"] = "mamba"
        replace(config).write_text(json.dumps(values))
    elif mode == "unknown-architecture":
        values = json.loads((source / "config.json").read_text())
        values["architectures"] = ["GPT2ForQuestionAnswering"]
        replace(config).write_text(json.dumps(values))
    elif mode == "no-weights":
        weights.unlink()
    elif mode == "no-tokenizer":
        for name in ("vocab.json", "merges.txt", "tokenizer.json"):
            (dest / name).unlink(missing_ok=True)
    elif mode == "vocab-not-json":
        replace(dest / "vocab.json").write_text('{"a": 1,,}')
    elif mode == "vocab-huge-id":
        replace(dest / "vocab.json").write_text('{"a": 16000000}')
    elif mode == "merges-garbage":
        replace(dest / "merges.txt").write_bytes(bytes(range(256)) * 8)
    elif mode == "tokenizer-json-bad":
        replace(dest / "tokenizer.json").write_text(
            '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a q"]}, '
            '"pre_tokenizer": {"type": "ByteLevel"}}')
    elif mode == "empty":
        for item in dest.iterdir():
            item.unlink()
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
