# A thin front over the CMake presets. `make demo` and `make test` install what is
# missing first, so both work on a fresh Debian 12 machine.

PACKAGES := build-essential cmake ninja-build git libeigen3-dev libfmt-dev libcli11-dev libgtest-dev \
            libgmock-dev libbenchmark-dev libxsimd-dev nlohmann-json3-dev librapidcheck-dev libopenblas-openmp-dev gnuplot-nox graphviz clang-format-14 \
            emscripten chromium fortunes
# Debian's emscripten needs acorn from Debian's Node modules folder.
export NODE_PATH := /usr/share/nodejs
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
JOBS ?= $(shell nproc)

.PHONY: deps configure build demo test test-release test-asan test-tsan test-web web serve fuzz bench bench-compare bench-results format clean

deps:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  if [ -n "$(SUDO)" ] && ! command -v sudo >/dev/null; then \
	    echo "make deps: not root and no sudo; install as root: apt-get install$$missing" >&2; \
	    exit 1; \
	  fi; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

build: deps
	cmake --preset release -DSLOPE_BUILD_BENCH=ON
	cmake --build --preset release -j $(JOBS)

demo: build
	./demos/run_demos.sh build/release/demos out

test: test-release test-asan test-tsan test-web

# The tests need no benchmarks; leaving them out keeps CI's build short (`make build` and
# `make bench` turn them back on).
test-release: deps
	cmake --preset release -DSLOPE_BUILD_BENCH=OFF
	cmake --build --preset release -j $(JOBS)
	ctest --preset release -j $(JOBS)

test-asan: deps
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

# ThreadSanitizer over the engine (with OpenBLAS) and the threads suite: models trained on
# several threads at once, set_num_threads on every thread.
test-tsan: deps
	cmake --preset tsan
	cmake --build --preset tsan -j $(JOBS)
	ctest --preset tsan -j $(JOBS)

# The browser pages: the engine compiled to WebAssembly, into the static folder build/web/.
web: deps
	cmake --preset web
	cmake --build --preset web -j $(JOBS)

# Serves build/web/ on http://127.0.0.1:$(PORT)/ (PORT=0 picks a free port).
PORT ?= 8000
serve: web
	node demos/web/serve.mjs build/web --port $(PORT)

# Both pages in headless Chromium (Debian's; playwright-core from npm drives it and downloads
# no browser), against the native slope-curves of test-release.
test-web: web test-release
	cd tests/web && npm ci --no-audit --no-fund --loglevel=error
	node tests/web/browser.test.mjs --pages build/web --native build/release/demos/slope-curves

bench: build
	build/release/bench/bench_scalar
	build/release/bench/bench_gemm
	build/release/bench/bench_tensor --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true

# libFuzzer on data::load_csv, nn::load and nn::load_safetensors, FUZZ_SECONDS each (clang 14,
# not needed by `make test`, which replays the corpus). The search runs in build/fuzz/corpus-<target>/,
# seeded from tests/fuzz/corpus/<target>/; the inputs that add coverage are then merged
# back there (commit them). A failing input is written to build/fuzz/crash-*.
FUZZ_SECONDS ?= 300
fuzz: deps
	@for p in clang-14 libomp-14-dev; do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$p; done
	cmake --preset fuzz
	cmake --build --preset fuzz -j $(JOBS)
	for t in load_csv nn_load safetensors_load; do \
	  mkdir -p build/fuzz/corpus-$$t && cp tests/fuzz/corpus/$$t/* build/fuzz/corpus-$$t/ && \
	  build/fuzz/tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -rss_limit_mb=2048 \
	    -timeout=10 -artifact_prefix=build/fuzz/crash-$$t- build/fuzz/corpus-$$t || exit 1; \
	  build/fuzz/tests/fuzz/fuzz_$$t -merge=1 -max_len=4096 tests/fuzz/corpus/$$t build/fuzz/corpus-$$t || exit 1; \
	done

# slope against PyTorch (Debian's python3-torch), alternately, in one run: the MLP steps, then
# the GPT step; never needed by `make test` or `make bench`.
bench-compare: build
	/usr/bin/python3 bench/compare_pytorch.py --build build/release
	LD_LIBRARY_PATH=/usr/lib/$$(gcc -dumpmachine)/openblas-openmp /usr/bin/python3 bench/compare_gpt.py --build build/release

# Every benchmark, micrograd and (where installed) PyTorch, written to bench/RESULTS.md.
bench-results: build
	/usr/bin/python3 bench/results.py --build build/release

format:
	clang-format-14 -i $$(git ls-files '*.hpp' '*.cpp')

clean:
	rm -rf build out
