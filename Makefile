# Study Tutor: `make run` starts the product, `make test` runs the tests. Both install first.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# llama-cpp-python compiles from source (minutes on a laptop): its wheel is built once into
# this folder and reused by every later install, a fresh clone or a rebuilt venv included.
WHEELHOUSE ?= $(HOME)/.cache/study-tutor/wheels
LLAMA_CPP := $(shell grep -oE 'llama-cpp-python==[0-9.]+' pyproject.toml)
# Optional extra index for torch; on Linux laptops without a local CPU wheel use
#   make run TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
PIP := $(BIN)/python -m pip --disable-pip-version-check --no-input
# pip here warns about every missing local mirror entry; keep the output to what matters.
QUIET := 2> >(grep -vE "is ignored: it is neither a file nor a directory" >&2)

.PHONY: help install install-test run test test-fast lint ingest eval bench clean

help: ## show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	@echo "==> creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)

# A portable build (AVX2, no -march=native): a native build on a CPU with AMX (Sapphire Rapids
# and later) crashed in every prompt evaluation where the kernel grants no AMX tile state, as in
# many containers and VMs. --no-cache-dir: pip's own wheel cache ignores CMAKE_ARGS.
LLAMA_CMAKE_ARGS := -DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
$(WHEELHOUSE)/.built-$(LLAMA_CPP)-portable: | $(BIN)/python
	@mkdir -p $(WHEELHOUSE)
	@rm -f $(WHEELHOUSE)/llama_cpp_python-*.whl
	@echo "==> building $(LLAMA_CPP) (the local LLM runtime) once; this compiles C++ and takes a few minutes"
	@CMAKE_ARGS="$(LLAMA_CMAKE_ARGS) $(CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
		$(PIP) wheel -q --no-cache-dir --no-deps $(LLAMA_CPP) -w $(WHEELHOUSE) $(QUIET)
	@touch $@

$(VENV)/.installed: pyproject.toml $(WHEELHOUSE)/.built-$(LLAMA_CPP)-portable | $(BIN)/python
	@echo "==> installing torch (CPU)"
	@$(PIP) install -q torch==2.13.0 $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) $(QUIET)
	@echo "==> installing study-tutor and its dependencies"
	@$(PIP) install -q --no-index --no-deps --force-reinstall --find-links $(WHEELHOUSE) $(LLAMA_CPP) $(QUIET)
	@$(PIP) install -q --find-links $(WHEELHOUSE) -e . $(QUIET)
	@echo "==> exporting the embedding model to ONNX (once per model; cold commands skip torch)"
	@$(BIN)/python -m app.search.encoder_export
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	@echo "==> installing test tools"
	@$(PIP) install -q --find-links $(WHEELHOUSE) -e '.[test]' $(QUIET)
	@touch $@

install: $(VENV)/.installed ## create .venv and install the product

install-test: $(VENV)/.installed-test

run: install ## install, build the index if missing, start the API and the UI
	@$(BIN)/tutor up

ingest: install ## index the bundled corpus (or PATHS="dir1 https://...git")
	@$(BIN)/tutor ingest $(PATHS)

# SUITE=quick: retrieval, refusals and quizzes without the model (what CI runs, 2-3 minutes);
# SUITE=full: every golden question answered by the local model too (about 15 minutes).
SUITE ?= full
# The held-out retrieval split asks about the public notes: measured where they are (beside this
# checkout as ../shared/public-notes, or PUBLIC_NOTES=dir); their index takes minutes once.
PUBLIC_NOTES ?= $(wildcard ../shared/public-notes)
eval: install ## measure answer, retrieval and quiz quality (SUITE=quick|full) -> evals/reports/
	@$(BIN)/tutor eval --suite $(SUITE) $(if $(COMPARE),--compare $(COMPARE)) \
		$(if $(PUBLIC_NOTES),--held-out-notes $(PUBLIC_NOTES))
	@$(BIN)/python -m evals.grading
	@$(BIN)/python -m evals.truefalse_audit
	@$(BIN)/python -m evals.mastery

bench: install ## benchmarks: our figures beside a baseline, in one run
	@$(BIN)/python bench/cli.py
	@$(BIN)/python bench/ingest.py

# Two workers, whole files to each (a file's module fixtures are built once): on a two-core
# machine the suite takes about half as long. TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= 2
test: install-test ## install with test extras and run every test
	@$(BIN)/pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

lint: install-test ## ruff (lint and format) and mypy, as CI runs them before the tests
	@$(BIN)/ruff check app evals tests bench
	@$(BIN)/ruff format --check app evals tests bench
	@$(BIN)/mypy

test-fast: install-test ## the tests not marked slow
	@$(BIN)/pytest -m "not slow"

clean: ## remove .venv and caches (keeps data/ and the built llama.cpp wheel)
	rm -rf $(VENV) .pytest_cache
