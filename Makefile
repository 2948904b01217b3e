# The whole developer workflow. Every target sets itself up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS ?= dev
HOST ?= 127.0.0.1
PORT ?= 8123
MQTT_PORT ?= 1883
SYSTEM_DEPS ?= 1
# 1: install missing system packages the tests use (as root with apt-get), else warn loudly; 0: skip.

.PHONY: run test test-spark lint bench fuzz setup clean

$(STAMP): pyproject.toml
	@# An existing environment is reused: re-running venv with another python3 would repoint it.
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/oneteam serve --demo --host $(HOST) --port $(PORT) --mqtt-port $(MQTT_PORT)

# Tests that cannot run (a missing tool) are listed loudly at the end; with CI=true they fail.
test: $(STAMP)
	@[ "$(SYSTEM_DEPS)" = "0" ] || scripts/system-deps.sh
	$(PY) -m pytest -m "not spark" $(PYTEST_ARGS)

test-spark: $(STAMP)
	@[ "$(SYSTEM_DEPS)" = "0" ] || scripts/system-deps.sh
	$(PY) -m pip install --quiet -e '.[dev,spark]'
	$(PY) -m pytest -m spark $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff format --check oneteam tests bench
	$(VENV)/bin/ruff check oneteam tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	@# No module over 400 lines: a longer one is split by responsibility (tests/test_module_size.py).
	@long=$$(find oneteam -name '*.py' -exec awk 'END { if (NR > 400) print FILENAME ": " NR " lines, over 400" }' {} \;); \
	[ -z "$$long" ] || { echo "$$long"; exit 1; }

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# API fuzzing: schemathesis against a live hub's OpenAPI spec with a token; any 5xx fails.
FUZZ_TIME ?= 200
FUZZ_MIN ?= 20000
fuzz: $(STAMP)
	$(PY) bench/fuzz_api.py --max-time $(FUZZ_TIME) --min-requests $(FUZZ_MIN)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
