# The contract: `make run` and `make test` work from a fresh clone with Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := demo

.PHONY: install run test lint typecheck clean translations

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
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

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
