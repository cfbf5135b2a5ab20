#!/usr/bin/env python3
"""Kiln against its peers on one GPT-2 checkpoint: prefill and decode, in one run.

    compare_gpt2.py --model DIR --exe [NAME=]KILN_EXE [--exe NAME=KILN_EXE ...]
                    [--prompt-tokens 128] [--decode-tokens 128] [--threads 2]
                    [--rounds 5] [--runs 5] [--check-tokens 16]
                    [--peak-gflops P] [--bandwidth-gbs B]
                    [--engines kiln,pytorch,onnxruntime,openvino,openvino-default]

Several Kiln executables (e.g. one per kernel backend) are compared in one
run by repeating --exe with a name: `--exe llvm=A --exe halide=B` times
engines kiln-llvm and kiln-halide (all selected by "kiln" in --engines), and
the peer / Kiln column is then to the first one. A plain `--exe PATH` is the
engine "kiln". Each KILN_EXE must be compiled from DIR with `kiln compile DIR
-o KILN_EXE --prefill-lengths P` and know --ignore-eos (random weights hit the
end-of-text token early). All engines run fp32 (but openvino-default), batch
1, the same weights and the same thread count; rounds interleave the engines (kiln, pytorch,
onnxruntime, openvino, kiln, ...), each round measuring both phases:

  prefill  a fixed prompt of P token ids ((i * 7919) % 50000), through every
           layer for all P positions, writing the KV cache, and the logits of
           the last position: what generation needs and what Kiln's `prefill:`
           line times (its lm_head runs on the last row only, so no peer
           computes the P x vocab logits either). A round is the mean of
           --runs calls after one warm-up call; each Kiln run is a fresh
           `KILN_EXE --ids ... -n 1 --bench` process, whose --bench runs one
           untimed warm-up prefill before the timed one.
  decode   after that prompt, greedy generation of N tokens with a KV cache:
           the first token comes from the prefill logits, then N - 1 decode
           steps (one token in, next-token logits out, argmax) are timed;
           ms/token = their time / (N - 1), as Kiln's `decode:` line
           (`KILN_EXE --ids ... -n N --ignore-eos --bench`) counts it. A
           round is one generation, after a warm-up generation of 4 tokens
           (Kiln: none, the decode steps follow its prefill in the process).

Peers:
  pytorch      transformers' GPT2LMHeadModel (its default attention, sdpa),
               eager, under torch.inference_mode; prefill is
               model(ids, use_cache=True, logits_to_keep=1), decode a manual
               greedy loop feeding the returned cache back with each token.
  onnxruntime  two graphs exported with torch.onnx.export (TorchScript
  openvino     exporter, opset 17) from a module written here that runs the
               checkpoint's own submodules (wte, wpe, ln_1, c_attn, c_proj,
               ln_2, mlp, ln_f, lm_head) with explicit key/value tensors,
               because transformers 5 keeps the cache in a Cache object the
               exporter cannot trace as inputs:
                 prefill: ids [1,P] -> logits [1,V] (last position) and
                          present.L.key/value [1,H,P,d/H] (fixed shapes);
                 decode:  ids [1,1], position [1,1], past.L.key/value
                          [1,H,T,d/H] -> logits [1,V], present.L.key/value
                          [1,H,T+1,d/H] (T dynamic; the cache grows by
                          concatenation, as in Hugging Face Optimum's
                          decoder-with-past graphs).
               The module is checked against GPT2LMHeadModel (logits, max
               |difference|) before export. ONNX Runtime runs both graphs on
               the CPU provider (default graph optimizations, intra_op threads
               = --threads, inter_op 1), keeping the cache as OrtValues between
               steps (run_with_ort_values: no copy through numpy). OpenVINO
               reads the same ONNX files (INFERENCE_NUM_THREADS = --threads,
               INFERENCE_PRECISION_HINT f32) and passes the cache between two
               infer requests that alternate, so outputs are never copied.
  openvino-default  the same at OpenVINO's default inference precision (no
               hint: bf16 on CPUs with AVX-512 BF16 or AMX, else f32; the
               setup prints it). Not fp32, so its greedy tokens may differ.
               The untimed prefill of each peer's own graph seeds its decode.

Before timing, each engine generates --check-tokens greedy tokens after the
prompt; any that differ from PyTorch's are reported with a warning line.

Tables: median and p90 over rounds, peer / Kiln (> 1: Kiln is faster), and:
  prefill: GFLOP/s and the fraction of --peak-gflops (the FMA peak for the
    thread count, e.g. from shared/tools/roofline.cpp), with
    FLOPs = 2 P L (4 d^2 + 2 d inner)          (qkv, attention out, MLP)
          + 2 L d P (P + 1)                    (QK^T and PV, causal half)
          + 2 d V                              (lm_head, last position)
  decode: GB/s and the fraction of --bandwidth-gbs, with bytes per token =
    4 x (all parameters of the L blocks and ln_f + V d for the tied
    lm_head/wte, read once + 2 d for the wte and wpe rows looked up): the
    fp32 weight bytes every step must read. KV-cache reads (2 L T d x 4
    bytes at position T) are left out; they are a few % at T <= 256.
A peer that fails to import, export, compile or run is reported and skipped.
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

from peers import kiln_executables

WARMUP_DECODE_TOKENS = 4


def prompt_ids(count):
    return [(i * 7919) % 50000 for i in range(count)]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average():
    try:
        with open("/proc/loadavg") as loadavg:
            return " ".join(loadavg.read().split()[:3])
    except OSError:
        return "unknown"


def package_versions():
    versions = {"python": platform.python_version()}
    for name in ("numpy", "torch", "transformers", "onnx", "onnxruntime", "openvino"):
        try:
            module = __import__(name)
            versions[name] = getattr(module, "__version__", "?")
        except Exception:  # noqa: BLE001 - any import failure: not installed
            versions[name] = "not installed"
    return versions


def p90(values):
    return sorted(values)[max(0, int(round(0.9 * len(values))) - 1)]


# --- Kiln -----------------------------------------------------------------


def kiln_bench(exe, ids, threads, new_tokens, extra=()):
    command = [exe, "--ids", " ".join(map(str, ids)), "-n", str(new_tokens),
               "--ignore-eos", "--bench", "--threads", str(threads), *extra]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{exe} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout, result.stderr


def kiln_line(stderr, prefix, pattern):
    for line in stderr.splitlines():
        if line.startswith(prefix):
            match = re.search(pattern, line)
            if match:
                return match
    raise RuntimeError(f"no '{prefix}' timing in: {stderr.strip()}")


class Kiln:
    def __init__(self, exe, ids, threads, runs):
        self.exe, self.ids, self.threads, self.runs = exe, ids, threads, runs
        help_text = subprocess.run([exe, "--help"], capture_output=True, text=True).stdout
        if "--ignore-eos" not in help_text:
            raise RuntimeError(f"{exe} has no --ignore-eos: recompile it with this tree's kiln")
        _, err = kiln_bench(exe, ids, threads, 1)  # warm-up: weights into the page cache
        bucket = kiln_line(err, "prefill:", r"\(bucket (\d+)( \+ (\d+) decode steps)?\)")
        if int(bucket.group(1)) != len(ids) or bucket.group(2):
            print(f"warning: kiln prefills {len(ids)} tokens as '{bucket.group(0)}': compile "
                  f"it with --prefill-lengths {len(ids)} for a like-for-like prefill")

    def tokens(self, count):
        out, _ = kiln_bench(self.exe, self.ids, self.threads, count, ("--json",))
        return json.loads(out)["generated_ids"]

    def prefill(self):
        times = []
        for _ in range(self.runs):
            _, err = kiln_bench(self.exe, self.ids, self.threads, 1)
            times.append(float(kiln_line(err, "prefill:", r"prefill: ([0-9.]+) ms").group(1)))
        return statistics.mean(times)

    def decode(self, new_tokens):
        _, err = kiln_bench(self.exe, self.ids, self.threads, new_tokens)
        match = kiln_line(err, "decode:", r"\(([0-9.]+) ms/token\) over (\d+) token")
        if int(match.group(2)) != new_tokens - 1:
            raise RuntimeError(f"kiln decoded {match.group(2)} tokens, expected {new_tokens - 1}")
        return float(match.group(1))


# --- PyTorch --------------------------------------------------------------


def cache_of(output):
    cache = getattr(output, "cache", None)  # transformers >= 5.x renamed it
    return cache if cache is not None else output.past_key_values


class PyTorch:
    def __init__(self, model, ids, runs):
        import torch
        self.torch, self.model, self.runs = torch, model, runs
        self.ids = torch.tensor([ids], dtype=torch.long)

    def _prefill(self):
        return self.model(input_ids=self.ids, use_cache=True, logits_to_keep=1)

    def _generate(self, new_tokens):
        """Greedy tokens; the seconds the N - 1 decode steps took."""
        torch = self.torch
        with torch.inference_mode():
            out = self._prefill()
            token = out.logits[0, -1].argmax().item()
            cache, tokens = cache_of(out), [token]
            start = time.perf_counter()
            for _ in range(new_tokens - 1):
                # The cache positionally: past_key_values, renamed cache in 5.x.
                out = self.model(torch.tensor([[token]]), cache, use_cache=True)
                token = out.logits[0, -1].argmax().item()
                cache = cache_of(out)
                tokens.append(token)
            return tokens, time.perf_counter() - start

    def tokens(self, count):
        return self._generate(count)[0]

    def prefill(self):
        with self.torch.inference_mode():
            self._prefill()  # warm-up
            start = time.perf_counter()
            for _ in range(self.runs):
                self._prefill()
            return (time.perf_counter() - start) / self.runs * 1000

    def decode(self, new_tokens):
        self._generate(WARMUP_DECODE_TOKENS)
        return self._generate(new_tokens)[1] / (new_tokens - 1) * 1000


# --- The exported graphs --------------------------------------------------


def export_graphs(model, prompt_tokens, directory):
    """Writes prefill.onnx and decode.onnx; returns their paths and the
    names of the cache inputs and outputs."""
    import torch
    import torch.nn.functional as F

    config = model.config
    if config.scale_attn_by_inverse_layer_idx or getattr(config, "add_cross_attention", False):
        raise RuntimeError("the explicit-cache module covers plain GPT-2 attention only")
    layers, d, heads = config.n_layer, config.n_embd, config.n_head
    head_dim = d // heads

    class ExplicitCacheGpt2(torch.nn.Module):
        """GPT-2 on the checkpoint's own submodules, the cache as tensors."""

        def __init__(self, lm, decode):
            super().__init__()
            self.transformer, self.lm_head, self.decode = lm.transformer, lm.lm_head, decode
            mask = torch.full((prompt_tokens, prompt_tokens), float("-inf")).triu(1)
            self.register_buffer("causal", mask, persistent=False)

        def forward(self, ids, position=None, *past):
            t = self.transformer
            length = ids.shape[1]
            if position is None:
                position = torch.arange(length).unsqueeze(0)
            x = t.wte(ids) + t.wpe(position)
            presents = []
            for i, block in enumerate(t.h):
                attn = block.attn
                q, k, v = attn.c_attn(block.ln_1(x)).split(d, dim=2)
                q, k, v = (z.view(1, length, heads, head_dim).transpose(1, 2) for z in (q, k, v))
                if self.decode:
                    k = torch.cat([past[2 * i], k], dim=2)
                    v = torch.cat([past[2 * i + 1], v], dim=2)
                presents += [k, v]
                scores = torch.matmul(q, k.transpose(-1, -2)) * (head_dim ** -0.5)
                if not self.decode:  # one new token attends to every cached one
                    scores = scores + self.causal
                o = torch.matmul(F.softmax(scores, dim=-1), v)
                o = attn.c_proj(o.transpose(1, 2).reshape(1, length, d))
                x = x + o
                x = x + block.mlp(block.ln_2(x))
            logits = self.lm_head(t.ln_f(x[:, -1]))
            return (logits, *presents)

    cache_names = [f"{kind}.{i}.{part}" for kind in ("past", "present")
                   for i in range(layers) for part in ("key", "value")]
    past_names, present_names = cache_names[:2 * layers], cache_names[2 * layers:]

    ids = torch.tensor([prompt_ids(prompt_tokens)])
    prefill_module = ExplicitCacheGpt2(model, decode=False).eval()
    decode_module = ExplicitCacheGpt2(model, decode=True).eval()
    with torch.inference_mode():
        reference = model(input_ids=ids, use_cache=True)
        ours = prefill_module(ids)
        diff = (ours[0] - reference.logits[0, -1]).abs().max().item()
        token = torch.tensor([[int(ours[0].argmax())]])
        position = torch.tensor([[prompt_tokens]])
        step_ref = model(token, cache_of(reference), use_cache=True)
        step = decode_module(token, position, *ours[1:])
        diff = max(diff, (step[0] - step_ref.logits[0, -1]).abs().max().item())
    print(f"explicit-cache module vs GPT2LMHeadModel: max |logit difference| {diff:.2e}")
    if diff > 1e-2:
        raise RuntimeError(f"explicit-cache module disagrees with the model ({diff:.2e})")

    prefill_path = os.path.join(directory, "prefill.onnx")
    decode_path = os.path.join(directory, "decode.onnx")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter is deprecated
        torch.onnx.export(prefill_module, (ids,), prefill_path, input_names=["ids"],
                          output_names=["logits", *present_names], opset_version=17,
                          dynamo=False)
        past = [torch.zeros(1, heads, prompt_tokens, head_dim) for _ in past_names]
        dynamic = {name: {2: "past"} for name in past_names}
        dynamic.update({name: {2: "total"} for name in present_names})
        torch.onnx.export(decode_module, (token, position, *past), decode_path,
                          input_names=["ids", "position", *past_names],
                          output_names=["logits", *present_names], opset_version=17,
                          dynamic_axes=dynamic, dynamo=False)
    return prefill_path, decode_path, past_names, present_names


class OnnxRuntime:
    def __init__(self, graphs, ids, threads, runs):
        import numpy as np
        import onnxruntime as ort
        self.np, self.ort, self.runs = np, ort, runs
        prefill_path, decode_path, self.past_names, self.present_names = graphs
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        providers = ["CPUExecutionProvider"]
        self.prefill_session = ort.InferenceSession(prefill_path, options, providers=providers)
        self.decode_session = ort.InferenceSession(decode_path, options, providers=providers)
        self.outputs = ["logits", *self.present_names]
        self.ids = np.array([ids], dtype=np.int64)
        self.length = len(ids)

    def _prefill(self):
        value = self.ort.OrtValue.ortvalue_from_numpy(self.ids)
        return self.prefill_session.run_with_ort_values(self.outputs, {"ids": value})

    def _generate(self, new_tokens):
        np, OrtValue = self.np, self.ort.OrtValue
        outs = self._prefill()
        token = int(outs[0].numpy()[0].argmax())
        tokens, cache = [token], list(outs[1:])
        start = time.perf_counter()
        for step in range(new_tokens - 1):
            feeds = dict(zip(self.past_names, cache))
            feeds["ids"] = OrtValue.ortvalue_from_numpy(np.array([[token]], dtype=np.int64))
            feeds["position"] = OrtValue.ortvalue_from_numpy(
                np.array([[self.length + step]], dtype=np.int64))
            outs = self.decode_session.run_with_ort_values(self.outputs, feeds)
            token = int(outs[0].numpy()[0].argmax())
            tokens.append(token)
            cache = list(outs[1:])
        return tokens, time.perf_counter() - start

    def tokens(self, count):
        return self._generate(count)[0]

    def prefill(self):
        self._prefill()
        start = time.perf_counter()
        for _ in range(self.runs):
            self._prefill()
        return (time.perf_counter() - start) / self.runs * 1000

    def decode(self, new_tokens):
        self._generate(WARMUP_DECODE_TOKENS)
        return self._generate(new_tokens)[1] / (new_tokens - 1) * 1000


