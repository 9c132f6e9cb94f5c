# The few targets a developer needs. `make demo` and `make test` set up everything they use, installing
# exactly what uv.lock names; `make lock` is the only step that changes the lock.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/.tools/bin:$(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: demo test check lint protos lock bench setup-demo setup-test

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

# The one deliberate upgrade step: re-resolve uv.lock (KEEP=1: only what a pyproject.toml change needs).
lock:
	@KEEP=$(KEEP) scripts/lock.sh

bench: setup-test
	$(PY) scripts/bench-report.py

setup-demo:
	@scripts/setup.sh demo

setup-test:
	@scripts/setup.sh test
