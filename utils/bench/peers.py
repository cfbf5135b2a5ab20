"""What the compare_*.py benchmarks share: timing a callable, naming the
Kiln executables given with --exe, the ONNX Runtime and OpenVINO peers of an
exported model, and the results table. Standard library at import; each
peer's package is imported when used (a missing one is reported and
skipped)."""

import statistics
import sys
import time


def time_callable(fn, runs):
    """Milliseconds per call of `fn` over `runs` calls, after a warm-up."""
    fn()
    start = time.perf_counter()
    for _ in range(runs):
        fn()
    return (time.perf_counter() - start) / runs * 1000


def kiln_executables(specs):
    """(engine name, path) per --exe: NAME=PATH is kiln-NAME, a plain PATH kiln."""
    result = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        result.append((f"kiln-{name}", path) if sep else ("kiln", spec))
    names = [name for name, _ in result]
    if len(set(names)) != len(names):
        sys.exit(f"--exe: engine names must differ: {names}")
    return result


def add_onnx_peers(engines, onnx_path, feeds, threads, runs):
    """ONNX Runtime, and OpenVINO at f32 and at its default precision
    ("openvino-default": bf16 on CPUs with AVX-512 BF16), on `onnx_path`."""
    try:
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(onnx_path, options,
                                       providers=["CPUExecutionProvider"])
        engines["onnxruntime"] = lambda: time_callable(
            lambda: session.run(None, feeds), runs)
    except ImportError:
        print("onnxruntime not installed: skipped")
    try:
        import openvino as ov
        core = ov.Core()
        for name, precision in (("openvino", "f32"), ("openvino-default", None)):
            settings = {"INFERENCE_NUM_THREADS": threads}
            if precision:
                settings["INFERENCE_PRECISION_HINT"] = precision
            compiled = core.compile_model(core.read_model(onnx_path), "CPU", settings)
            print(f"{name}: inference precision "
                  f"{compiled.get_property('INFERENCE_PRECISION_HINT').to_string()}")
            request = compiled.create_infer_request()
            engines[name] = lambda request=request: time_callable(
                lambda: request.infer(feeds), runs)
    except ImportError:
        print("openvino not installed: skipped")


def run_rounds(engines, rounds):
    """Each engine once per round, interleaved: {name: [ms per round]}."""
    times = {name: [] for name in engines}
    for _ in range(rounds):
        for name, run in engines.items():
            times[name].append(run())
    return times


def print_table(times, base, flops, peak_gflops):
    """Median and p90 per engine, its time over `base`'s, and the GFLOP/s
    and fraction of `peak_gflops` that `flops` per call implies."""
    reference = statistics.median(times[base])
    print(f"{'engine':<17} {'median ms':>10} {'p90 ms':>8} {'peer/kiln':>10} "
          f"{'GFLOP/s':>8} {'% peak':>7}")
    for name, values in times.items():
        median = statistics.median(values)
        p90 = sorted(values)[max(0, int(round(0.9 * len(values))) - 1)]
        rate = flops / median / 1e6
        peak = f"{100 * rate / peak_gflops:.1f}" if peak_gflops else "-"
        print(f"{name:<17} {median:>10.2f} {p90:>8.2f} {median / reference:>10.2f} "
              f"{rate:>8.1f} {peak:>7}")
