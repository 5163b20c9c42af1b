# gridgov — the README's commands. Everything installs itself on a fresh Debian 12 (as root).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
GRIDGOV := $(VENV)/bin/gridgov
PYTHON ?= python3

.PHONY: run test test-fast bench setup db chromium gdal patroni lint clean-db

run: setup
	@echo
	@echo "  Sample accounts (random passwords): .gridgov/sample-credentials.txt"
	@echo
	$(GRIDGOV) serve

test: setup chromium gdal patroni
	$(VENV)/bin/pytest -q -n auto --maxprocesses 4

# the development lane: no browser, no fuzzing, no whole-cluster tests (tests/conftest.py SLOW_MODULES)
test-fast: setup
	$(VENV)/bin/pytest -q -n auto --maxprocesses 4 -m "not slow and not e2e"

bench: setup
	$(VENV)/bin/pip install -q -e '.[bench]'
	$(PY) -m bench

setup: $(VENV)/.installed web/node_modules/.installed
	$(GRIDGOV) db start
	$(GRIDGOV) migrate
	$(GRIDGOV) load-sample
	$(GRIDGOV) refresh-units

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV) || { echo "python3-venv missing: apt-get install -y python3-venv"; exit 1; }
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test,sample]'
	touch $@

web/node_modules/.installed: web/package.json web/package-lock.json
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nodejs npm; \
	  else echo "npm missing: run as root: apt-get install -y nodejs npm"; exit 1; fi; }
	cd web && npm ci --no-audit --no-fund
	touch $@

# headless Chromium for the browser tests (Debian's package, never a browser download),
# with a CJK font so that Chinese text renders in screenshots; pdftoppm renders posters
chromium:
	@{ command -v chromium >/dev/null && command -v pdftoppm >/dev/null && fc-list :lang=zh 2>/dev/null | grep -q .; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei poppler-utils; \
	  else echo "chromium missing: run as root: apt-get install -y chromium fonts-wqy-microhei poppler-utils"; exit 1; fi; }

# GDAL's command-line tools (ogrinfo, ogr2ogr) for the OGC API test: Debian's gdal-bin
gdal:
	@command -v ogrinfo >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gdal-bin; \
	  else echo "ogrinfo missing: run as root: apt-get install -y gdal-bin"; exit 1; fi; }

# Patroni and etcd for the failover test (tests/test_failover.py: `gridgov cluster up`): Debian's packages
patroni:
	@{ command -v patroni >/dev/null && command -v etcd >/dev/null && command -v etcdctl >/dev/null; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patroni etcd-server etcd-client; \
	  else echo "patroni/etcd missing: run as root: apt-get install -y patroni etcd-server etcd-client"; exit 1; fi; }

# ruff on all the Python; mypy on the paths in pyproject.toml's [tool.mypy] (strict on spatial/ and api/auth/)
lint: $(VENV)/.installed
	$(VENV)/bin/pip install -q -e '.[lint]'
	$(VENV)/bin/ruff check api spatial tests bench sample_geodata migrations
	$(VENV)/bin/mypy

clean-db:
	-$(GRIDGOV) db stop
	rm -rf .gridgov/pg
