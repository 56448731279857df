# shailoo: every target sets itself up. On a fresh machine `make test` and `make demo` are enough.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamp is rebuilt when the project's dependencies change.
STAMP  := $(VENV)/.installed

FORMS    := examples/forms/presidential.yaml
MESSAGES := examples/messages.txt

.PHONY: help install test lint bench demo clean

help:
	@echo "make test   set up .venv and run the whole test suite"
	@echo "make demo   set up .venv and show the parser on the example forms and messages"
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
	$(BIN)/mypy --strict parser/ modem/ gateway/ migrations/

bench: $(STAMP)
	$(BIN)/python bench/parser.py
	$(BIN)/python bench/modem.py

demo: $(STAMP)
	$(BIN)/shailoo forms check $(FORMS)
	@echo
	$(BIN)/shailoo parse --forms $(FORMS) --lang en "OP 1234 A1 B1 C0 D1 E500 F1"
	@echo
	$(BIN)/shailoo parse --forms $(FORMS) --lang ru "op1234 a1 b1 e9000 zz1"
	@echo
	grep -v '^#' $(MESSAGES) | grep -v '^$$' | $(BIN)/shailoo parse --forms $(FORMS) - \
		| $(BIN)/python -c "import json,sys; [print(('ok  ' if r['ok'] else 'err ') + r['text'] + '  ->  ' + r['reply']) for r in map(json.loads, sys.stdin)]"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
