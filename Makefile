# kenri: `make demo` (sets up .venv and runs the demo), `make test` (dev extras + all tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kenri-installed
DEV_STAMP := $(VENV)/.kenri-dev-installed

.PHONY: demo test lint bench-import clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP) $@

demo: $(STAMP)
	$(BIN)/kenri demo

test: $(DEV_STAMP)
	$(BIN)/ruff check kenri tests bench
	$(BIN)/python -m pytest -q

lint: $(DEV_STAMP)
	$(BIN)/ruff check kenri tests bench
	$(BIN)/ruff format --check kenri tests bench

bench-import: $(STAMP)
	$(BIN)/python bench/import_pokemon.py

clean:
	rm -rf $(VENV) build *.egg-info
