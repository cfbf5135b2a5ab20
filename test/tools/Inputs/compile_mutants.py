#!/usr/bin/env python3
"""Runs `kiln compile` on many mutations of valid checkpoint folders: every
field of config.json that sets a size, with values of the wrong type or out
of range, and whole JSON files replaced by other JSON values.

    compile_mutants.py FIXTURES_DIR WORK_DIR

Each mutant must be rejected with exit code 1 (not a signal, not 0) and one
line "error: ..." that names the file edited. Prints one line per mutant,
"<file> <edit>: <message without WORK_DIR>", then a summary; exits 1 if any
mutant was mishandled. Standard library only.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

# Values no integer size field accepts: floats, strings, booleans, lists,
# objects, negatives, and integers past int64, uint64 and int32.
BAD_INTEGERS = [768.5, 1e10, -1, "64", True, [], {"a": 1}, 2**63,
                2**64 - 1, 2**70]
BAD_EPSILONS = [0, -1e-5, "1e-5", 1e39, [1e-5]]

GPT2_SIZES = ["vocab_size", "n_positions", "n_embd", "n_layer", "n_head",
              "n_inner"]
BERT_SIZES = ["vocab_size", "hidden_size", "num_hidden_layers",
              "num_attention_heads", "intermediate_size",
              "max_position_embeddings", "type_vocab_size", "pad_token_id",
              "num_labels"]

# Whole-file replacements: other JSON types, broken JSON, empty files.
BAD_FILES = ["[]", "[1, 2]", "5", "\"text\"", "null", "true", "{", "", "{}x"]


def mutants():
    """(fixture, file, edit): edit is a dict of fields to set, or text."""
    for field in GPT2_SIZES:
        for value in BAD_INTEGERS:
            yield "gpt2/tiny", "config.json", {field: value}
    for field in ["bos_token_id", "eos_token_id"]:
        for value in [-1, 50257, 1.5, "0", {}, 2**64 - 1]:
            yield "gpt2/tiny", "config.json", {field: value}
    for value in BAD_EPSILONS:
        yield "gpt2/tiny", "config.json", {"layer_norm_epsilon": value}
    for field in ["scale_attn_weights", "tie_word_embeddings"]:
        for value in [1, "true", []]:
            yield "gpt2/tiny", "config.json", {field: value}
    for field, values in [("model_type", [5, [], "gpt3"]),
                          ("activation_function", [5, "tanh"]),
                          ("architectures", ["GPT2LMHeadModel", [5], {}])]:
        for value in values:
            yield "gpt2/tiny", "config.json", {field: value}
    for text in BAD_FILES:
        yield "gpt2/tiny", "config.json", text
        yield "gpt2/tiny", "model.safetensors.index.json", text

    for field in BERT_SIZES:
        for value in BAD_INTEGERS:
            yield "encoders/bert-sequence-classification", "config.json", \
                {field: value}
    for value in BAD_EPSILONS:
        yield "encoders/bert-base", "config.json", {"layer_norm_eps": value}
    for field, values in [
            ("id2label", [[], "a", {"0": "a", "1": "b", "x": "c"},
                          {"0": "a", "1": "b", "3": "c"},
                          {"0": "a", "01": "b", "2": "c"},
                          {"0": "a", "1": "b", "2": None}]),
            ("label2id", [[], "a"]),
            ("problem_type", [5, "ranking"]),
            ("hidden_act", [5, "gelu_fast"]),
            ("position_embedding_type", ["relative_key", 5]),
            ("is_decoder", [True, "no"])]:
        for value in values:
            yield "encoders/bert-sequence-classification", "config.json", \
                {field: value}
    for text in BAD_FILES:
        yield "encoders/bert-base", "config.json", text
        yield "encoders/bert-odd-masked-lm", "tokenizer_config.json", text

    # A sentence-transformers folder (as all-MiniLM-L6-v2) made from
    # bert-base: its modules.json and the pooling config.
    for text in BAD_FILES + ["[5]", "[{\"type\": 5}]", "[{\"path\": []}]",
                             "{\"modules\": []}"]:
        yield "st", "modules.json", text
    for text in BAD_FILES:
        yield "st", "1_Pooling/config.json", text
    for field in ["pooling_mode_cls_token", "pooling_mode_mean_tokens",
                  "pooling_mode_max_tokens"]:
        for value in [1, "true", [True]]:
            yield "st", "1_Pooling/config.json", {field: value}
    for value in BAD_INTEGERS:
        yield "st", "1_Pooling/config.json", \
            {"word_embedding_dimension": value}


MODULES = [
    {"idx": 0, "name": "0", "path": "",
     "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling",
     "type": "sentence_transformers.models.Pooling"},
    {"idx": 2, "name": "2", "path": "2_Normalize",
     "type": "sentence_transformers.models.Normalize"},
]
POOLING = {"word_embedding_dimension": 32, "pooling_mode_cls_token": False,
           "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False}


def make_folder(fixtures, fixture, dest, name, edit):
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    source = fixtures / ("encoders/bert-base" if fixture == "st" else fixture)
    for item in source.iterdir():
        (dest / item.name).symlink_to(item.resolve())
    files = {}
    if fixture == "st":
        files["modules.json"] = json.dumps(MODULES)
        files["1_Pooling/config.json"] = json.dumps(POOLING)
    if isinstance(edit, dict):
        original = files.get(name)
        data = json.loads(original) if original else \
            json.loads((source / name).read_text())
        data.update(edit)
        files[name] = json.dumps(data)
    else:
        files[name] = edit
    for path, text in files.items():
        target = dest / path
        if target.is_symlink():
            target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def main():
    fixtures, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    failures = 0
    count = 0
    for index, (fixture, name, edit) in enumerate(mutants()):
        count += 1
        folder = work / f"m{index}"
        make_folder(fixtures, fixture, folder, name, edit)
        description = f"{fixture} {name} " + \
            (json.dumps(edit) if isinstance(edit, dict) else repr(edit))
        result = subprocess.run(
            ["kiln", "compile", str(folder), "-o", str(work / "out.exe")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            timeout=120)
        message = result.stderr.strip()
        lines = message.splitlines()
        problem = None
        if result.returncode < 0:
            problem = f"killed by signal {-result.returncode}"
        elif result.returncode != 1:
            problem = f"exit code {result.returncode}"
        elif len(lines) != 1 or not lines[0].startswith("error: "):
            problem = "not one 'error:' line"
        elif str(folder / name) not in lines[0]:
            problem = f"the message does not name {name}"
        shown = message.replace(str(folder) + os.sep, "").replace(
            str(folder), "<folder>")
        if problem:
            failures += 1
            print(f"FAIL {description}: {problem}: {shown[:300]}")
        else:
            print(f"{description}: {shown}")
    print(f"{count} mutants, {failures} mishandled")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