class OpenVino:
    def __init__(self, graphs, ids, threads, runs, precision="f32"):
        import numpy as np
        import openvino as ov
        self.np, self.ov, self.runs = np, ov, runs
        prefill_path, decode_path, past_names, present_names = graphs
        core = ov.Core()
        config = {"INFERENCE_NUM_THREADS": threads}
        if precision:
            config["INFERENCE_PRECISION_HINT"] = precision
        prefill = core.compile_model(core.read_model(prefill_path), "CPU", config)
        decode = core.compile_model(core.read_model(decode_path), "CPU", config)
        self.precision = decode.get_property("INFERENCE_PRECISION_HINT").to_string()
        self.prefill_request = prefill.create_infer_request()
        # Two decode requests take turns: each reads the other's presents.
        self.decode_requests = [decode.create_infer_request() for _ in range(2)]
        self.prefill_presents = [prefill.output(name) for name in present_names]
        self.decode_logits = decode.output("logits")
        self.decode_presents = [decode.output(name) for name in present_names]
        self.decode_pasts = [decode.input(name) for name in past_names]
        self.ids = np.array([ids], dtype=np.int64)
        self.length = len(ids)

    def _prefill(self):
        self.prefill_request.infer({"ids": self.ids}, share_inputs=True, share_outputs=True)
        return self.prefill_request

    def _generate(self, new_tokens):
        np, ov = self.np, self.ov
        request = self._prefill()
        token = int(request.get_output_tensor(0).data[0].argmax())
        cache = [request.get_tensor(port) for port in self.prefill_presents]
        tokens = [token]
        start = time.perf_counter()
        for step in range(new_tokens - 1):
            request = self.decode_requests[step % 2]
            for port, tensor in zip(self.decode_pasts, cache):
                request.set_tensor(port, tensor)
            request.set_tensor("ids", ov.Tensor(np.array([[token]], dtype=np.int64)))
            request.set_tensor("position", ov.Tensor(
                np.array([[self.length + step]], dtype=np.int64)))
            request.infer()
            token = int(request.get_tensor(self.decode_logits).data[0].argmax())
            tokens.append(token)
            cache = [request.get_tensor(port) for port in self.decode_presents]
        return tokens, time.perf_counter() - start

    def tokens(self, count):
        return self._generate(count)[0]

    def prefill(self):
        self._prefill()
        start = time.perf_counter()
        for _ in range(self.runs):
            self._prefill()
        return (time.perf_counter() - start) / self.runs * 1000

    def decode(self, new_tokens):
        self._generate(WARMUP_DECODE_TOKENS)
        return self._generate(new_tokens)[1] / (new_tokens - 1) * 1000


