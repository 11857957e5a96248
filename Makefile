# fxcrm: `make dev` runs the whole system locally; `make test` runs every check.
# Both create the virtualenv first when it is missing or out of date.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
REQUIREMENTS := requirements-dev.txt layers/deps/requirements.in layers/deps/requirements.txt
STAMP  := $(VENV)/.installed-$(shell cat $(REQUIREMENTS) | sha1sum | cut -c1-12)
# Python 3.13, the Lambda runtime: where this interpreter exists (pyenv's on the CI machine),
# `make test` also runs the unit, template and component tiers on it, in a second virtualenv.
PYTHON313 ?= $(HOME)/.pyenv/versions/3.13.0/bin/python3.13
VENV313   := .venv313
PY313     := $(VENV313)/bin/python
STAMP313  := $(VENV313)/.installed-$(shell cat $(REQUIREMENTS) | sha1sum | cut -c1-12)
PORT   ?= 3000
# Debian's Chromium for the console's browser tests (root installs it; otherwise sudo).
CHROMIUM := /usr/bin/chromium
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: dev test lint unit component e2e template contract browser bench openapi verify-template verify-ledger clean

# A virtualenv ($(2)) of interpreter $(1): the deps layer's lock exactly (hashes checked,
# as `sam build` installs it), then the tools, which keep the locked versions.
define make_venv
	$(1) -m venv $(2)
	$(2)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(2)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r layers/deps/requirements.txt
	$(2)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(2)/.installed-*
	touch $@
endef

$(STAMP): $(REQUIREMENTS)
	$(call make_venv,$(PYTHON),$(VENV))

$(STAMP313): $(REQUIREMENTS)
	$(call make_venv,$(PYTHON313),$(VENV313))

# The 3.13 virtualenv when the interpreter is there; otherwise a note, and the 3.13 tiers are skipped.
.PHONY: venv313
venv313:
	@if [ -x "$(PYTHON313)" ]; then $(MAKE) --no-print-directory $(STAMP313); \
	else echo "note: no Python 3.13 at $(PYTHON313): the 3.13 tiers are skipped (PYTHON313=<path> names one)"; fi

## dev: start the local cloud with demo data on http://127.0.0.1:$(PORT) (Ctrl-C stops it)
dev: $(STAMP)
	$(PY) -m localcloud --port $(PORT)

## bootstrap: the first admin and the default catalogue of a deployed stack, idempotently
## (STACK=<stack name> ADMIN_EMAIL=<address>, AWS credentials in the environment; docs/operations.md)
.PHONY: bootstrap
bootstrap: $(STAMP)
	@test -n "$(STACK)" -a -n "$(ADMIN_EMAIL)" || { echo "usage: make bootstrap STACK=<stack name> ADMIN_EMAIL=<address>"; exit 2; }
	PYTHONPATH=layers/shared $(PY) -m fxcrm.ops bootstrap --stack $(STACK) --admin-email $(ADMIN_EMAIL)

## verify-ledger: recompute every ledger balance from its postings (of `make dev`; TABLE=<name> checks AWS)
verify-ledger: $(STAMP)
	$(PY) -m localcloud.verify_ledger --url http://127.0.0.1:$(PORT) $(if $(TABLE),--table $(TABLE))

$(CHROMIUM):
	$(SUDO) apt-get install -y --no-install-recommends chromium || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium)

## test: lint, types, template checks and the whole test suite (browser tests included). Where
## Python 3.13 is installed, its unit, template and component tiers run too, alongside the
## in-process tiers; the HTTP tiers (e2e, browser) run after both, alone, as they start clouds
## against a deadline. The 3.13 log is test-artifacts/python313.log, its summary at the end.
test: $(STAMP) $(CHROMIUM) lint venv313
	@late=""; if [ -x "$(PYTHON313)" ] && [ -x "$(PY313)" ]; then \
		mkdir -p test-artifacts; \
		echo "Python 3.13: unit, template and component tiers alongside (test-artifacts/python313.log)"; \
		$(PY313) -m pytest -q -p no:cacheprovider tests/unit tests/template tests/component \
			> test-artifacts/python313.log 2>&1 & late=$$!; \
	fi; \
	$(PY) -m pytest tests/unit tests/contract tests/template tests/component; fast=$$?; \
	py313=0; if [ -n "$$late" ]; then wait $$late || py313=$$?; fi; \
	$(PY) -m pytest tests/e2e tests/browser; slow=$$?; \
	if [ -n "$$late" ]; then echo "--- Python 3.13 (unit, template, component):"; tail -n 8 test-artifacts/python313.log; fi; \
	exit $$(( fast || py313 || slow ))

## test313: the unit, template and component tiers on Python 3.13 only
.PHONY: test313
test313: venv313
	$(PY313) -m pytest -q tests/unit tests/template tests/component

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

## lock: recompile the deps layer's lock from layers/deps/requirements.in: every transitive
## package pinned with its hashes, resolved for the Lambda runtime (python3.13, arm64, Amazon
## Linux 2023's glibc 2.34); versions already locked are kept unless requirements.in moves them
.PHONY: lock
lock: $(STAMP)
	$(VENV)/bin/uv pip compile layers/deps/requirements.in --quiet --generate-hashes \
		--python-version 3.13 --python-platform aarch64-manylinux_2_34 --only-binary :all: \
		--custom-compile-command "make lock" -o layers/deps/requirements.txt
	grep -qx -- '--require-hashes' layers/deps/requirements.txt || sed -i '1i --require-hashes' layers/deps/requirements.txt

RUNTIME := build/runtime-venv

# What a deployed function has: the deps layer (boto3 and botocore included: a deliberate pin), nothing else.
$(RUNTIME)/.installed: layers/deps/requirements.txt
	$(PYTHON) -m venv $(RUNTIME)
	$(RUNTIME)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r layers/deps/requirements.txt
	touch $@

## bench: cold start, the one-million-row export and the 100,000-trade settlement (record results in docs/performance.md)
bench: $(STAMP) $(RUNTIME)/.installed
	$(PY) bench/cold_start.py --python $(RUNTIME)/bin/python --tracing platform
	$(PY) bench/cold_start.py --python $(RUNTIME)/bin/python --tracing sdk --samples 11
	$(PY) bench/export_report.py
	$(PY) bench/settlement.py

## openapi: write the combined OpenAPI document to docs/openapi.json
openapi: $(STAMP)
	$(PY) -m localcloud.openapi > docs/openapi.json

clean:
	rm -rf $(VENV) $(VENV313) .pytest_cache .mypy_cache .ruff_cache test-artifacts .aws-sam
