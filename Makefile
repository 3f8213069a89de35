# The contract: `make run` and `make test` work from a fresh clone with Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := demo

# The other backends' suites; CI's databases are named `test`. Override to use your own.
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
TEST_MARIADB_URL ?= mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4
# pytest's exit status 5 means it collected no test: for a whole-suite run that is a failure.
PYTEST = $(BIN)/python -m pytest $(PYTEST_ARGS) || { status=$$?; \
	[ $$status -ne 5 ] || echo "pytest collected no test (exit 5): the suite is broken" >&2; \
	exit $$status; }

.PHONY: install install-demo run test test-postgres test-mariadb test-backends pytest lint typecheck clean api-fuzz \
	translations bench bench-profile mutate

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# `make run` needs the demo's extras only, not the test toolchain (Playwright, mypy...).
DEMO_STAMP := $(VENV)/.installed-demo

$(DEMO_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	touch $(DEMO_STAMP)

install-demo: $(DEMO_STAMP)

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

# Benchmarks (docs/performance.md), every scenario in one run: `make bench BENCH_ARGS="--quick"`
# for a short run, BENCH_ARGS="--only delivery" for one scenario.
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.harness $(BENCH_ARGS)

MUTATE_STAMP := $(VENV)/.installed-mutate

$(MUTATE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[mutate]'
	touch $(MUTATE_STAMP)

# Mutation testing (docs/testing.md), by hand, not in CI: more than an hour for all the modules
# on 2 cores (its figures are there), so run a few at a time: MUTANTS="flask_mailproof.tokens*".
# mutmut keeps its results in mutants/ and, run again, tests only the mutants of functions that
# changed.
# The lifecycle model explores less per test run here: it covers most flows, and a surviving
# mutant runs every test that covers it.
mutate: $(MUTATE_STAMP)
	LIFECYCLE_MODEL_EXAMPLES=$${LIFECYCLE_MODEL_EXAMPLES-5} $(BIN)/mutmut run --max-children $${MUTATE_JOBS-2} $(MUTANTS)
	$(BIN)/python tests/mutation_score.py

bench-profile: $(BENCH_STAMP)
	$(BIN)/python -m bench.profile_requests $(BENCH_ARGS)

run: install-demo
	FLASK_DEBUG=$${FLASK_DEBUG-1} $(BIN)/flask --app demo db upgrade
	FLASK_DEBUG=$${FLASK_DEBUG-1} $(BIN)/flask --app demo run --port $${FLASK_RUN_PORT:-5000}

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(PYTEST)

# The suite again on PostgreSQL and on MariaDB (servers running, databases created). The
# browser tests serve the demo from their own SQLite file, so one run of them (make test) is enough.
test-postgres: install
	TEST_DATABASE_URL='$(TEST_POSTGRES_URL)' PYTEST_ARGS='-m "not browser" $(PYTEST_ARGS)' $(MAKE) --no-print-directory pytest

test-mariadb: install
	TEST_DATABASE_URL='$(TEST_MARIADB_URL)' PYTEST_ARGS='-m "not browser" $(PYTEST_ARGS)' $(MAKE) --no-print-directory pytest

pytest: install
	$(PYTEST)

test-backends: test-postgres test-mariadb

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache mutants

# schemathesis against a running demo's OpenAPI document (CI runs it).
api-fuzz: install
	bash .ci/api-fuzz

# Extract every marked string, merge it into each catalog, compile the catalogs (commit all):
# the extension's (shipped in the package) and the demo's own.
translations: install
	$(call catalogs,babel.cfg,src/flask_mailproof/translations)
	$(call catalogs,demo/babel.cfg,demo/translations)

define catalogs
	$(BIN)/pybabel extract -F $(1) -k lazy_gettext --add-location file --sort-output \
		--omit-header -o $(2)/messages.pot .
	$(BIN)/pybabel update -i $(2)/messages.pot -d $(2) --no-fuzzy-matching --ignore-obsolete \
		--width 100
	$(BIN)/pybabel compile -d $(2) --statistics
endef
