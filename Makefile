# Everything the project needs is installed from pyproject.toml into .venv.
VENV      := .venv
BIN       := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# The code location reads sync.yaml; until you have one, the commented example stands in.
export WOO_EXACT_CONFIG ?= $(if $(wildcard sync.yaml),sync.yaml,sync.example.yaml)

.PHONY: install test lint ui validate demo bench screenshots images test-deploy

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

lint: $(INSTALLED)
	$(BIN)/ruff check .

# The code location loads with your sync.yaml (or the example) and with an agency's shops: list.
validate: $(INSTALLED)
	$(BIN)/dagster definitions validate -w workspace.yaml
	WOO_EXACT_CONFIG=sync.shops.example.yaml $(BIN)/dagster definitions validate -w workspace.yaml

# Four workers, a test file each at a time: most tests wait on HTTP, sandboxes and databases
# part of the time, so four keep two cores busy (two left them a third idle).
test: lint validate
	$(BIN)/pytest --numprocesses 4 --dist loadfile -m "not deploy"

# The production profile's images from Debian's packages and host-built wheels (needs Docker).
images: $(INSTALLED)
	bash deploy/images/build.sh

# The production profile for real: containers, PostgreSQL, the Docker run launcher, the proxy.
test-deploy: images
	$(BIN)/pytest -m deploy woo_exact_pipeline_tests/deploy

# The whole pipeline on the embedded sandboxes; runs are kept in .dagster_home for `make ui`.
demo: $(INSTALLED)
	$(BIN)/woo-exact demo

# Live sandboxes and the Dagster UI (http://127.0.0.1:3000) with sensors and schedules on.
ui: $(INSTALLED)
	$(BIN)/woo-exact demo --serve

# Performance figures: every benchmark, one JSON line, and docs/benchmarks.md. They measure;
# none fails on a figure. `make bench SIZE=small` runs them in seconds (CI's smoke run).
SIZE ?= full

bench: $(INSTALLED)
	$(BIN)/python benchmarks/run_all.py $(if $(filter small,$(SIZE)),--small,)

# The README's screenshots of the Dagster UI (needs Debian's chromium), written to docs/.
screenshots: $(INSTALLED)
	WOO_EXACT_SCREENSHOTS=docs $(BIN)/pytest woo_exact_pipeline_tests/pipeline/test_analyst_view.py
