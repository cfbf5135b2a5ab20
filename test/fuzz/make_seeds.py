#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets, test/fuzz/corpus/<target>/:
small real files from test/fixtures and hand-written edge cases. Seeds whose
names start with "crash-" are regressions (inputs that crashed a reader
once) and those starting with "known-" reproduce bugs the first fuzzing
runs found (since fixed); both are kept as they are, everything else is
rewritten.

    test/fuzz/make_seeds.py

Standard library only. Run it again after changing the seeds below.
"""

import json
import pathlib
import re
import struct

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIXTURES = ROOT / "test" / "fixtures"
CORPUS = HERE / "corpus"


def fixture(path):
    return (FIXTURES / path).read_bytes()


def safetensors(tensors, metadata=None, align=8):
    """tensors: [(name, dtype, shape, bytes)], packed in order."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % align)
    return struct.pack("<Q", len(text)) + text + data


def length_prefixed(header):
    return struct.pack("<Q", len(header)) + header


def npy(descr, shape, data, major=1, fortran="False", shape_text=None):
    shape_text = shape_text or ("(" + ", ".join(map(str, shape)) +
                                ("," if len(shape) == 1 else "") + ")")
    header = ("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }"
              % (descr, fortran, shape_text)).encode()
    prefix = 10 if major == 1 else 12
    header += b" " * (-(prefix + len(header) + 1) % 64) + b"\n"
    length = struct.pack("<H" if major == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes([major, 0]) + length + header + data


def payload(count, files, prefix=b"\x7fELF fake executable\n"):
    """An executable image: `prefix`, then `files` [(name, bytes)] at 4096
    multiples (the first may sit at 0 when prefix is empty), the index and
    the trailer; the first byte is the fuzz target's expected file count."""
    image, index = bytearray(prefix), []
    for name, raw in files:
        image += b"\0" * (-len(image) % 4096)
        index.append({"name": name, "offset": len(image), "size": len(raw)})
        image += raw
    index_json = json.dumps({"files": index}).encode()
    index_offset = len(image)
    image += index_json
    size = len(image) + 32
    image += b"KILNPAY1" + struct.pack("<QQQ", index_offset, len(index_json),
                                       size)
    return bytes([count]) + bytes(image)


def tokenizer_json(model, pre_tokenizer, added=(), normalizer=None,
                   decoder=None):
    return json.dumps({
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": list(added), "normalizer": normalizer,
        "pre_tokenizer": pre_tokenizer, "post_processor": None,
        "decoder": decoder, "model": model}).encode()


def added_token(content, id, special=True, single_word=False, lstrip=False,
                rstrip=False, normalized=False):
    return {"id": id, "content": content, "single_word": single_word,
            "lstrip": lstrip, "rstrip": rstrip, "normalized": normalized,
            "special": special}


def mlir_snippets(path):
    """The split-input-file parts of a lit test, without comment lines."""
    text = path.read_text()
    for part in text.split("// -----"):
        lines = [line for line in part.splitlines()
                 if not line.lstrip().startswith("//") and line.strip()]
        if lines:
            yield "\n".join(lines) + "\n"


def seeds():
    f32 = struct.pack("<4f", 1, 2, 3, 4)
    yield "safetensors", {
        "fixture-embedding.safetensors": fixture("embedding/weights.safetensors"),
        "fixture-linear_no_bias.safetensors":
            fixture("linear_no_bias/weights.safetensors"),
        "empty.safetensors": safetensors([]),
        "metadata.safetensors": safetensors(
            [("w", "F32", [2, 2], f32)], metadata={"format": "pt"}),
        "dtypes.safetensors": safetensors([
            ("f32", "F32", [1], f32[:4]), ("f16", "F16", [2], b"\x00\x3c\x00\xbc"),
            ("bf16", "BF16", [1, 2], b"\x80\x3f\x00\xc0"),
            ("f64", "F64", [], struct.pack("<d", 0.5)),
            ("i64", "I64", [1], struct.pack("<q", -5)),
            ("i32", "I32", [1], struct.pack("<i", 7)),
            ("i8", "I8", [2], b"\x01\xff"), ("u8", "U8", [2], b"\x01\xff"),
            ("bool", "BOOL", [2], b"\x00\x01"),
            ("empty", "F32", [0, 3], b"")]),
        # As `kiln compile` rewrites an embedded file: aligned tensors with
        # padding tensors between them and a header padded with spaces.
        "aligned.safetensors": safetensors([
            ("a", "F32", [3], f32[:12]), ("__kiln_padding_0", "U8", [52], b"\0" * 52),
            ("b", "F16", [2], b"\x00\x3c\x00\xbc")], align=64),
        # Refused as the safetensors library refuses them.
        "repeated-key.safetensors": length_prefixed(
            b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
            b'"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}') +
            b"\0" * 8,
        "gap.safetensors": safetensors([("a", "F32", [1], f32[:4])]) + b"\0",
    }

    yield "npy", {
        "fixture-f32.npy": fixture("add/b.npy"),
        "fixture-i8.npy": fixture("bert_block/lengths.npy"),
        "f64.npy": npy("<f8", [2], struct.pack("<2d", 1.5, -2)),
        "f16.npy": npy("<f2", [3], b"\x00\x3c\x00\xbc\x00\x00"),
        "i32.npy": npy("<i4", [1, 2], struct.pack("<2i", 1, -1)),
        "bool.npy": npy("|b1", [2], b"\x00\x01"),
        "scalar.npy": npy("<f4", [], struct.pack("<f", 3), shape_text="()"),
        "empty.npy": npy("<f4", [0, 5], b""),
        "v2.npy": npy("<i8", [1], struct.pack("<q", 9), major=2),
        "v3.npy": npy("<f4", [1], struct.pack("<f", 1), major=3),
        "python2-long.npy": npy("<f4", [1], f32[:4], shape_text="(1L,)"),
        "fortran.npy": npy("<f4", [2, 2], f32, fortran="True"),
        "big-endian.npy": npy(">f4", [1], f32[:4]),
    }

    yield "config_json", {
        "gpt2-config.json": fixture("gpt2/tiny/config.json"),
        "bert-config.json": fixture("encoders/bert-base/config.json"),
        "roberta-config.json":
            fixture("encoders/roberta-sequence-classification/config.json"),
        "tokenizer_config.json":
            fixture("encoders/bert-odd-masked-lm/tokenizer_config.json"),
        "modules.json": json.dumps([
            {"idx": 0, "name": "0", "path": "",
             "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling",
             "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize",
             "type": "sentence_transformers.models.Normalize"}],
            indent=2).encode(),
        "pooling-config.json": json.dumps({
            "word_embedding_dimension": 384, "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False}).encode(),
        "model.safetensors.index.json": json.dumps({
            "metadata": {"total_size": 1024},
            "weight_map": {"wte.weight": "model-00001-of-00002.safetensors",
                           "h.0.attn.c_attn.weight":
                               "model-00002-of-00002.safetensors"}}).encode(),
        "generation_config.json": json.dumps({
            "_from_model_config": True, "bos_token_id": 50256,
            "eos_token_id": 50256, "transformers_version": "4.44.0"}).encode(),
    }

    bpe_vocab = {"<|endoftext|>": 0, "h": 1, "e": 2, "l": 3, "o": 4, "\u0120": 5,
                 "w": 6, "he": 7, "ll": 8, "hell": 9, "hello": 10,
                 "\u0120w": 11, "!": 12, "<unk>": 13}
    bpe_merges = ["h e", "l l", "he ll", "hell o", "\u0120 w"]
    yield "tokenizer_json", {
        "fixture-bpe.json": fixture("runtime/tokenizer.json"),
        "fixture-wordpiece.json": fixture("runtime/encoder/tokenizer.json"),
        "bpe-pairs.json": tokenizer_json(
            {"type": "BPE", "dropout": None, "unk_token": "<unk>",
             "fuse_unk": True, "byte_fallback": False, "ignore_merges": True,
             "vocab": bpe_vocab, "merges": [m.split(" ") for m in bpe_merges]},
            {"type": "Sequence", "pretokenizers": [
                {"type": "ByteLevel", "add_prefix_space": True,
                 "trim_offsets": True, "use_regex": False}]},
            added=[added_token("<|endoftext|>", 0),
                   added_token("<mask>", 14, lstrip=True),
                   added_token("lo", 15, special=False, single_word=True,
                               rstrip=True, normalized=True)],
            decoder={"type": "ByteLevel"}),
        "wordpiece-options.json": tokenizer_json(
            {"type": "WordPiece", "unk_token": "[UNK]",
             "continuing_subword_prefix": "##",
             "max_input_chars_per_word": 8,
             "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3,
                       "hello": 4, "##s": 5, "caf": 6, "##e": 7, "\u00e9": 8}},
            {"type": "BertPreTokenizer"},
            added=[added_token("[CLS]", 1), added_token("[SEP]", 2),
                   added_token("[PAD]", 3),
                   added_token("Caf\u00e9", 9, special=False,
                               normalized=True)],
            normalizer={"type": "BertNormalizer", "clean_text": True,
                        "handle_chinese_chars": False, "strip_accents": None,
                        "lowercase": False},
            decoder={"type": "WordPiece", "prefix": "##", "cleanup": False}),
    }

    yield "bpe_vocab_merges", {
        "fixture.txt": fixture("runtime/vocab.json") + b"\n%%merges.txt%%\n" +
            fixture("runtime/merges.txt"),
        "versioned-crlf.txt": json.dumps(bpe_vocab).encode() +
            b"\n%%merges.txt%%\n#version: 0.2\r\n" +
            "\r\n".join(bpe_merges).encode() + b"\r\n",
        "no-merges.txt": json.dumps({"a": 0, "b": 1, "<|x|>": 2}).encode(),
    }

    minilm = fixture("tokenizer/minilm/vocab.txt").split(b"\n")
    yield "vocab_txt", {
        # Option byte: lowercase, strip accents unset, CJK, clean text.
        "fixture-encoder.txt": b"\x99" + "\n".join(
            json.loads(fixture("runtime/encoder/tokenizer.json"))
            ["model"]["vocab"]).encode() + b"\n",
        "minilm-head.txt": b"\x19" + b"\n".join(minilm[:120] +
                                                minilm[1990:2100]) + b"\n",
        "odd-lines.txt": b"\xbe[UNK]\r\n[CLS]  \n[SEP]\n\nhello\nhello\n##s\t\n"
                         b"caf\xc3\xa9\n\xe5\x8c\x97\n[PAD]",
    }

    cases = json.loads(fixture("tokenizer/gpt2_cases.json"))["texts"]
    texts = [case["text"] for case in cases]
    picked = [t for t in texts if 8 <= len(t.encode()) <= 200][::25][:6]
    encode = {"case-%d.txt" % i: t.encode() for i, t in enumerate(picked)}
    encode.update({
        "added-tokens.txt": b"<s>hello<mask> world <sep>x [NEW] cat cats "
                            b"Hello World <x>  spaced  \xc3\x89t\xc3\xa9 ##s",
        "mixed.txt": "It's   naïve café 北京 don't 123,456 😀 \t\n end.".encode(),
        "invalid-utf8.txt": b"ab\xc3 \xff\xfe\xed\xa0\x80 \xf0\x9f\x98 z",
        "marks.txt": "e\u0301\u0327 a\u0308\u0323 \u1e9b\u0323 \u0130 \uac00".encode(),
    })
    yield "tokenizer_encode", encode

    snippets = {}
    for lit in ["roundtrip-attention", "roundtrip-norms", "roundtrip-shape",
                "roundtrip-elementwise", "roundtrip-activations",
                "roundtrip-parameters", "invalid-attention", "invalid-shape"]:
        for i, text in enumerate(mlir_snippets(ROOT / "test" / "dialect" /
                                               (lit + ".mlir"))):
            if len(text) <= 2048 and i < 2:
                snippets["%s-%d.mlir" % (lit, i)] = text.encode()
    for op in ["linear", "embedding", "gather", "concat"]:
        snippets["e2e-%s.mlir" % op] = "\n".join(
            line for line in (ROOT / "test" / "e2e" / "ops" / (op + ".mlir"))
            .read_text().splitlines()
            if not line.startswith("//")).encode()
    yield "mlir", snippets

    weights = safetensors([("w", "F32", [2], f32[:8])])
    yield "payload", {
        "one-file.bin": payload(1, [("model.safetensors", weights)]),
        "two-files.bin": payload(2, [("model.safetensors", weights),
                                     ("tokenizer.json", b'{"model":{}}')],
                                 prefix=b""),
        "empty-file.bin": payload(1, [("vocab.txt", b"")]),
        "no-files.bin": payload(0, []),
    }


def main():
    for target, files in seeds():
        folder = CORPUS / target
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            if not old.name.startswith(("crash-", "known-")):
                old.unlink()
        for name, data in files.items():
            (folder / name).write_bytes(data)


if __name__ == "__main__":
    main()
