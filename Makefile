# smartplace: set-up, demo, tests and benchmarks on a Debian/Ubuntu machine.
# GNU make; recipes are POSIX sh. `make` alone lists the targets.

SHELL := /bin/sh
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Written after a successful install; older than pyproject.toml = install again.
VENV_STAMP := $(VENV)/.smartplace-installed
PYTEST_ARGS ?=
# Test processes (pytest-xdist): most tests wait on real servers, so two share 2 cores well;
# each has its own mosquitto and influxd. PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2
BENCH_ARGS ?=
# The Debian packages that provide the servers, and the binaries they must provide.
APT_PACKAGES := mosquitto influxdb openssl
SERVER_BINARIES ?= mosquitto influxd openssl
SBIN_DIRS := /usr/sbin /usr/local/sbin
# The front-end dependencies (uPlot for the dashboard, Swagger UI and ReDoc for /docs and
# /redoc, axe-core for the accessibility tests), installed by npm from the lockfile
# (install scripts off: none of them needs one, and one would phone home).
DASHBOARD := dashboard
NPM_STAMP := $(DASHBOARD)/node_modules/.smartplace-installed
# The ingest benchmark's Node-RED peer (Node-RED + node-red-contrib-influxdb), pinned in
# bench/nodered/package-lock.json.
NODERED := bench/nodered
NODERED_STAMP := $(NODERED)/node_modules/.smartplace-installed
# The browser the dashboard tests and the latency benchmark drive (Debian's chromium).
CHROMIUM ?= /usr/bin/chromium

.PHONY: help venv lock servers dashboard browser bench-peers demo test test-fast lint bench clean

help: ## List the targets
	@echo "smartplace make targets:"
	@echo "  make venv     create .venv (Python >= 3.11) and install the project with the dev extra"
	@echo "                (again only when pyproject.toml changes)"
	@echo "  make servers  install mosquitto and influxdb with apt-get when missing (as root;"
	@echo "                otherwise prints the command to run)"
	@echo "  make dashboard  install the front-end packages (uPlot, Swagger UI, ReDoc, axe-core) with"
	@echo "                'npm ci' (nodejs/npm from apt when"
	@echo "                missing, as root; otherwise prints the command to run)"
	@echo "  make browser  install Debian's chromium for the dashboard tests when missing (as root)"
	@echo "  make bench-peers  install the ingest benchmark's Node-RED peer with 'npm ci'"
	@echo "                (bench/nodered/package-lock.json; needs Node.js >= 18 and npm)"
	@echo "  make demo     venv + servers + dashboard, then run 'smartplace demo' (Ctrl-C stops everything)"
	@echo "  make test     venv + servers + dashboard + browser, then ruff, mypy and pytest"
	@echo "                (PYTEST_ARGS='...' passes options)"
	@echo "  make test-fast  the same without the tests marked slow (the quick loop)"
	@echo "  make lint     venv, then ruff and mypy only"
	@echo "  make lock     rewrite requirements.lock from the venv (after changing pyproject.toml)"
	@echo "  make bench    venv + servers + dashboard + browser + bench-peers, then 'python -m bench'"
	@echo "                (BENCH_ARGS='...' passes options)"
	@echo "  make clean    remove .venv, .smartplace (demo data and logs) and caches"
	@echo "  make help     this list"

venv: $(VENV_STAMP)

