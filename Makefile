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

# System tools the tests use as independent judges of our output (dcmdump, dciodvfy),
# plus Node for the Azure emulator and Chromium for the HTML review page.
.stamp-system:
	@if ! command -v dcmdump >/dev/null || ! command -v dciodvfy >/dev/null \
	    || ! command -v chromium >/dev/null || ! command -v node >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    dcmtk dicom3tools chromium nodejs npm tesseract-ocr >/dev/null; \
	fi
	touch $@

demo: .stamp-install
	$(BIN)/python -m dicomscrub.demo demo-data

lint: .stamp-test
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

typecheck: .stamp-test
	$(BIN)/mypy

test: .stamp-test .stamp-system lint typecheck
	$(BIN)/python -m pytest -q

bench: .stamp-bench .stamp-system
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .stamp-* demo-data bench-data build *.egg-info src/*.egg-info
