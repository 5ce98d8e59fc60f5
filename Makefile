# OneWindow. `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.DEFAULT_GOAL := help
.PHONY: help install demo serve test lint typecheck pytest bench clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create .venv and install OneWindow with pinned dependencies

demo: $(STAMP) ## A federation of three nodes (TH, VN, SG) on SQLite under var/, a scenario across them, then serving
	$(BIN)/onewindow demo

serve: $(STAMP) ## Serve the node's API (settings from ONEWINDOW_* variables)
	$(BIN)/onewindow serve

lint: $(STAMP) ## ruff (lint and format check)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP) ## mypy on src/
	$(BIN)/mypy src

pytest: $(STAMP) ## The pytest suite only
	$(BIN)/pytest -n 2 --dist loadgroup

test: lint typecheck pytest ## Everything CI runs: lint, types, tests (PostgreSQL too if ONEWINDOW_TEST_POSTGRES_URL is set)

bench: $(STAMP) ## Run the benchmarks (each prints JSON)
	$(BIN)/python bench/declarations.py
	$(BIN)/python bench/api.py

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) var
