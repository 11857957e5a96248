# fxcrm: `make dev` runs the whole system locally; `make test` runs every check.
# Both create the virtualenv first when it is missing or out of date.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements-dev.txt layers/deps/requirements.txt | sha1sum | cut -c1-12)
PORT   ?= 3000
# Debian's Chromium for the console's browser tests (root installs it; otherwise sudo).
CHROMIUM := /usr/bin/chromium
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: dev test lint unit component e2e template contract browser bench openapi verify-template verify-ledger clean

$(STAMP): requirements-dev.txt layers/deps/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

## dev: start the local cloud with demo data on http://127.0.0.1:$(PORT) (Ctrl-C stops it)
dev: $(STAMP)
	$(PY) -m localcloud --port $(PORT)

## verify-ledger: recompute every ledger balance from its postings (of `make dev`; TABLE=<name> checks AWS)
verify-ledger: $(STAMP)
	$(PY) -m localcloud.verify_ledger --url http://127.0.0.1:$(PORT) $(if $(TABLE),--table $(TABLE))

$(CHROMIUM):
	$(SUDO) apt-get install -y --no-install-recommends chromium || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium)

## test: lint, types, template checks and the whole test suite (browser tests included)
test: $(STAMP) $(CHROMIUM) lint
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers/shared functions localcloud
	$(VENV)/bin/cfn-lint template.yaml
	PYTHONPATH=layers/shared:. $(VENV)/bin/lint-imports

unit component e2e template contract: $(STAMP)
	$(PY) -m pytest tests/$@

browser: $(STAMP) $(CHROMIUM)
	$(PY) -m pytest tests/browser

RUNTIME := build/runtime-venv

# What a deployed function has: the deps layer and the runtime's boto3, nothing else.
$(RUNTIME)/.installed: layers/deps/requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(RUNTIME)
	$(RUNTIME)/bin/pip install --quiet --disable-pip-version-check -r layers/deps/requirements.txt \
		$$(grep '^boto3==' requirements-dev.txt)
	touch $@

# The same on Python 3.13 where pyenv has it (the cold-start bench runs on both).
PYTHON313 ?= $(HOME)/.pyenv/versions/3.13.0/bin/python
RUNTIME313 := build/runtime-venv-3.13
COLD_START_PYTHONS := --python $(RUNTIME)/bin/python $(if $(wildcard $(PYTHON313)),--python $(RUNTIME313)/bin/python)

$(RUNTIME313)/.installed: layers/deps/requirements.txt requirements-dev.txt
	$(PYTHON313) -m venv $(RUNTIME313)
	$(RUNTIME313)/bin/pip install --quiet --disable-pip-version-check -r layers/deps/requirements.txt \
		$$(grep '^boto3==' requirements-dev.txt)
	touch $@

## bench: cold start, the one-million-row export, the 100,000-trade settlement and the lists' growth (record results in docs/performance.md)
bench: $(STAMP) $(RUNTIME)/.installed $(if $(wildcard $(PYTHON313)),$(RUNTIME313)/.installed)
	$(PY) bench/cold_start.py $(COLD_START_PYTHONS) --tracing platform
	$(PY) bench/cold_start.py --python $(RUNTIME)/bin/python --tracing sdk --samples 11
	$(PY) bench/export_report.py
	$(PY) bench/settlement.py
	$(PY) bench/growth.py  # N = 100 and 1,000; BENCH_N=10000 adds 10,000

## openapi: write the combined OpenAPI document to docs/openapi.json
openapi: $(STAMP)
	$(PY) -m localcloud.openapi > docs/openapi.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts .aws-sam
