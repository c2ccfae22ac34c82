# qbtc command surface. Everything a user or CI runs is a target here.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_BOOT := .tools/bin/uv
UV := $(shell command -v uv 2>/dev/null || echo $(UV_BOOT))
VENV := .venv
RUN := $(UV) run --frozen --no-sync
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install browser postgres run up up-prod test test-e2e lint format bench soak clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV_BOOT):
	@echo "uv not found: installing it from PyPI into .tools/"
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

$(VENV)/.synced: pyproject.toml uv.lock | $(if $(filter $(UV_BOOT),$(UV)),$(UV_BOOT))
	$(UV) sync --frozen
	@touch $@

install: $(VENV)/.synced ## Build .venv from uv.lock (installs uv first when missing)

# The dashboard's browser test drives Debian's chromium (playwright's own download fails offline).
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

$(CHROMIUM):
	@echo "chromium not found: installing Debian's package (apt-get)"
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

browser: $(CHROMIUM) ## Install Debian's chromium for the browser tests when it is missing

# The production profile's own PostgreSQL cluster runs on Debian's postgresql (pg_ctl, initdb).
postgres: ## Install Debian's postgresql for `make up-prod` when it is missing
	@if ! command -v pg_ctl >/dev/null && [ -z "$$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null)" ]; then \
	  echo "PostgreSQL not found: installing Debian's package (apt-get)"; \
	  $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; \
	fi

run: install ## The main job: one full cycle on the simulated venue, then a summary
	$(RUN) qbtc run

up: install ## Prefect server + UI, scheduled deployments and the API (Ctrl-C stops)
	$(RUN) qbtc up

up-prod: install postgres ## Production profile: PostgreSQL, work-pool workers (QBTC_WORKERS), prefect.yaml, API
	$(RUN) qbtc up --prod

test: install ## The test suite
	$(RUN) pytest -q

test-e2e: install browser postgres ## Slow end-to-end tests (make up and up-prod, dashboard in Chromium)
	$(RUN) pytest -q -m slow tests/e2e

lint: install ## ruff check, ruff format --check, mypy
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy qbtc flows

format: install ## Apply ruff fixes and formatting
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

bench: install ## Benchmarks (figures printed and written to data/bench/)
	$(RUN) python -m tests.benchmarks

soak: install ## Soak test: 500 cycles with seeded random faults, then the invariants (0 violations)
	$(RUN) python -m tests.soak --cycles $${SOAK_CYCLES:-500} --seed $${SOAK_SEED:-7}

clean: ## Remove the virtualenv and caches (keeps data/)
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache
