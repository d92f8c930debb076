# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CLIENT := clients/python
# Re-install when either distribution's metadata changes.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(CLIENT)/pyproject.toml | cksum | cut -d' ' -f1)
PORT ?= 8080
DATA_DIR ?= ./var
# The suite runs in 3 pytest-xdist workers, one test file each at a time: most of a test's time is
# spent waiting on the server processes it starts, so 3 workers fit 2 cores (TEST_WORKERS=0: serial).
TEST_WORKERS ?= 3

.PHONY: run test test-sqlite lint format bench bench-large bench-bulk install clean chromium

# The client is installed beside the server: `cee import` is built on it, `make test` runs its tests.
$(STAMP): pyproject.toml $(CLIENT)/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' -e ./$(CLIENT)
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## Serve on the embedded SQLite in ./var (port 8080), initialising it on first start.
run: $(STAMP)
	$(BIN)/cee serve --data-dir $(DATA_DIR) --port $(PORT)

## The panel's browser tests drive Debian's Chromium (never a downloaded browser): install it
## with apt-get when it is missing (as root, as on CI); elsewhere say how.
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the panel's browser tests"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else echo "the panel's browser tests need /usr/bin/chromium: apt-get install chromium"; exit 1; fi; }

## The whole suite: SQLite always, PostgreSQL when one is reachable (CI always).
test: $(STAMP) chromium
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench $(CLIENT)
	$(BIN)/ruff format --check src tests bench $(CLIENT)
	$(BIN)/mypy
	$(BIN)/mypy --strict $(CLIENT)/src $(CLIENT)/tests

format: $(STAMP)
	$(BIN)/ruff format src tests bench $(CLIENT)
	$(BIN)/ruff check --fix src tests bench $(CLIENT)

## Throughput against the HTTP and storage ceilings; writes bench/results.json.
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-large: $(STAMP)
	$(BIN)/python bench/run.py --large $(BENCH_ARGS)

## A 1,000,000-row CSV bulkupload on loopback (BENCH_ARGS="--rows N" or "--database URL").
bench-bulk: $(STAMP)
	$(BIN)/python bench/bulk.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
