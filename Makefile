# Two commands for a newcomer: `make run` (install, then serve http://localhost:5000)
# and `make test` (install everything the tests need, then run the whole suite).
# Everything goes into a virtual environment, .venv, so the system's Python stays untouched.
SYSTEM_PYTHON ?= python3
VENV ?= .venv
PYTHON := $(VENV)/bin/python
PIP := $(PYTHON) -m pip
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install install-dev npm chromium servers run test bench

$(PYTHON):
	$(SYSTEM_PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

install: $(PYTHON)
	$(PIP) install --quiet -r requirements.txt

install-dev: $(PYTHON) npm
	$(PIP) install --quiet -r requirements-dev.txt
	npm ci --no-audit --no-fund --loglevel=warn >/dev/null

# Debian's node and npm: the page tests' accessibility check runs axe-core, pinned in package.json
# and package-lock.json and installed into node_modules/ by `npm ci` (install-dev).
npm:
	@command -v npm >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm; }

# Debian's Chromium for the browser tests (Playwright's own browser download does not work offline).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# Debian's nginx and wrk: the load-balancer test (tests/test_deploy.py) and the load benchmarks.
# policy-rc.d-less machines start Debian's own nginx on port 80; the tests use their own ports.
servers:
	@{ command -v nginx || test -x /usr/sbin/nginx; } >/dev/null 2>&1 && command -v wrk >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx wrk; }

run: install
	$(PYTHON) run_visualization.py

test: install-dev chromium servers
	$(PYTHON) -m pytest

bench: install-dev servers
	$(PYTHON) bench/latency.py
	$(PYTHON) bench/load.py
	$(PYTHON) bench/uploads.py
	$(PYTHON) bench/cluster.py
