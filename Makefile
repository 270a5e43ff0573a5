# The two commands of the README: `make serve` (the app, with the embedded default model) and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: serve test setup setup-dev web lint format

serve: setup
	$(BIN)/liveseg serve --port $(PORT)

test: setup-dev
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/pytest -q

setup:
	scripts/setup.sh

setup-dev:
	scripts/setup.sh --dev

web:
	cd web && npm ci --no-audit --no-fund && npm run build

lint:
	$(BIN)/ruff check src tests && $(BIN)/ruff format --check src tests

format:
	$(BIN)/ruff check --fix src tests && $(BIN)/ruff format src tests
