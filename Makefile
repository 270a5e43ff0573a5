# The two commands of the README: `make serve` (the app, with the embedded default model) and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The inner loop's selection: no real browser, nothing marked slow (pyproject.toml declares both markers).
FAST := not browser and not slow

.PHONY: serve test test-fast setup setup-dev web lint typecheck format

serve: setup
	$(BIN)/liveseg serve --port $(PORT)

# What CI runs (.ci/run): set-up, the linters and formatters' checks, both type checkers, then every test.
test: setup-dev lint typecheck
	$(BIN)/pytest -q --durations=25

# For the inner loop, once `make test` (or `make setup-dev`) has set the machine up: no set-up, lint or browser.
test-fast:
	$(BIN)/pytest -q -m "$(FAST)"

setup:
	scripts/setup.sh

setup-dev:
	scripts/setup.sh --dev

web:
	cd web && npm ci --no-audit --no-fund && npm run build

lint:
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	cd web && npm run --silent format:check

typecheck:
	$(BIN)/mypy
	cd web && npm run --silent typecheck

format:
	$(BIN)/ruff check --fix src tests && $(BIN)/ruff format src tests
	cd web && npm run --silent format
