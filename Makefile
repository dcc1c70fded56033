# Jutaku — two commands set everything up: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
PERSONS ?= 10000
# The integration tiers run in two worker processes (pytest-xdist), whole files per worker: the CI machine
# has two cores and most tests wait on child processes or the database. TEST_WORKERS=0 runs them in one.
TEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

.PHONY: install demo demo-web screenshots test test-unit test-sqlite test-postgres test-browser lint bench bench-inquiry bench-cycle bench-web bench-approvals docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## make demo: a fresh embedded demo home in ./var/demo, a synthetic world, the whole cycle so far.
demo: $(STAMP)
	JUTAKU_HOME=./var/demo JUTAKU_MODE=demo $(VENV)/bin/jutaku demo --persons $(PERSONS)

## make demo-web: the staff web UI on the demo home (run `make demo` first); Ctrl+C stops both services.
demo-web: $(STAMP)
	@test -f ./var/demo/jutaku.json || { echo "run 'make demo' first"; exit 2; }
	@echo "web UI: http://127.0.0.1:8000/  — users and passwords: ./var/demo/credentials.txt"
	@echo "a user's current code: JUTAKU_HOME=./var/demo JUTAKU_MODE=demo $(VENV)/bin/jutaku demo --code <USERNAME>"
	JUTAKU_HOME=./var/demo JUTAKU_MODE=demo $(VENV)/bin/jutaku worker & WORKER=$$!; \
	trap "kill $$WORKER" EXIT INT TERM; \
	JUTAKU_HOME=./var/demo JUTAKU_MODE=demo $(VENV)/bin/jutaku serve --host 127.0.0.1 --port 8000

## make test: lint, unit tests, then the integration tiers on SQLite and PostgreSQL.
test: $(STAMP) lint test-unit test-sqlite test-postgres test-browser

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy src/jutaku
	$(VENV)/bin/lint-imports

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit tests/architecture

test-sqlite: $(STAMP)
	@echo "=== integration + functional tier on SQLite ==="
	env -u JUTAKU_DATABASE_URL $(PY) -m pytest $(XDIST) tests/integration tests/functional

## Playwright driving Debian's chromium against a live server (SQLite); screenshots in tests/browser/artifacts/.
test-browser: $(STAMP)
	@if [ -x /usr/bin/chromium ]; then \
	  echo "=== browser tier (chromium, SQLite) ==="; \
	  env -u JUTAKU_DATABASE_URL $(PY) -m pytest tests/browser; \
	else \
	  echo; echo "!!  /usr/bin/chromium is missing: THE BROWSER TIER WAS SKIPPED (.ci/run installs it)"; echo; \
	fi

## make screenshots: the README's screenshots, from the browser tier's artifacts (synthetic data only).
SHOTS := 27-dashboard:dashboard 28-person-search-variant-wareki:person-search 26-person-detail:person-detail-masked-number \
	14-kit-outcome:kit-upload-outcome-table 33-approvals-pending:approvals-pending-deletion \
	37-deletion-records:deletion-requests-and-records 43-audit-search:audit-search 46-users:user-management \
	38-approval-persons:approval-detail-persons
screenshots: test-browser
	@mkdir -p docs/screenshots
	@for pair in $(SHOTS); do cp tests/browser/artifacts/$${pair%%:*}.png docs/screenshots/$${pair##*:}.png; done
	@echo "docs/screenshots/ updated"

test-postgres: $(STAMP)
	@if $(PY) -c "import psycopg,sys; psycopg.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null; then \
	  echo "=== integration + functional tier on PostgreSQL ==="; \
	  JUTAKU_DATABASE_URL=$(PG_URL) $(PY) -m pytest $(XDIST) tests/integration tests/functional; \
	else \
	  echo; echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	  echo "!!  PostgreSQL is not reachable at $(PG_URL)"; \
	  echo "!!  THE POSTGRESQL TIER WAS SKIPPED: only SQLite was tested."; \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; echo; \
	fi

## make bench: every 1,000,000-person benchmark (hours): foundation and registration, the whole cycle after
## registration (one report: bench/reports/cycle.md), and the web load test; reports in bench/reports/.
bench: $(STAMP)
	$(PY) bench/run.py --rows $${ROWS:-1000000} --pg-url $(PG_URL)
	$(PY) bench/cycle.py --persons $${CYCLE_PERSONS:-1000000} --pg-url $(PG_URL)
	$(MAKE) bench-web

## make bench-approvals: one page of an approval's affected persons at 100,000 persons, SQLite and PostgreSQL
## (bench/reports/approvals.md; minutes).
bench-approvals: $(STAMP)
	env -u JUTAKU_DATABASE_URL $(PY) -m pytest bench/test_approval_pages.py -p tests.conftest -q
	JUTAKU_DATABASE_URL=$(PG_URL) $(PY) -m pytest bench/test_approval_pages.py -p tests.conftest -q

## make bench-cycle: the whole cycle after registration (CYCLE_PERSONS, default 1,000,000; hours).
bench-cycle: $(STAMP)
	$(PY) bench/cycle.py --persons $${CYCLE_PERSONS:-1000000} --pg-url $(PG_URL)

## make bench-inquiry: inquiry-file creation and result import (PERSONS, default 1,000,000).
bench-inquiry: $(STAMP)
	$(PY) bench/inquiry.py --persons $${INQUIRY_PERSONS:-1000000} --pg-url $(PG_URL)

## make bench-web: person search and detail under 20 concurrent staff, 1,000,000 persons in PostgreSQL.
bench-web: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) bench/web.py --persons $${WEB_PERSONS:-1000000} --pg-url $(PG_URL)

docs: $(STAMP)
	$(PY) -m jutaku.formats.docgen docs/formats

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
