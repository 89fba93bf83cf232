# `make run`:  set up .venv (runtime deps only) if missing or stale, then run the main job.
# `make test`: set up .venv with the test and parity extras (torch CPU), then lint (ruff, mypy) and
#              run tests/ and parity/.
# `make lint`: ruff and mypy only (configured in pyproject.toml).
# `make test-fast`: the tests without the end-to-end ones (marker `slow`), no lint: the inner loop.
# Extra arguments go through ARGS, e.g. `make run ARGS="--seeds 32"`.
# Tests run in TEST_WORKERS processes (pytest-xdist; most of a test is single-threaded tracing
# and compiling: on two cores a fresh clone's suite took 750 s in two workers, 1,046 s in one);
# a test module stays on one worker, so its module-scoped fixtures are built once.
PY ?= python3
TEST_WORKERS ?= 2
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,parity]'
	touch $@

run: $(VENV)/.run-deps
	$(BIN)/python experiments/convergence.py $(ARGS)

lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope $(ARGS)

test-fast: $(VENV)/.test-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope -m "not slow" $(ARGS)

bench: $(VENV)/.run-deps
	$(BIN)/python bench/bench_convergence.py $(ARGS)

clean:
	rm -rf $(VENV) results .pytest_cache .mypy_cache .ruff_cache
