# The contract: `make run` and `make test` work from a fresh clone with Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := demo

.PHONY: install run test lint typecheck clean bench bench-profile

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

# Benchmarks (docs/performance.md): `make bench BENCH_ARGS="--quick"` for a short run.
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.harness $(BENCH_ARGS)

bench-profile: $(BENCH_STAMP)
	$(BIN)/python -m bench.profile_requests $(BENCH_ARGS)

run: install
	FLASK_DEBUG=$${FLASK_DEBUG-1} $(BIN)/flask --app demo db upgrade
	FLASK_DEBUG=$${FLASK_DEBUG-1} $(BIN)/flask --app demo run --port $${FLASK_RUN_PORT:-5000}

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
