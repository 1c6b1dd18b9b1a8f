# gnnrec: the two set-up commands are `make demo` and `make test`.
# Both install what is missing (scripts/bootstrap.sh: Debian packages, and a
# cached virtual environment with the pinned torch wheel outside the clone),
# configure and build into build/, then run.

BUILD ?= build
JOBS ?= $(shell nproc)
SHELL := /bin/bash

.PHONY: all bootstrap configure build test demo bench clean

all: build

# The venv path is the last line bootstrap prints.
$(BUILD)/.venv-path: scripts/bootstrap.sh
	@mkdir -p $(BUILD)
	@scripts/bootstrap.sh | tail -n 1 > $@.tmp && mv $@.tmp $@

bootstrap: $(BUILD)/.venv-path

$(BUILD)/build.ninja: $(BUILD)/.venv-path CMakeLists.txt
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

# Train LightGCN on the built-in synthetic data; prints its metrics beside
# the popularity baseline.
demo: build
	@$(BUILD)/gnnrec train --model lightgcn --dataset synthetic --epochs 40 --eval-every 10 \
	  --lr 0.005 --out runs/demo --overwrite

bench: build
	@$(BUILD)/gnnrec_bench_spmm
	@$$(cat $(BUILD)/.venv-path)/bin/python bench/lightgcn_vs_pyg.py
	@GNNREC_BIN=$(BUILD)/gnnrec $$(cat $(BUILD)/.venv-path)/bin/python bench/layers_vs_pyg.py

clean:
	rm -rf $(BUILD)
