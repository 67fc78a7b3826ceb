# SIPROC: `make run` sets everything up and serves on http://127.0.0.1:5000; `make test` runs the suite.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app app
VENDOR := app/static/vendor

.PHONY: run test check install db demo serve bench load browser-deps pdf-deps lint i18n-extract clean

run: db demo serve

# The suite runs on SQLite, then again on PostgreSQL when a server answers at PG_TEST_URL (browser tests and
# tests that touch no database only in the SQLite pass: the pages and the interpreter are the same).
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
test: install browser-deps
	$(BIN)/python -m pytest
	@if $(BIN)/python -c "import sqlalchemy as sa, sys; sa.create_engine(sys.argv[1], connect_args={'connect_timeout': 3}).connect().close()" "$(PG_TEST_URL)" 2>/dev/null; then \
	  echo "== PostgreSQL answers at $(PG_TEST_URL): the suite again on PostgreSQL =="; \
	  SIPROC_TEST_POSTGRESQL="$(PG_TEST_URL)" $(BIN)/python -m pytest -m "not browser and not nodb"; \
	else \
	  echo "== PostgreSQL pass skipped: no server answers at $(PG_TEST_URL) =="; \
	fi

install: pdf-deps $(VENV)/.installed $(VENDOR)/.installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Front-end libraries come from the npm registry (package-lock.json) and are served from app/static.
# Re-copied whenever package-lock.json (hence node_modules) or this list changes.
BPMNJS := node_modules/bpmn-js
DMNJS := node_modules/dmn-js
$(VENDOR)/.installed: node_modules/.package-lock.json package-lock.json Makefile
	rm -rf $(VENDOR)/bootstrap $(VENDOR)/bpmn-js
	mkdir -p $(VENDOR)/bootstrap $(VENDOR)/bpmn-js
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.min.css.map \
	   node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map \
	   node_modules/bootstrap/LICENSE $(VENDOR)/bootstrap/
	cp $(BPMNJS)/dist/bpmn-modeler.production.min.js $(BPMNJS)/dist/bpmn-navigated-viewer.production.min.js \
	   $(BPMNJS)/dist/assets/diagram-js.css $(BPMNJS)/dist/assets/bpmn-js.css \
	   $(BPMNJS)/dist/assets/bpmn-font/css/bpmn-embedded.css $(BPMNJS)/LICENSE $(VENDOR)/bpmn-js/
	rm -rf $(VENDOR)/dmn-js
	mkdir -p $(VENDOR)/dmn-js
	cp $(DMNJS)/dist/dmn-modeler.production.min.js $(DMNJS)/dist/assets/diagram-js.css \
	   $(DMNJS)/dist/assets/dmn-js-shared.css $(DMNJS)/dist/assets/dmn-js-drd.css \
	   $(DMNJS)/dist/assets/dmn-js-decision-table.css $(DMNJS)/dist/assets/dmn-js-decision-table-controls.css \
	   $(DMNJS)/dist/assets/dmn-js-literal-expression.css $(DMNJS)/dist/assets/dmn-js-boxed-expression.css \
	   $(DMNJS)/dist/assets/dmn-js-boxed-expression-controls.css \
	   $(DMNJS)/dist/assets/dmn-font/css/dmn-embedded.css $(DMNJS)/LICENSE $(VENDOR)/dmn-js/
	rm -rf $(VENDOR)/chartjs
	mkdir -p $(VENDOR)/chartjs
	cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/dist/chart.umd.min.js.map \
	   node_modules/chart.js/LICENSE.md $(VENDOR)/chartjs/
	touch $@

db: install
	$(FLASK) db upgrade
	$(FLASK) siproc load-reference
	$(FLASK) siproc keys rotate --plaintext-only
	$(FLASK) siproc deploy

demo: db
	$(BIN)/python -m devtools.demo demo

serve: install
	$(FLASK) siproc serve --host 127.0.0.1 --port 5000

# Debian's Chromium for the browser tests (never a downloaded browser build); skipped when apt-get cannot run.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "WARNING: chromium could not be installed; browser tests will be skipped"; }

# Debian's pango and DejaVu fonts for WeasyPrint (the referral letter as PDF); skipped when apt-get cannot run.
pdf-deps:
	@{ ldconfig -p | grep -q libpango-1.0 && fc-list 2>/dev/null | grep -qi dejavu; } || { \
	  echo "Installing Debian's pango and DejaVu fonts for the PDF letters"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 \
	   fonts-dejavu-core >/dev/null) \
	  || echo "WARNING: pango or the DejaVu fonts could not be installed; referral letters (PDF) will fail"; }

bench: install
	$(BIN)/python -m devtools.bench

load: install
	$(BIN)/python devtools/loadtest/run.py

# Lint (ruff: pyproject's rule families, stale noqa included) and the import-layer test; CI runs it after `make test`.
check: install
	$(BIN)/ruff check app devtools tests
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_layers.py

lint: check

i18n-extract: install
	$(BIN)/pybabel extract -F app/babel.cfg -k _l -o app/translations/messages.pot .

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache
