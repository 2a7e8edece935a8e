# Clinicflow. `make demo` starts the demo; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
ONLY ?=
PIP_VERSION ?= 26.3

.PHONY: install lock demo test lint typecheck migrations-check supply-chain pytest bench messages clean vendor screenshots

# Dependencies come from pylock.toml (every package at its locked version, checked by SHA-256);
# the project itself is installed on top without resolving anything again.
$(BIN)/clinicflow: pyproject.toml pylock.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "pip==$(PIP_VERSION)"
	$(BIN)/python scripts/pylock_requirements.py pylock.toml > $(VENV)/requirements.lock.txt
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(VENV)/requirements.lock.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $(BIN)/clinicflow

install: $(BIN)/clinicflow

# Re-resolve after changing a pin in pyproject.toml: writes pylock.toml (PEP 751, with hashes).
lock:
	$(BIN)/pip lock --quiet -e ".[dev]" -o pylock.toml

demo: install
	@mkdir -p var
	$(BIN)/clinicflow demo
	@echo ""
	@echo "Clinicflow is starting on http://127.0.0.1:$(PORT)/ (Ctrl+C to stop); the worker runs beside it"
	@echo "and delivers SMS and e-mail to the demo inbox: http://127.0.0.1:$(PORT)/messaging/inbox/"
	@export MESSAGE_DELIVERY=demo_inbox; \
	  $(BIN)/clinicflow worker --interval 2 & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/clinicflow runserver 127.0.0.1:$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/check_module_size.py

typecheck: install
	$(BIN)/mypy .

migrations-check: install
	$(BIN)/clinicflow makemigrations --check --dry-run

pytest: install
	$(BIN)/python -m pytest

supply-chain: install
	$(BIN)/python scripts/check_supply_chain.py

test: lint typecheck migrations-check supply-chain pytest

bench: install
	$(BIN)/python bench/run.py $(ONLY)

# The front-end packages (Tabler, htmx, Chart.js, axe-core) from the npm registry at the versions and
# SHA-512 pinned in the script; the results are committed, so nothing else needs npm.
vendor: install
	$(BIN)/python scripts/vendor_assets.py

# PNGs of the main pages in English, Russian and Chinese (the demo in a scratch database; Chromium).
screenshots: install
	$(BIN)/python scripts/screenshots.py

messages: install
	@for app in clinicflow/*/; do \
	  if [ -d "$$app/locale" ]; then (cd $$app && ../../$(BIN)/clinicflow makemessages -l ru -l zh_Hans --no-obsolete >/dev/null && ../../$(BIN)/clinicflow compilemessages >/dev/null); fi; \
	done
	@echo "messages updated and compiled"

clean:
	rm -rf $(VENV) .venv-tools var/*.sqlite3*
