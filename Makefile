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

# Third-party pytest plugins are not autoloaded: pytest would rewrite their whole packages
# (anyio, schemathesis), and CPython 3.11's ast.parse is not thread-safe ("AST constructor
# recursion depth mismatch" when a lazy import is rewritten while a server thread runs).
test: $(DEV_STAMP)
	$(BIN)/ruff check kenri tests bench examples
	PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 $(BIN)/python -m pytest -q -p _hypothesis_pytestplugin

lint: $(DEV_STAMP)
	$(BIN)/ruff check kenri tests bench examples
	$(BIN)/ruff format --check kenri tests bench examples

bench-import: $(STAMP)
	$(BIN)/python bench/import_pokemon.py

clean:
	rm -rf $(VENV) build *.egg-info
