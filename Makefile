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

.PHONY: demo test record venv wheel extension clean

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

test: extension
	@$(PYTEST) tests; rc=$$?; \
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
	rm -rf $(VENV) dist build *.egg-info $(DEMO)

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
