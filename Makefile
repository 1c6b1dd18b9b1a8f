# gnnrec: the two set-up commands are `make demo` and `make test`.
# Both install what is missing (scripts/bootstrap.sh: Debian packages, and a
# cached virtual environment with the pinned torch wheel outside the clone),
# configure and build into build/, then run.

BUILD ?= build
JOBS ?= $(shell nproc)
SHELL := /bin/bash

.PHONY: all bootstrap configure build test demo bench asan clean FORCE

all: build

# The venv path is the last line bootstrap prints.
$(BUILD)/.venv-path: scripts/bootstrap.sh
	@mkdir -p $(BUILD)
	@scripts/bootstrap.sh | tail -n 1 > $@.tmp && mv $@.tmp $@

bootstrap: $(BUILD)/.venv-path

# CMAKE_ARGS (e.g. -DGNNREC_WERROR=ON, as .ci/run passes) reach CMake whenever
# they differ from the last configure of $(BUILD); options set once stay in
# its CMake cache.
$(BUILD)/.cmake-args: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CMAKE_ARGS)' | cmp -s - $@ || echo '$(CMAKE_ARGS)' > $@

$(BUILD)/build.ninja: $(BUILD)/.venv-path CMakeLists.txt $(BUILD)/.cmake-args
	@venv=$$(cat $(BUILD)/.venv-path); \
	prefix=$$($$venv/bin/python -c 'import torch; print(torch.utils.cmake_prefix_path)'); \
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_PREFIX_PATH="$$prefix" -DGNNREC_PYTHON="$$venv/bin/python" $(CMAKE_ARGS)

configure: $(BUILD)/build.ninja

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Every test: the C++ suites (ctest), the CLI/end-to-end suite and the Python
# package's tests (pytest; the package from python/ with the library just built).
test: build
	@cd $(BUILD) && ctest --output-on-failure
	@GNNREC_BIN=$(BUILD)/gnnrec GNNREC_LIBRARY=$(abspath $(BUILD))/libgnnrec.so \
	  PYTHONPATH=$(CURDIR)/python $$(cat $(BUILD)/.venv-path)/bin/python -m pytest -q \
	  tests/cli tests/pyg tests/python

# Train LightGCN on the built-in synthetic data (3000 users, 2000 items; about
# 20 s of training on 2 cores); prints its metrics beside the popularity
# baseline and draws runs/demo/curves.png, from the untrained model (epoch 0)
# on. A learning rate at which the curves still rise at the last epoch.
demo: build
	@$(BUILD)/gnnrec train --model lightgcn --dataset synthetic --epochs 30 --lr 0.0005 \
	  --eval-initial --eval-every 2 --out runs/demo --overwrite

bench: build
	@$(BUILD)/gnnrec_bench_spmm
	@$$(cat $(BUILD)/.venv-path)/bin/python bench/lightgcn_vs_pyg.py --gnnrec-bin $(BUILD)/gnnrec
	@GNNREC_BIN=$(BUILD)/gnnrec $$(cat $(BUILD)/.venv-path)/bin/python bench/layers_vs_pyg.py

# The C++ test suites under AddressSanitizer + UndefinedBehaviorSanitizer
# (gnnrec's own code; torch is not instrumented), in their own build folder,
# without the CUDA sources (their tests need a GPU): only the two GoogleTest
# binaries are built (not the CLI, the benchmarks or the PyG probe). Any
# report fails the run (the code is built with -fno-sanitize-recover=all;
# halt_on_error also for a report from an uninstrumented caller). Leak
# checking is off: torch keeps allocations (registries, thread pools, the
# CPU allocator's caches) alive until exit by design, and LeakSanitizer
# cannot tell them from ours. CMAKE_ARGS (e.g. -DGNNREC_WERROR=ON) reach
# this build too.
ASAN_BUILD ?= build-asan
ASAN_TARGETS := gnnrec_data_tests gnnrec_core_tests
asan:
	@$(MAKE) --no-print-directory configure BUILD=$(ASAN_BUILD) \
	  CMAKE_ARGS="-DGNNREC_SANITIZE=ON -DGNNREC_CUDA=OFF $(CMAKE_ARGS)"
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target $(ASAN_TARGETS)
	@cd $(ASAN_BUILD) && \
	  ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:strict_init_order=1:detect_stack_use_after_return=1 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure

clean:
	rm -rf $(BUILD)
