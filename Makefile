# shailoo: every target sets itself up. On a fresh machine `make test` and `make demo` are enough.
PYTHON ?= python3
PORT   ?= 8080
VENV   := .venv
BIN    := $(VENV)/bin
# The stamp is rebuilt when the project's dependencies change.
STAMP  := $(VENV)/.installed

.PHONY: help install test lint bench demo clean

help:
	@echo "make test   set up .venv and run the whole test suite"
	@echo "make demo   set up .venv and run a simulated election day (Ctrl-C stops it);"
	@echo "            its API on PORT (make demo PORT=8081; default 8080)"
	@echo "make lint   ruff and mypy --strict"
	@echo "make bench  the benchmarks in bench/"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy --strict parser/ modem/ store/ gateway/ api/ cli/ migrations/ estimates/
	$(BIN)/python -m tests.layering
	$(BIN)/hadolint Dockerfile

bench: $(STAMP)
	$(BIN)/python bench/parser.py
	$(BIN)/python bench/modem.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/estimates.py
	$(BIN)/python bench/console.py

demo: $(STAMP)
	$(BIN)/shailoo demo --api-port $(PORT)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
