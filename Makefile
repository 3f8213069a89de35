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

.PHONY: install run test test-postgres test-mariadb test-backends lint typecheck clean api-fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	FLASK_DEBUG=$${FLASK_DEBUG-1} $(BIN)/flask --app demo db upgrade
	FLASK_DEBUG=$${FLASK_DEBUG-1} $(BIN)/flask --app demo run --port $${FLASK_RUN_PORT:-5000}

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(PYTEST)

# The suite again on PostgreSQL and on MariaDB (servers running, databases created).
test-postgres: install
	TEST_DATABASE_URL='$(TEST_POSTGRES_URL)' $(PYTEST)

test-mariadb: install
	TEST_DATABASE_URL='$(TEST_MARIADB_URL)' $(PYTEST)

test-backends: test-postgres test-mariadb

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

api-fuzz: install
	bash .ci/api-fuzz
