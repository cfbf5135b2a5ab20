# Lit configuration of Kiln's tests (run through ctest, or `lit build/test`).
import os
import sys

import lit.formats

config.name = "Kiln"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kiln_binary_dir, "test")
# Fixture inputs are data, not tests.
config.excludes = ["fixtures", "Inputs", "lit.cfg.py", "CMakeLists.txt", "runtime"]

config.environment["PATH"] = os.pathsep.join(
    [config.kiln_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")]
)
# Generated executables must not inherit a thread count from the caller.
config.environment.pop("OMP_NUM_THREADS", None)
# One Halide kernel cache for the whole run: the models' identical kernels
# are generated once, and the user's cache is left alone.
config.environment["KILN_HALIDE_CACHE"] = os.path.join(
    config.kiln_binary_dir, "test", "halide-cache")
config.substitutions.append(("%python", sys.executable))
# Writes and reshapes small .npy files (standard library only).
config.substitutions.append(
    ("%npytool", sys.executable + " " + os.path.join(
        os.path.dirname(__file__), "utils", "npytool.py")))
# The real all-MiniLM-L6-v2 model, fetched by `make minilm`.
minilm = os.environ.get("KILN_MINILM_DIR") or os.path.join(
    os.path.expanduser("~"), ".cache", "kiln", "all-MiniLM-L6-v2")
config.substitutions.append(("%minilm", minilm))
config.substitutions.append(("%fixtures", os.path.join(config.test_source_root, "fixtures")))
