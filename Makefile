# Everything the project needs is installed from pyproject.toml into .venv.
VENV      := .venv
BIN       := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# The code location reads sync.yaml; until you have one, the commented example stands in.
export WOO_EXACT_CONFIG ?= $(if $(wildcard sync.yaml),sync.yaml,sync.example.yaml)

.PHONY: install test lint ui validate

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

lint: $(INSTALLED)
	$(BIN)/ruff check .

validate: $(INSTALLED)
	$(BIN)/dagster definitions validate -w workspace.yaml

test: lint validate
	$(BIN)/pytest

ui: $(INSTALLED)
	mkdir -p .dagster_home
	cp dagster.yaml .dagster_home/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/.dagster_home $(BIN)/dagster dev -w workspace.yaml
