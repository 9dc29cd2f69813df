# Two entry points for a fresh machine: `make lab` (open the course) and
# `make test` (run the whole suite). Both create .venv and install what they need
# once; they reinstall only when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
JOBS ?= auto

.PHONY: install lab test release benchmark

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (rnncourse)" >/dev/null
	touch $(STAMP)

install: $(STAMP)

lab: install
	$(VENV)/bin/jupyter lab lectures/00_welcome.ipynb

release: install
	$(VENV)/bin/rnncourse release

# Unit tests, the wheel check and the per-notebook checks, spread over all cores.
# Each solution notebook runs once, top to bottom, in tests/test_notebooks.py (its
# checks, its figures); the student versions run up to their first exercise.
test: install
	$(PY) -m pytest -n $(JOBS) tests

benchmark: install
	$(PY) benchmarks/notebooks.py
