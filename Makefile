# Two commands for a newcomer: `make run` (install, then serve http://localhost:5000)
# and `make test` (install everything the tests need, then run the whole suite).
# Everything goes into a virtual environment, .venv, so the system's Python stays untouched.
SYSTEM_PYTHON ?= python3
VENV ?= .venv
PYTHON := $(VENV)/bin/python
PIP := $(PYTHON) -m pip
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install install-dev npm chromium servers run lint test bench screenshot results site

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

# Debian's nginx and wrk: the load-balancer tests (tests/deploy/test_deploy.py) and the load benchmarks.
# policy-rc.d-less machines start Debian's own nginx on port 80; the tests use their own ports.
servers:
	@{ command -v nginx || test -x /usr/sbin/nginx; } >/dev/null 2>&1 && command -v wrk >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx wrk; }

run: install
	$(PYTHON) run_visualization.py

# ruff for the Python, ESLint for the page's scripts (both configured: pyproject.toml, eslint.config.js),
# and the GitHub workflows against the schema check-jsonschema bundles (no download).
lint: install-dev
	$(PYTHON) -m ruff check .
	npx --no-install eslint web
	$(PYTHON) -m check_jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

test: install-dev chromium servers lint
	$(PYTHON) -m pytest

# The README's screenshot (docs/screenshot.png), from the running page in Chromium.
screenshot: install-dev chromium
	$(PYTHON) -m tools.screenshot

# The static edition in site/: the networks exported to ONNX (exports/, redone only when a checkpoint
# or the export code changed) and the page with its data, served by any static host (docs/static-edition.md).
site: install-dev
	$(PYTHON) -m static_site.export --if-stale
	$(PYTHON) -m static_site.build
	@echo "site/ is ready: $(PYTHON) -m http.server --directory site 8000, then open http://localhost:8000"

# docs/results.md, from the committed tables in results/.
results: install
	$(PYTHON) -m studies.report

bench: install-dev servers
	$(PYTHON) bench/latency.py
	$(PYTHON) bench/load.py
	$(PYTHON) bench/uploads.py
	$(PYTHON) bench/cluster.py
