# The README's two commands: `make run` (set up + demo) and `make test` (set up + tests).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

export QT_QPA_PLATFORM ?= offscreen

.PHONY: run test test-fast resilience lint format bench bench-contention clean i18n dist lock deploy-test

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[kiosk,server,test]'
	touch $(STAMP)

# The demo: server, kiosk, counter and board on this machine. On a desktop the windows show
# (the offscreen default above is dropped when a display exists and nobody chose a platform);
# without one it runs offscreen. DEMO_ARGS="--quit-after 10" ends it by itself (checks).
DEMO_ENV := $(if $(and $(filter file,$(origin QT_QPA_PLATFORM)),$(DISPLAY)$(WAYLAND_DISPLAY)),env -u QT_QPA_PLATFORM)
# First the system libraries Qt's platform plugin needs: one apt-get line, not Qt's abort.
run: $(STAMP)
	$(DEMO_ENV) $(BIN)/python -m kiosk.syslibs
	$(DEMO_ENV) $(BIN)/kiosk demo $(DEMO_ARGS)

test: $(STAMP)
	$(BIN)/pytest

test-fast: $(STAMP)
	$(BIN)/pytest -m "not gui and not slow and not postgres"

# Faults injected into real processes, sockets, PostgreSQL and disks (resilience/); prints a
# summary table and writes resilience/summary.md. Scenarios 4 and 6 need root (and 4 needs
# KIOSK_TEST_POSTGRES_URL); elsewhere they skip with the reason, in CI they must run.
resilience: $(STAMP)
	$(BIN)/pytest resilience -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python deploy/lock.py --check

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The server benchmark (bench/bench_wrk.py) drives it with wrk, Debian's package (apt-get install
# wrk; .ci/run installs it). Not part of `make test`.
bench: $(STAMP)
	@command -v wrk >/dev/null || { echo "make bench needs wrk (Debian: apt-get install wrk)" >&2; exit 1; }
	$(BIN)/python -m bench.run_all

# Issuing while the sync applies a 10,000-event backlog (minutes; not part of `make bench`).
bench-contention: $(STAMP)
	$(BIN)/python -m bench.run_all contention

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

# Kiosk translations: refresh vi.ts from the sources, then compile the .qm that ships.
i18n: $(STAMP)
	$(BIN)/pyside6-lupdate kiosk/ui/*.py -ts kiosk/ui/i18n/vi.ts -no-obsolete -locations none
	$(BIN)/pyside6-lrelease kiosk/ui/i18n/vi.ts -qm kiosk/ui/i18n/vi.qm

# The installable package: dist/hospital_queue_kiosk-VERSION-py3-none-any.whl (what
# deploy/install-kiosk.sh installs on a kiosk PC or the server).
dist: $(STAMP)
	rm -rf build dist/*.whl
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .

# deploy/constraints.txt: the versions every installation pins. Run after changing the
# dependencies in pyproject.toml (`make lint` fails until it is done).
lock: $(STAMP)
	$(BIN)/python deploy/lock.py

# The wheel installed by deploy/install-kiosk.sh, as the README says, in a Debian 12 container
# booted with systemd as PID 1 (systemd-nspawn, as root); see deploy/test/. The rootfs is cached
# in $(DEPLOY_TEST_CACHE). Skips with the reason where nspawn cannot run.
DEPLOY_TEST_CACHE ?= /var/cache/kiosk-deploy-test
deploy-test: dist
	DEPLOY_TEST_CACHE=$(DEPLOY_TEST_CACHE) deploy/test/run.sh dist/*.whl
