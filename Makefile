# Fresh-machine entry points (see README). A local virtualenv in .venv holds everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint

$(BIN)/facerecon: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,demo]"
	touch $@

setup: $(BIN)/facerecon

demo: setup
	$(BIN)/facerecon demo -o out/demo

test: setup
	$(BIN)/ruff check .
	OMP_NUM_THREADS=2 $(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
