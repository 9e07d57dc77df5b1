# Two commands for a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_WORKDIR ?= demo_workdir
DEMO_DATE ?= 2026-11-20

.PHONY: install system-deps demo test lint unit soak bench clean matcher-late

# Installs with uv (from the package registry, the same pinned versions as pip: about 20 s instead of 2 min);
# pip does it if uv cannot. Both write the packages' bytecode at install (uv only when asked): where
# PYTHONDONTWRITEBYTECODE is set, as on this machine, nothing else would, and every `crmgov` process, dbt and
# Prefect server would compile its imports from source again (`import flows.nightly` 15 s instead of 7 s).
UV_VERSION := 0.9.30
UV_INSTALL = $(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python 'setuptools<81' wheel -c constraints.txt
PIP_INSTALL = $(BIN)/pip install -q -c constraints.txt

# The privacy scanner's C matcher (setup.py): its compiler and libpcre2-dev are installed before the build, where
# root may; the build skips it without them. Rebuilt when it could be built now but was not (headers came later).
MATCHER := flows/privacy/recognizers/_pcre2_spans
MATCHER_LATE := $(if $(and $(wildcard /usr/include/pcre2.h),$(shell command -v cc)),$(if $(wildcard $(MATCHER)*.so),,matcher-late))

$(STAMP): pyproject.toml setup.py constraints.txt $(MATCHER).c $(MATCHER_LATE)
	@PYTHON=$(PYTHON) scripts/system_deps.sh build
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q 'uv==$(UV_VERSION)' || true
	$(UV_INSTALL) -e '.[dev]' || { $(BIN)/pip install -q --upgrade pip wheel 'setuptools<81' && $(PIP_INSTALL) -e '.[dev]'; }
	@touch $(STAMP)

install: $(STAMP)

system-deps:
	@scripts/system_deps.sh

demo: install
	$(BIN)/crmgov demo --workdir $(DEMO_WORKDIR) --start-date $(DEMO_DATE)
	$(BIN)/crmgov run --workdir $(DEMO_WORKDIR) --run-date $(DEMO_DATE) --demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint dbt_project/models --processes 2

test: install system-deps lint
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile --no-loadscope-reorder --durations=25

soak: install
	$(BIN)/python benchmarks/soak.py

bench: install
	$(UV_INSTALL) -e '.[dev,bench]' || $(PIP_INSTALL) -e '.[dev,bench]'
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(DEMO_WORKDIR) .pytest_cache
