# dicomscrub: every set-up step lives here. `make demo` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.PHONY: demo test lint typecheck bench system clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q -U pip

.stamp-install: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e .
	touch $@

.stamp-test: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e '.[test]'
	touch $@

.stamp-bench: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e '.[bench]'
	touch $@

# System tools the tests use as independent judges of our output (dcmtk's dcmdump and
# codecs, dicom3tools' dciodvfy), Node for the Azure Storage emulator, and PostgreSQL
# for the service's database tests (the tests start their own throwaway server).
.stamp-system:
	@if ! command -v dcmdump >/dev/null || ! command -v dciodvfy >/dev/null \
	    || ! command -v npm >/dev/null || ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    dcmtk dicom3tools postgresql $$(command -v npm >/dev/null || echo nodejs npm) >/dev/null; \
	fi
	touch $@

# Azurite, the Azure Storage emulator the storage tests start on 127.0.0.1.
.stamp-azurite: .stamp-system
	npm install --prefix .cache/azurite --no-audit --no-fund --silent azurite
	touch $@

# Tesseract for Presidio, the baseline of the pixel benchmark.
.stamp-bench-system:
	@command -v tesseract >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-eng >/dev/null; }
	touch $@

demo: .stamp-install
	$(BIN)/python -m dicomscrub.demo demo-data

lint: .stamp-test
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

typecheck: .stamp-test
	$(BIN)/mypy

test: .stamp-test .stamp-system .stamp-azurite lint typecheck
	$(BIN)/python -m pytest -q

bench: .stamp-bench .stamp-system .stamp-bench-system
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .stamp-* .cache demo-data bench-data build *.egg-info src/*.egg-info