$(VENV_STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
		echo "error: '$(PYTHON)' not found; Python >= 3.11 is required" >&2; \
		echo "  install it (Debian/Ubuntu: sudo apt-get install python3 python3-venv)" >&2; \
		echo "  or point make at one: make PYTHON=/path/to/python3.11 ..." >&2; \
		exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "error: Python >= 3.11 is required; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)" >&2; \
		echo "  install a newer one, or point make at one: make PYTHON=/path/to/python3.11 ..." >&2; \
		exit 1; }
	@if [ ! -x $(BIN)/python ] || ! $(BIN)/python -m pip --version >/dev/null 2>&1; then \
		if ! $(PYTHON) -m venv $(VENV); then \
			rm -rf $(VENV); \
			venvpkg="python3-venv"; \
			if [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then \
				echo "python venv support is missing: installing $$venvpkg"; \
				apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$venvpkg \
				&& $(PYTHON) -m venv $(VENV) || exit 1; \
			else \
				echo "error: '$(PYTHON) -m venv' failed; install venv support first:" >&2; \
				echo "  sudo apt-get install $$venvpkg" >&2; \
				exit 1; \
			fi; \
		fi; \
	fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(VENV_STAMP)

lock: venv ## Pin smartplace[dev] and its dependencies as installed
	$(BIN)/python deploy/lock_python.py

servers: ## Make sure mosquitto and influxd are installed
	@missing=""; \
	for binary in $(SERVER_BINARIES); do \
		found=""; \
		if command -v $$binary >/dev/null 2>&1; then found=yes; fi; \
		for dir in $(SBIN_DIRS); do if [ -x "$$dir/$$binary" ]; then found=yes; fi; done; \
		if [ -z "$$found" ]; then missing="$$missing $$binary"; fi; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "missing server binaries:$$missing"; \
	if [ "$$(id -u)" -ne 0 ]; then \
		echo "Install them, then run make again:" >&2; \
		echo "" >&2; \
		echo "    sudo apt-get install $(APT_PACKAGES)" >&2; \
		echo "" >&2; \
		exit 1; \
	fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
		echo "error: no apt-get here; install the mosquitto and InfluxDB (influxd) servers yourself" >&2; \
		exit 1; \
	fi; \
	apt-get update && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(APT_PACKAGES)

dashboard: $(NPM_STAMP) ## Install the front-end packages from dashboard/package-lock.json

# npm ci empties node_modules first, so the stamp inside it exists only after a full install.
$(NPM_STAMP): $(DASHBOARD)/package.json $(DASHBOARD)/package-lock.json $(DASHBOARD)/.npmrc
	@if ! command -v npm >/dev/null 2>&1; then \
		if [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "npm is missing: installing nodejs and npm with apt-get"; \
			apt-get update && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm \
			|| exit 1; \
		else \
			echo "warning: npm is not installed, so the dashboard's charts are not set up." >&2; \
			echo "Install Node.js and npm, then run make again (or the install by hand):" >&2; \
			echo "" >&2; \
			echo "    sudo apt-get install nodejs npm" >&2; \
			echo "    cd $(DASHBOARD) && npm ci --no-audit --no-fund --ignore-scripts" >&2; \
			echo "" >&2; \
			exit 0; \
		fi; \
	fi; \
	cd $(DASHBOARD) && npm ci --no-audit --no-fund --ignore-scripts && touch node_modules/.smartplace-installed

bench-peers: $(NODERED_STAMP) ## Install the Node-RED benchmark peer from bench/nodered/package-lock.json

# Unlike the dashboard, the benchmark cannot run without it: a missing npm or Node.js is an error.
$(NODERED_STAMP): $(NODERED)/package.json $(NODERED)/package-lock.json
	@if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then \
		echo "error: the benchmark's Node-RED peer needs Node.js >= 18 and npm; install them:" >&2; \
		echo "" >&2; \
		echo "    sudo apt-get install nodejs npm" >&2; \
		echo "" >&2; \
		exit 1; \
	fi
	@node -e 'process.exit(parseInt(process.versions.node, 10) < 18 ? 1 : 0)' || { \
		echo "error: Node-RED 4 needs Node.js >= 18; 'node' is $$(node --version)" >&2; \
		exit 1; }
	cd $(NODERED) && npm ci --no-audit --no-fund && touch node_modules/.smartplace-installed

browser: ## Make sure Debian's chromium is installed (the dashboard tests drive it)
	@if [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	echo "missing browser: $(CHROMIUM)"; \
	if [ "$$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
		echo "warning: the dashboard tests need chromium (they skip without it, and fail when CI is set):" >&2; \
		echo "" >&2; \
		echo "    sudo apt-get install chromium" >&2; \
		echo "" >&2; \
		exit 0; \
	fi; \
	apt-get update && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

demo: venv servers dashboard ## Run the whole system on this machine
	$(BIN)/smartplace demo

test: venv servers dashboard browser ## Lint, type-check and run every test
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test-fast: venv servers dashboard ## Lint, type-check and run the tests not marked slow
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not slow" $(PYTEST_ARGS)

lint: venv ## Lint and type-check only
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: venv servers dashboard browser bench-peers ## Run the benchmarks
	$(BIN)/python -m bench $(BENCH_ARGS)

clean: ## Remove the virtualenv, demo data and caches
	rm -rf $(VENV) .smartplace .mypy_cache .ruff_cache .pytest_cache build dist *.egg-info
	rm -rf $(DASHBOARD)/node_modules $(NODERED)/node_modules artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
