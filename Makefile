# OneWindow. `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
# The browser tests' tools: Debian's Chromium, and axe-core from npm (package-lock.json).
CHROMIUM := /usr/bin/chromium
NPM_STAMP := node_modules/.installed-$(shell sha1sum package-lock.json | cut -c1-12)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get --yes --quiet
# A Debian package; the package lists (stale or absent on a new machine) are updated only if
# the install fails without.
apt_install = $(APT) install $(1) || { $(APT) update && $(APT) install $(1); }

.DEFAULT_GOAL := help
.PHONY: help install browser-tools demo serve test lint typecheck pytest screenshots messages bench clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create .venv and install OneWindow with pinned dependencies

$(CHROMIUM):
	$(call apt_install,chromium)

$(NPM_STAMP): package-lock.json
	@command -v npm >/dev/null || { $(call apt_install,npm); }
	npm ci --no-audit --no-fund
	@rm -f node_modules/.installed-* && touch $@

browser-tools: $(CHROMIUM) $(NPM_STAMP) ## Install Chromium (Debian) and axe-core (npm) if missing

demo: $(STAMP) ## A federation of four nodes (TH, VN, SG, MY) on SQLite under var/, a scenario across them, then serving
	$(BIN)/onewindow demo

serve: $(STAMP) ## Serve the node's API (settings from ONEWINDOW_* variables)
	$(BIN)/onewindow serve

lint: $(STAMP) ## ruff (lint and format check)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP) ## mypy on src/
	$(BIN)/mypy src

pytest: $(STAMP) browser-tools ## The pytest suite only
	$(BIN)/pytest -n 2 --dist loadgroup

test: lint typecheck pytest ## Everything CI runs: lint, types, tests (installs Chromium and axe-core if missing; PostgreSQL too if ONEWINDOW_TEST_POSTGRES_URL is set)

screenshots: $(STAMP) browser-tools ## Run the browser tests, saving each page's screenshot in docs/portals/
	ONEWINDOW_SCREENSHOTS=1 $(BIN)/pytest -p no:xdist tests/integration/browser

# The packages whose pages are translated (each keeps locale/vi.po).
LOCALISED := kit portal declarations analytics tariff origin risk ledger exchange seals transit

messages: $(STAMP) ## Add the portals' new texts to each package's locale/vi.po (then translate them)
	@for pkg in $(LOCALISED); do \
	  po=src/onewindow/$$pkg/locale/vi.po; \
	  $(BIN)/pybabel -q extract -F babel.cfg -k N_ -k Text --no-location --omit-header \
	    -o .messages.pot src/onewindow/$$pkg || exit 1; \
	  if [ -f $$po ]; then $(BIN)/pybabel -q update -l vi -w 100 --no-fuzzy-matching --ignore-pot-creation-date -i .messages.pot -o $$po; \
	  else mkdir -p $$(dirname $$po) && $(BIN)/pybabel -q init -l vi -i .messages.pot -o $$po; fi; \
	done; rm -f .messages.pot

bench: $(STAMP) ## Run the benchmarks (each prints JSON)
	$(BIN)/python bench/declarations.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/portal.py
	$(BIN)/python bench/lighthouse.py

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) var node_modules bench/node_modules
