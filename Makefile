# gradviz: `make lab` opens the course, `make test` checks everything (CI runs .ci/run).
# The virtual environment is created on first use from requirements.lock.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Throwaway environment used only by `make lock`.
LOCK_VENV ?= build/lock-venv

# JupyterLab refuses to run as root unless told to.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: all lab test notebooks bench lock lint clean distclean

all: test

# Re-runs only when the lock or the package metadata changes, so a second `make test` installs nothing.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -r requirements.lock
	$(BIN)/pip install --no-deps -e .
	touch $@

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/00_start_here.ipynb $(ALLOW_ROOT)

# Unit tests, nbval (strict) over notebooks/*.ipynb, and the browser tests in tests/browser/.
test: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL_FLAGS)

# Re-execute the lessons in place, storing the outputs that GitHub and nbval read.
notebooks: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py

# Speed against named baselines, written to benchmarks/RESULTS.md (about 5 minutes).
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP) requirements-bench.lock
	$(BIN)/pip install -r requirements-bench.lock
	touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run

# Regenerate requirements.lock from a fresh environment (pip freeze, gradviz itself excluded).
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install '.[dev]'
	{ head -n 2 requirements.lock; $(LOCK_VENV)/bin/pip freeze --exclude gradviz; } > requirements.lock.new
	mv requirements.lock.new requirements.lock
	rm -rf $(LOCK_VENV)

lint: $(STAMP)
	$(BIN)/ruff check gradviz tests scripts benchmarks

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache tests/browser/artifacts requirements.lock.new
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -print0 \
		| xargs -0 rm -rf

# clean, and remove the virtual environment too.
distclean: clean
	rm -rf $(VENV)
