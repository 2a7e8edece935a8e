# Clinicflow. `make demo` starts the demo; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
ONLY ?=

.PHONY: install demo test lint typecheck migrations-check pytest bench messages clean

$(BIN)/clinicflow: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(BIN)/clinicflow

install: $(BIN)/clinicflow

demo: install
	@mkdir -p var
	$(BIN)/clinicflow demo
	@echo ""
	@echo "Clinicflow is starting on http://127.0.0.1:$(PORT)/ (Ctrl+C to stop)"
	$(BIN)/clinicflow runserver 127.0.0.1:$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

migrations-check: install
	$(BIN)/clinicflow makemigrations --check --dry-run

pytest: install
	$(BIN)/python -m pytest

test: lint typecheck migrations-check pytest

bench: install
	$(BIN)/python bench/run.py $(ONLY)

messages: install
	@for app in clinicflow/*/; do \
	  if [ -d "$$app/locale" ]; then (cd $$app && ../../$(BIN)/clinicflow makemessages -l ru -l zh_Hans --no-obsolete >/dev/null && ../../$(BIN)/clinicflow compilemessages >/dev/null); fi; \
	done
	@echo "messages updated and compiled"

clean:
	rm -rf $(VENV) var/*.sqlite3*
