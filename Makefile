# Everything the project needs is installed from pyproject.toml into .venv.
VENV      := .venv
BIN       := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# The code location reads sync.yaml; until you have one, the commented example stands in.
export WOO_EXACT_CONFIG ?= $(if $(wildcard sync.yaml),sync.yaml,sync.example.yaml)

.PHONY: install test lint ui validate demo bench

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

# The whole pipeline on the embedded sandboxes; runs are kept in .dagster_home for `make ui`.
demo: $(INSTALLED)
	$(BIN)/woo-exact demo

# Live sandboxes and the Dagster UI (http://127.0.0.1:3000) with sensors and schedules on.
ui: $(INSTALLED)
	$(BIN)/woo-exact demo --serve

# Performance figures, one JSON line per benchmark (they measure, they never fail on a figure).
# `make bench SIZE=small` runs every benchmark at a size that takes seconds, not minutes.
SIZE ?= full
ifeq ($(SIZE),small)
BENCH_ARGS_TRANSFORM := --orders 2000 --repeat 1
BENCH_ARGS_SHOP      := --orders 2000 --pages 5
BENCH_ARGS_EXACT     := --bookings 2000 --seconds 1
BENCH_ARGS_CLIENT    := --calls 30
BENCH_ARGS_PIPELINE  := --days 5 --orders-per-day 20
else
BENCH_ARGS_TRANSFORM := --orders 20000
BENCH_ARGS_SHOP      := --orders 100000
BENCH_ARGS_EXACT     := --bookings 100000
BENCH_ARGS_CLIENT    := --calls 300
BENCH_ARGS_PIPELINE  := --days 90 --orders-per-day 40
endif

bench: $(INSTALLED)
	$(BIN)/python benchmarks/bookkeeping_transform.py $(BENCH_ARGS_TRANSFORM)
	$(BIN)/python benchmarks/woocommerce_sandbox.py $(BENCH_ARGS_SHOP)
	$(BIN)/python benchmarks/exact_sandbox.py $(BENCH_ARGS_EXACT)
	$(BIN)/python benchmarks/exact_client.py $(BENCH_ARGS_CLIENT)
	$(BIN)/python benchmarks/pipeline.py $(BENCH_ARGS_PIPELINE)
