# The two commands: `make run` and `make test`. Everything they need is installed on the way.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
PORT ?= 5000
WORKERS ?= 2
PYTEST_ARGS ?=
# pytest-xdist: one test process per CPU (each with its own database; see tests/conftest.py).
TEST_WORKERS ?= auto

.PHONY: run test test-fast install system-packages translations compile-translations check-translations migrate seed benchmark benchmark-server benchmark-instructions clean

run: install compile-translations migrate seed
	@# The worker (deadline tick and outbox) runs beside gunicorn and stops with it.
	@# No access log: paths of invitation and reset links carry single-use tokens.
	$(FLASK) worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		$(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers $(WORKERS) wsgi:app

test: install compile-translations
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The inner loop: every test but the browser ones (marker e2e).
test-fast: install compile-translations
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not e2e" $(PYTEST_ARGS)

install: system-packages $(VENV)/.installed node_modules/.installed

system-packages:
	@bash scripts/system-packages.sh $(EXTRA_SYSTEM_PACKAGES)

$(VENV)/.installed: requirements.txt
	@# A venv made without ensurepip (Debian's python3-venv missing) has no pip: make it again.
	test -x $(BIN)/pip || $(PYTHON) -m venv $(VENV) || { echo "Cannot make a venv: on Debian, apt-get install python3-venv" >&2; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Extract, update and compile the catalogues (run after changing user-facing strings).
# --ignore-dirs: by default pybabel skips folders whose names start with "_", such as templates/_macros.
translations: $(VENV)/.installed
	$(BIN)/pybabel extract --no-wrap --sort-by-file -F babel.cfg --ignore-dirs=".* __pycache__" -k _l -k lazy_gettext -k ngettext:1,2 -k operation:1 -k english \
		--add-comments=Translators: --project="Platform Cooperation Portal" -o portal/translations/messages.pot .
	$(BIN)/pybabel update --no-wrap --ignore-obsolete -i portal/translations/messages.pot -d portal/translations
	$(BIN)/python scripts/fill_english.py portal/translations/en/LC_MESSAGES/messages.po
	$(MAKE) compile-translations

compile-translations: $(VENV)/.installed
	@set -o pipefail; $(BIN)/pybabel compile --statistics -d portal/translations 2>&1 | { grep -v "^compiling" || true; }

migrate: $(VENV)/.installed
	$(FLASK) db upgrade

seed: $(VENV)/.installed
	$(FLASK) demo seed --if-empty

benchmark: install compile-translations
	$(BIN)/python -m benchmarks

benchmark-server: install compile-translations
	@bash scripts/system-packages.sh wrk
	$(BIN)/python -m benchmarks.server

# Instructions per page (valgrind's callgrind): repeatable on a noisy host, for comparing two commits.
benchmark-instructions: install compile-translations
	@bash scripts/system-packages.sh valgrind
	$(BIN)/python -m benchmarks.instructions

clean:
	rm -rf $(VENV) node_modules .pytest_cache
