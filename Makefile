# `make run`: set up .venv if missing or stale, then run the main job.
# `make test`: the same set-up, then the whole suite (tests/ and parity/).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,parity]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python experiments/convergence.py $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

bench: $(STAMP)
	$(BIN)/python bench/bench_convergence.py $(ARGS)

clean:
	rm -rf $(VENV) results .pytest_cache
