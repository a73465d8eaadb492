# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/terrapole: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/terrapole

# a wheel for deployment, stamped with the commit it was built from (processing:software)
wheel: install
	git rev-parse HEAD > src/terrapole/COMMIT
	$(BIN)/pip wheel --quiet --no-deps --wheel-dir dist . ; status=$$?; rm -f src/terrapole/COMMIT; exit $$status

demo: install
	TERRAPOLE_DATA_DIR=$${TERRAPOLE_DATA_DIR:-demo-data} $(BIN)/terrapole demo

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

.PHONY: install demo test lint
