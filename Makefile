# The README's two commands:
#   make run    main job: set up .venv, run the conformance suite on the local target, reports in reports/
#   make test   self-tests: set up .venv, ruff, ruff format --check, mypy --strict (whole tree), pytest
#               (tests/ and suites/, -n auto), then the mutation check (the suites must catch every defect)
# Everything else here is a step of those two. tox.ini calls the same steps.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
TARGET ?= local
REPORTS ?= reports
WORKERS ?= auto
RUN_ARGS ?= --target $(TARGET) -n $(WORKERS) --reports $(REPORTS)
MIN_PYTHON := 3.11
# the version of $(PYTHON), in the stamp's name: a .venv made by another Python has no such stamp and is rebuilt
PYVER := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo none)
STAMP := $(VENV)/.kongformance-installed-py$(PYVER)
PIP_INSTALL ?= $(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'

.PHONY: run test setup python-check lint typecheck pytest mutation images bench-smoke clean

run: setup
	$(BIN)/kongformance run $(RUN_ARGS)

test: setup lint typecheck pytest mutation

setup: $(STAMP)

# First of all: a Python kongformance supports (one line and exit 2 otherwise, before any venv is made).
python-check:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < tuple(map(int, "$(MIN_PYTHON)".split("."))))' 2>/dev/null \
	  || { echo "kongformance needs Python >= $(MIN_PYTHON); PYTHON=$(PYTHON) is $(PYVER) (run: make PYTHON=python3.11 ...)" >&2; exit 2; }

# (Re)install when pyproject.toml changes; the venv is created when missing and rebuilt when another Python
# made it.
$(STAMP): pyproject.toml | python-check
	@if test -e $(VENV) && [ "$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" != "$(PYVER)" ]; then \
	  echo "rebuilding $(VENV): it was made by another Python than $(PYTHON) ($(PYVER))" >&2; rm -rf $(VENV); fi
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL)
	touch $@

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# strict over src/, suites/, fixtures/, tests/, bench/ and tools/: the files and flags are pyproject's [tool.mypy]
typecheck: setup
	$(BIN)/mypy

# The JUnit file lets .ci/run fail a run in which no test was executed. Self-test output (JUnit, allure,
# coverage, compliance.html) goes to $(SELFTEST_REPORTS), never to reports/ (the tests plant secrets).
SELFTEST_REPORTS ?= .build/selftest-reports
pytest: setup
	rm -rf $(SELFTEST_REPORTS) && mkdir -p $(SELFTEST_REPORTS)
	$(PY) -m pytest tests suites -n $(WORKERS) -p no:cacheprovider -q --kf-reports $(SELFTEST_REPORTS) --junitxml=$(SELFTEST_REPORTS)/selftest-junit.xml

# The suites must fail against every defect of the reference gateway and issuer emulator.
mutation: setup
	$(BIN)/kongformance run --target local --mutation

# Images for the docker target (needs DOCKER_HOST; see docs/docker.md).
images: setup
	PYTHON=$(PY) images/build.sh

# A few seconds of each benchmark, to prove they run; full numbers: see docs/benchmarks.md.
bench-smoke: setup
	for b in issuer gateway; do $(PY) bench/$$b.py --quick; done

clean:
	rm -rf .build .mypy_cache .ruff_cache .hypothesis $(REPORTS)/*.xml
