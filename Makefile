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

# Unit tests and per-notebook checks spread over all cores; then every solution
# notebook under nbval, one notebook per worker (--dist loadfile keeps a notebook's
# cells in one kernel).
test: install
	$(PY) -m pytest -n $(JOBS) tests
	$(PY) -m pytest -n $(JOBS) --dist loadfile --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=300 solutions

benchmark: install
	$(PY) benchmarks/notebooks.py
