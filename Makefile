# The two commands a fresh machine needs: `make demo` and `make test`. Everything else is set up on the way.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VERSION := $(shell sed -n "s/^VERSION = '\(.*\)'/\1/p" setup.py)
WHEEL := dist/vmsscrg-$(VERSION)-py3-none-any.whl
EXT_SOURCES := setup.py $(shell find azext_vmsscrg -name '*.py' -o -name '*.json')
DEMO := .demo
# Keep the project's az configuration and extensions inside the virtual environment, away from ~/.azure.
export AZURE_EXTENSION_DIR := $(CURDIR)/$(VENV)/cliextensions
export AZURE_CORE_COLLECT_TELEMETRY := 0
BUILD_AZ := AZURE_CONFIG_DIR=$(CURDIR)/$(VENV)/azure $(BIN)/az
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider

.PHONY: demo test record bench chaos readings venv wheel extension clean dev-venv lint style license

demo: extension
	@$(BIN)/python -m armsim down --dir $(DEMO) >/dev/null
	$(BIN)/python -m armsim up --dir $(DEMO)
	@trap '$(BIN)/python -m armsim down --dir $(DEMO)' EXIT; set -e; \
	$(BIN)/python -m armsim seed --dir $(DEMO) examples/demo.json >/dev/null; \
	source $(DEMO)/env; \
	for vmss in web-uniform api-flex; do \
	  echo; echo "\$$ az vmss capacity-reservation status -g demo-rg -n $$vmss -o table"; \
	  $(BIN)/az vmss capacity-reservation status -g demo-rg -n $$vmss -o table; \
	done; \
	echo; echo "\$$ az vmss capacity-reservation status -g demo-rg -n api-flex -o json"; \
	$(BIN)/az vmss capacity-reservation status -g demo-rg -n api-flex -o json

# Style first, so drift fails CI: `make style` (azdev's own check, offline: pylint with azdev's pylintrc and flake8
# with azdev's .flake8, on the extension), then flake8 with the project's .flake8 on everything else.
# The tests run in TEST_WORKERS processes (pytest-xdist; 0: in pytest's own): every simulator listens on a free port
# and every test process has its own Azure CLI configuration (tests/conftest.py). A module's tests run in one process,
# in order (--dist loadscope), so that a simulator started for the module starts once and a test that reads what the
# module's other tests recorded sees all of it (--dist loadgroup would not do: pytest 9 ignores the node ids
# pytest-xdist 3.8 rewrites for it). The slowest tests are listed.
TEST_WORKERS ?= 2
test: extension style
	$(BIN)/flake8 azext_vmsscrg armsim bench tests setup.py .ci
	@$(PYTEST) -n $(TEST_WORKERS) --dist loadscope --durations=25 tests; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests; failing on purpose" >&2; exit 1; fi; \
	exit $$rc

venv: $(VENV)/.done
$(VENV)/.done: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

wheel: $(WHEEL)
$(WHEEL): $(VENV)/.done $(EXT_SOURCES)
	rm -rf build dist/vmsscrg-*.whl
	$(BIN)/pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation -w dist .
	rm -rf build *.egg-info

extension: $(AZURE_EXTENSION_DIR)/.done
$(AZURE_EXTENSION_DIR)/.done: $(WHEEL)
	$(BUILD_AZ) extension remove --name vmsscrg >/dev/null 2>&1 || true
	$(BUILD_AZ) extension add --source $(WHEEL) --yes --only-show-errors
	touch $@

clean:
	-$(BIN)/python -m armsim down --dir $(DEMO) >/dev/null 2>&1
	rm -rf $(VENV) $(DEV_VENV) dist build *.egg-info $(DEMO)

