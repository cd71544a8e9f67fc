# tsquant — every target sets up what it needs (OS packages as root, the .venv) and skips what
# is already there. DATABASE_URL set = use that server; unset = the embedded local cluster.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)

.PHONY: help setup db-up db-down db-status db-url db-psql migrate dbt demo test test-torch lint bench lock clean-db

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## install OS packages (as root) and the Python virtualenv, skipping what is there
	@scripts/setup.sh

db-up: setup ## start the embedded PostgreSQL (creates it on first use)
	@if [ -z "$$DATABASE_URL" ]; then $(PY) -m db.cluster up; else echo "DATABASE_URL is set: using that server"; fi

db-down: ## stop the embedded PostgreSQL
	@$(PY) -m db.cluster down

db-status: ## is the embedded PostgreSQL running, and its URL
	@$(PY) -m db.cluster status

db-url: ## print the connection URL everything uses
	@$(PY) -c 'from db.connection import database_url, redact; print(redact(database_url()))'

db-psql: db-up ## open psql on the tsquant database
	@psql "$$($(PY) -c 'from db.connection import database_url; print(database_url())')"

migrate: db-up ## apply migrations to $$DATABASE_URL (or the embedded database)
	@$(PY) -m db.migrate --create-db

dbt: migrate ## dbt build (features, signals) on the same database; DBT_ARGS="run --select candle_features" for others
	@$(PY) -m db.dbt_runner --maintain $${DBT_ARGS:-build}

demo: migrate ## start the database, migrate, run the pipeline on bundled data, print what it did
	@$(PY) -m scripts.demo

test: db-up ## run the whole suite: pytest, pg_prove, plpgsql_check, sqlfluff (both database modes)
	@TSQ_RECORD_TESTS=$${TSQ_RECORD_TESTS:-$(RECORD_TESTS)} scripts/run-tests.sh

test-torch: setup ## optional PyTorch extra: install the CPU build (requirements-torch.txt), test the sequence models
	@$(PY) -m pip install -q -r requirements-torch.txt && $(PY) -m pytest -q -p no:cacheprovider tests/models_py/test_sequence_torch.py

lint: setup ## sqlfluff over db/ and dbt_project/
	@$(VENV)/bin/sqlfluff lint db dbt_project --processes 2

bench: migrate ## benchmarks (ratios against baselines measured in the same run)
	@for b in bench/bench_*.py; do [ -e "$$b" ] || continue; echo "== $$b"; $(PY) "$$b" || exit 1; done

lock: ## regenerate requirements.txt from requirements.in
	@python3 -m venv /tmp/tsq-lock && /tmp/tsq-lock/bin/pip install -q -r requirements.in && \
	{ echo "# Full lock of requirements.in (regenerate with: make lock). Installs use this file."; \
	  /tmp/tsq-lock/bin/pip freeze; } > requirements.txt && rm -rf /tmp/tsq-lock

clean-db: ## stop and delete the embedded cluster (all its data)
	@$(PY) -m db.cluster down || true
	@rm -rf .tsq
