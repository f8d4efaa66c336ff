# The two commands of the README: `make run` and `make test`. Each sets up everything first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# the archive: a SQLite file, or a PostgreSQL URL (`STAROSTA_DB=postgresql://... make run`)
STAROSTA_DB ?= var/starosta.db
DB ?= $(STAROSTA_DB)

.PHONY: run test setup bench bench-scale

$(STAMP): pyproject.toml
	$(PY) -c 'import sys; assert sys.version_info >= (3, 11), "starosta needs Python 3.11 or newer"'
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

# `make run` tries the demo: `demo --if-empty` loads it only into a new database (a missing file,
# an empty PostgreSQL schema); on any other archive it loads nothing and says how to make a token.
# A real archive: starosta migrate, starosta token create, starosta serve (README, Operations).
run: $(STAMP)
	$(BIN)/starosta demo --db $(DB) --if-empty
	$(BIN)/starosta serve --db $(DB)

# WORKERS pytest-xdist workers (auto: one per core), a file's tests on one worker (its module
# fixtures built once); each worker starts its own PostgreSQL cluster and builds its own
# template archives. `make test WORKERS=0` runs in one process; PYTEST_ARGS adds options.
WORKERS ?= auto
PYTEST_ARGS ?=
test: $(STAMP)
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadfile $(PYTEST_ARGS)

# `make bench`: the project beside its ceilings in one run, written to bench/RESULTS.md (bench/run.py;
# options through BENCH_ARGS, e.g. make bench BENCH_ARGS="--events 100000 --seconds 3").
BENCH_STAMP := $(VENV)/.bench-stamp
BENCH_ARGS ?=

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "wrk not found: trying apt-get install wrk"; \
	  if command -v apt-get >/dev/null 2>&1; then \
	    if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	    $$SUDO apt-get install -y wrk || { $$SUDO apt-get update && $$SUDO apt-get install -y wrk; }; \
	  fi; }
	@command -v wrk >/dev/null 2>&1 || { echo "make bench needs wrk (Debian/Ubuntu: apt-get install wrk; https://github.com/wg/wrk)"; exit 1; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# `make bench-scale` (apart from `make bench`: hours at 10M events): synth, import, rebuild, storage
# and the biography, population and ledger reads at 10k, 1M and 10M events, and on PostgreSQL at
# 1M (bench/scale.py, its own dated section of bench/RESULTS.md); options through SCALE_ARGS, e.g.
# make bench-scale SCALE_ARGS="--sizes 10k,1m --postgres-events 0". Needs wrk, as `make bench`.
SCALE_ARGS ?=
bench-scale: $(BENCH_STAMP)
	@command -v wrk >/dev/null 2>&1 || { echo "make bench-scale needs wrk (Debian/Ubuntu: apt-get install wrk; https://github.com/wg/wrk)"; exit 1; }
	$(BIN)/python bench/scale.py $(SCALE_ARGS)