# --- Work per phase -------------------------------------------------------


def prefill_flops(config, prompt_tokens):
    d, layers, vocab = config.n_embd, config.n_layer, config.vocab_size
    inner = config.n_inner or 4 * d
    p = prompt_tokens
    return (2 * p * layers * (4 * d * d + 2 * d * inner)
            + 2 * layers * d * p * (p + 1)
            + 2 * d * vocab)


def decode_bytes(model):
    config = model.config
    blocks = sum(t.numel() for name, t in model.transformer.named_parameters()
                 if name.startswith(("h.", "ln_f.")))
    return 4 * (blocks + config.vocab_size * config.n_embd + 2 * config.n_embd)


def print_table(title, times, rate_name, rate_of, peak, base, extra=None):
    kiln = statistics.median(times[base]) if times.get(base) else None
    print(title + (f"; peer/kiln is to {base}" if kiln else ""))
    header = f"{'engine':<17} {'median ms':>10} {'p90 ms':>8} {'peer/kiln':>10}"
    if extra:
        header += f" {extra[0]:>9}"
    print(header + f" {rate_name:>8} {'% peak':>7}")
    for name, values in times.items():
        if not values:
            continue
        median = statistics.median(values)
        ratio = f"{median / kiln:.2f}" if kiln else "-"
        rate = rate_of(median)
        line = f"{name:<17} {median:>10.2f} {p90(values):>8.2f} {ratio:>10}"
        if extra:
            line += f" {extra[1](median):>9.2f}"
        share = f"{100 * rate / peak:.1f}" if peak else "-"
        print(line + f" {rate:>8.1f} {share:>7}")



