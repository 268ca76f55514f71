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

.PHONY: help install install-test run test test-fast ingest eval bench clean

help: ## show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	@echo "==> creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)

$(WHEELHOUSE)/.built-$(LLAMA_CPP): | $(BIN)/python
	@mkdir -p $(WHEELHOUSE)
	@echo "==> building $(LLAMA_CPP) (the local LLM runtime) once; this compiles C++ and takes a few minutes"
	@CMAKE_ARGS="-DLLAVA_BUILD=OFF $(CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
		$(PIP) wheel -q --no-deps $(LLAMA_CPP) -w $(WHEELHOUSE) $(QUIET)
	@touch $@

$(VENV)/.installed: pyproject.toml $(WHEELHOUSE)/.built-$(LLAMA_CPP) | $(BIN)/python
	@echo "==> installing torch (CPU)"
	@$(PIP) install -q torch==2.13.0 $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) $(QUIET)
	@echo "==> installing study-tutor and its dependencies"
	@$(PIP) install -q --find-links $(WHEELHOUSE) -e . $(QUIET)
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
eval: install ## measure answer, retrieval and quiz quality (SUITE=quick|full) -> evals/reports/
	@$(BIN)/tutor eval --suite $(SUITE) $(if $(COMPARE),--compare $(COMPARE))

bench: install ## benchmarks: our figures beside a baseline, in one run
	@$(BIN)/python bench/ingest.py

# Two workers, whole files to each (a file's module fixtures are built once): on a two-core
# machine the suite takes about half as long. TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= 2
test: install-test ## install with test extras and run every test
	@$(BIN)/pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

test-fast: install-test ## the tests not marked slow
	@$(BIN)/pytest -m "not slow"

clean: ## remove .venv and caches (keeps data/ and the built llama.cpp wheel)
	rm -rf $(VENV) .pytest_cache
