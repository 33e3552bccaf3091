# Baraza: `make run` and `make test` are all a newcomer needs (Python 3.11+ and make).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PO := $(wildcard locales/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)
DEMO ?= deployments/demo.yaml

.PHONY: run test lint chromium bench soak i18n diagrams clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d locales -D messages -l $* -i $< -o $@

## run: the server on 127.0.0.1:8000 with SQLite and the demo deployment
run: $(STAMP) $(MO)
	$(BIN)/baraza import --keep-web-edits $(DEMO)  # edits made in the pages stay (and are listed)
	$(BIN)/baraza serve

## test: lint, types, flow checks and the whole suite on SQLite and PostgreSQL
test: lint $(MO) chromium
	$(BIN)/baraza flows check
	$(BIN)/pytest

## chromium: Debian's Chromium for the browser tests (Playwright's own download is not
##           used), installed when missing (as root, or through sudo)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "Chromium is missing: installing Debian's package"; \
	  install="$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium"; \
	  $$install >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $$install; }; }
	@test -x /usr/bin/chromium

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

## bench: engine steps per second, webhook throughput and latency, SMS segments per report,
##        outbound materialization, send rate and reminder lateness, the load on
##        PostgreSQL with 1, 2 and 4 processes (rate, scaling, latency, memory), the
##        dashboard at 100,000 cases, and language detection (accuracy per language
##        beside plain langdetect, time)
bench: $(STAMP) $(MO)
	@if command -v taskset >/dev/null; then taskset -c 0 $(BIN)/python bench/engine_bench.py; \
	else $(BIN)/python bench/engine_bench.py; fi
	$(BIN)/python bench/webhook_bench.py
	$(BIN)/python bench/sms_cost.py
	$(BIN)/python bench/outbound_bench.py
	$(BIN)/python bench/load_bench.py
	$(BIN)/python bench/stats_bench.py
	$(BIN)/python bench/detect_bench.py

## soak: the long runs: three processes on one database, a two-minute provider outage,
##       SIGKILL twice under inbound load (BARAZA_SOAK_OUTAGE_SECONDS to change the outage);
##       the property-based tests with 2,000 examples each (hypothesis profile "soak")
soak: $(STAMP) $(MO)
	BARAZA_SOAK=1 $(BIN)/pytest tests/scale -s
	$(BIN)/pytest --hypothesis-profile=soak tests/ops/test_parsers_properties.py tests/ops/test_engine_properties.py

## i18n: extract message ids from code and flows, update every catalog, compile
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k msg -k msg_plural:1,2 --no-location --sort-output -o locales/messages.pot .
	$(BIN)/pybabel update -d locales -D messages -i locales/messages.pot --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d locales -D messages --statistics

diagrams: $(STAMP)
	$(BIN)/baraza flows diagram

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
