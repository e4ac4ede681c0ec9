# The README's two commands: `make run` (set up + demo) and `make test` (set up + tests).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

export QT_QPA_PLATFORM ?= offscreen

.PHONY: run test test-fast lint format bench clean i18n

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/kiosk seed seeds/provincial-general-hospital.toml
	$(BIN)/kiosk issue NOI
	$(BIN)/kiosk issue NOI --priority elderly_75
	$(BIN)/kiosk report --format csv

test: $(STAMP)
	$(BIN)/pytest

test-fast: $(STAMP)
	$(BIN)/pytest -m "not gui and not slow and not postgres"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

# Kiosk translations: refresh vi.ts from the sources, then compile the .qm that ships.
i18n: $(STAMP)
	$(BIN)/pyside6-lupdate kiosk/ui/*.py -ts kiosk/ui/i18n/vi.ts -no-obsolete -locations none
	$(BIN)/pyside6-lrelease kiosk/ui/i18n/vi.ts -qm kiosk/ui/i18n/vi.qm