def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="GPT-2 checkpoint folder")
    parser.add_argument("--exe", required=True, action="append",
                        help="[NAME=]PATH of a Kiln executable compiled from it (repeatable)")
    parser.add_argument("--prompt-tokens", type=int, default=128)
    parser.add_argument("--decode-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5, help="prefill calls per round")
    parser.add_argument("--check-tokens", type=int, default=16)
    parser.add_argument("--peak-gflops", type=float)
    parser.add_argument("--bandwidth-gbs", type=float)
    parser.add_argument("--engines",
                        default="kiln,pytorch,onnxruntime,openvino,openvino-default")
    args = parser.parse_args()
    if args.decode_tokens < 2:
        parser.error("--decode-tokens must be at least 2 (one decode step)")
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    wanted = args.engines.split(",")

    import torch
    import transformers as tf
    torch.set_num_threads(args.threads)
    tf.logging.disable_progress_bar()
    model = tf.GPT2LMHeadModel.from_pretrained(args.model, dtype=torch.float32).eval()
    config = model.config
    if args.prompt_tokens + max(args.decode_tokens, args.check_tokens) > config.n_positions:
        parser.error(f"prompt + new tokens exceed the context of {config.n_positions}")
    ids = prompt_ids(args.prompt_tokens)

    versions = package_versions()
    print(f"GPT-2 ({config.n_layer} x {config.n_embd}, vocab {config.vocab_size}) from "
          f"{args.model}; fp32, batch 1, prompt {args.prompt_tokens} tokens, "
          f"{args.decode_tokens} new tokens")
    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; {args.threads} thread(s); "
          f"{args.rounds} rounds (prefill: {args.runs} runs each); load average "
          f"{load_average()}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))

    engines = {}

    def add(name, make):
        if name not in wanted and not (name.startswith("kiln-") and "kiln" in wanted):
            return
        try:
            engines[name] = make()
        except Exception as error:  # noqa: BLE001 - report the peer and go on
            print(f"{name}: skipped ({type(error).__name__}: {error})")

    kiln_names = []
    for name, exe in kiln_executables(args.exe):
        add(name, lambda exe=exe: Kiln(exe, ids, args.threads, args.runs))
        kiln_names.append(name)
    add("pytorch", lambda: PyTorch(model, ids, args.runs))
    graphs = None
    onnx_dir = tempfile.TemporaryDirectory(prefix="kiln-gpt2-onnx-")
    if {"onnxruntime", "openvino", "openvino-default"} & set(wanted):
        try:
            graphs = export_graphs(model, args.prompt_tokens, onnx_dir.name)
        except Exception as error:  # noqa: BLE001
            print(f"onnx export failed, onnxruntime and openvino skipped ({error})")
    if graphs:
        add("onnxruntime", lambda: OnnxRuntime(graphs, ids, args.threads, args.runs))
        add("openvino", lambda: OpenVino(graphs, ids, args.threads, args.runs))
        add("openvino-default",
            lambda: OpenVino(graphs, ids, args.threads, args.runs, precision=None))
    for name, engine in engines.items():
        if isinstance(engine, OpenVino):
            print(f"{name}: inference precision {engine.precision}")

    # Correctness: greedy tokens against PyTorch's (its own, even when not timed).
    reference = PyTorch(model, ids, args.runs).tokens(args.check_tokens)
    print(f"greedy check ({args.check_tokens} tokens after the prompt): pytorch {reference}")
    for name, engine in list(engines.items()):
        if name == "pytorch":
            continue
        try:
            tokens = engine.tokens(args.check_tokens)
        except Exception as error:  # noqa: BLE001
            print(f"{name}: skipped, failed to generate ({error})")
            del engines[name]
            continue
        if tokens != reference:
            first = next(i for i, (a, b) in enumerate(zip(tokens, reference)) if a != b)
            print(f"WARNING: {name} greedy tokens differ from pytorch's from token {first}: {tokens}")
        else:
            print(f"{name}: same greedy tokens")

    prefill_times = {name: [] for name in engines}
    decode_times = {name: [] for name in engines}
    for _ in range(args.rounds):
        for name, engine in list(engines.items()):
            try:
                prefill_times[name].append(engine.prefill())
                decode_times[name].append(engine.decode(args.decode_tokens))
            except Exception as error:  # noqa: BLE001
                print(f"{name}: dropped, failed while timing ({error})")
                del engines[name]
    base = next((name for name in kiln_names if name in engines), None)
    if base is None:
        print("note: no kiln timings; the peer/kiln column is empty")

    print(f"load average after timing: {load_average()} (other work on the machine "
          f"shows up in p90)")
    work = prefill_flops(config, args.prompt_tokens)
    weight_bytes = decode_bytes(model)
    print()
    print_table(f"prefill: {args.prompt_tokens} tokens -> KV cache + last logits "
                f"({work / 1e9:.2f} GFLOP)", prefill_times, "GFLOP/s",
                lambda ms: work / ms / 1e6, args.peak_gflops, base)
    print()
    print_table(f"decode: {args.decode_tokens - 1} greedy steps after the prompt "
                f"({weight_bytes / 1e6:.1f} MB of fp32 weights per token)", decode_times,
                "GB/s", lambda ms: weight_bytes / ms / 1e6, args.bandwidth_gbs, base,
                extra=("tokens/s", lambda ms: 1000 / ms))
    onnx_dir.cleanup()


if __name__ == "__main__":
    sys.exit(main())
