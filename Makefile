# The few targets a developer needs. `make demo` and `make test` set up everything they use.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/.tools/bin:$(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: demo test check lint protos bench setup-demo setup-test

demo: setup-demo
	$(VENV)/bin/continuum demo $(ARGS)

test: setup-test check
	$(PY) -m pytest $(PYTEST_ARGS)

check: setup-test
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	scripts/gen-protos.sh --check

protos: setup-test
	scripts/gen-protos.sh

bench: setup-test
	$(PY) scripts/bench-report.py

setup-demo:
	@scripts/setup.sh demo

setup-test:
	@scripts/setup.sh test
