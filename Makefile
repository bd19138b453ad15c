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
BENCH_ARGS ?=
# The Debian packages that provide the servers, and the binaries they must provide.
APT_PACKAGES := mosquitto influxdb
SERVER_BINARIES ?= mosquitto influxd
SBIN_DIRS := /usr/sbin /usr/local/sbin

.PHONY: help venv servers demo test lint bench clean

help: ## List the targets
	@echo "smartplace make targets:"
	@echo "  make venv     create .venv (Python >= 3.11) and install the project with the dev extra"
	@echo "                (again only when pyproject.toml changes)"
	@echo "  make servers  install mosquitto and influxdb with apt-get when missing (as root;"
	@echo "                otherwise prints the command to run)"
	@echo "  make demo     venv + servers, then run 'smartplace demo' (Ctrl-C stops everything)"
	@echo "  make test     venv + servers, then ruff, mypy and pytest (PYTEST_ARGS='...' passes options)"
	@echo "  make lint     venv, then ruff and mypy only"
	@echo "  make bench    venv + servers, then 'python -m bench' (BENCH_ARGS='...' passes options)"
	@echo "  make clean    remove .venv, .smartplace (demo data and logs) and caches"
	@echo "  make help     this list"

venv: $(VENV_STAMP)

$(VENV_STAMP): pyproject.toml
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
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(VENV_STAMP)

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

demo: venv servers ## Run the whole system on this machine
	$(BIN)/smartplace demo

test: venv servers ## Lint, type-check and run every test
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv ## Lint and type-check only
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: venv servers ## Run the benchmarks
	$(BIN)/python -m bench $(BENCH_ARGS)

clean: ## Remove the virtualenv, demo data and caches
	rm -rf $(VENV) .smartplace .mypy_cache .ruff_cache .pytest_cache build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
