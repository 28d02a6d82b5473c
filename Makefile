# radiotrial — two entry points: `make demo` (the example study's report) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/radiotrial demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples

# Ratios against baselines measured in the same run (issue sizes; several minutes in all).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_km.py 1e5 1e6 1e7
	$(BIN)/python benchmarks/bench_response.py --subjects 1000000
	$(BIN)/python benchmarks/bench_grading.py --total 1e8
	$(BIN)/python benchmarks/bench_decay.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