# Azure CLI developer tooling (azdev, pinned with the pylint and flake8 it runs in requirements-dev.txt), in its own
# environment. Each target runs azdev offline on a copy of the checkout laid out as azdev expects (.ci/azdev.sh).
DEV_VENV := .venv-dev
dev-venv: $(DEV_VENV)/.done
$(DEV_VENV)/.done: requirements-dev.txt
	$(PYTHON) -m venv $(DEV_VENV)
	$(DEV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# azdev's command, parameter, help and test-coverage rules
lint: dev-venv
	.ci/azdev.sh linter EXT --min-severity low

# pylint with azdev's pylintrc, flake8 with azdev's .flake8, on the extension
style: dev-venv
	.ci/azdev.sh style EXT

# azdev's licence header check. It accepts only Microsoft Corporation's copyright line, so it lists every file of
# this project; tests/unit/test_license_headers.py checks this project's header.
license: dev-venv
	-.ci/azdev.sh verify license

# Re-record tests/scenario/recordings against a fresh armsim (any free port), check that the cassettes hold
# nothing of it, then replay them offline. Against real Azure: see README.md, "Recorded scenario tests".
record: extension
	@D=$$(mktemp -d); trap '$(BIN)/python -m armsim down --dir "'"$$D"'" >/dev/null; rm -rf "'"$$D"'"' EXIT; \
	set -e; $(BIN)/python -m armsim up --dir "$$D"; \
	rm -f tests/scenario/recordings/*.yaml; \
	( source "$$D/env"; AZURE_TEST_RUN_LIVE=True $(PYTEST) tests/scenario -q; \
	  $(PYTEST) tests/scenario/test_scenario_cassettes.py -q ); \
	echo "Recorded; replaying offline:"; \
	$(PYTEST) tests/scenario -q

# Benchmarks against armsim: our commands, the documented procedure, the expert's script and the critical-path
# limit; passes plain, throttled (write budget), arm-limits (ARM's and Compute's buckets), spread (operation times
# drawn); prints the table and writes bench/results/latest.json and .txt (README.md, "Benchmarks").
# BENCH_SIZES=10,100,1000  BENCH_REPEAT=3  BENCH_LRO=2 (seconds per long-running operation)
# BENCH_PASSES=plain,arm-limits,spread (add throttled for the older per-minute write budget)
# BENCH_WRITE_BUDGET=600 (writes per minute in the throttled pass; 0 skips it)
# BENCH_ARM_LIMITS=on (armsim --arm-limits in the arm-limits pass; off skips it)
# BENCH_LRO_SPREAD (default L/2) BENCH_LRO_SEED=1 (the spread pass's draws)
# BENCH_DOC_FLEX_MAX=100 (largest Flexible N the documented way, 3 az runs per member, is run at; above: estimated)
# BENCH_EXPERT_MAX=100 (largest Flexible N the expert's script is run at; above: estimated)
export BENCH_SIZES BENCH_REPEAT BENCH_LRO BENCH_WRITE_BUDGET BENCH_DOC_FLEX_MAX BENCH_PASSES BENCH_SHORT \
	BENCH_STARTUP_RUNS BENCH_OUT BENCH_ARM_LIMITS BENCH_LRO_SPREAD BENCH_LRO_SEED BENCH_EXPERT_MAX
bench: extension
	$(BIN)/python -m bench

# The long form of tests/chaos (`make test` runs 4 seeds of each): attach and detach under injected faults, re-run
# until they succeed, and killed with SIGKILL at random moments then re-run; prints a summary per suite.
# CHAOS_SEEDS=N or A-B  KILL_SEEDS=N or A-B  CHAOS_FAULTS=<spec without seed>  CHAOS_LRO_SECONDS  KILL_LRO_SECONDS
# CHAOS_SCARCITY=N or A-B: seeds with on-demand capacity short
# (defaults here: 40 chaos seeds with operations taking 0.5 s, 20 kill seeds, 10 scarcity seeds)
chaos: extension
	CHAOS_SEEDS=$${CHAOS_SEEDS:-40} KILL_SEEDS=$${KILL_SEEDS:-20} CHAOS_LRO_SECONDS=$${CHAOS_LRO_SECONDS:-0.5} \
	CHAOS_SCARCITY=$${CHAOS_SCARCITY:-10} \
	$(PYTEST) tests/chaos -s -q

# The readings matrix: the end-to-end attach/detach scenarios under every reading of armsim's decision rules (how
# Azure may answer the questions its documentation leaves open), one reading at a time; prints reading x scenario
# (pass/fail, requests, seconds). `make test` runs its fast cut. READINGS=default,A6d=on-start  SCENARIOS=a,b|fast
# READINGS_TIMEOUT (seconds one command may take, default 60)
readings: extension
	$(BIN)/python tests/e2e/readings.py $${READINGS:+--readings "$$READINGS"} $${SCENARIOS:+--scenarios "$$SCENARIOS"}
