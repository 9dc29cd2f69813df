"""Run notebook check cells against answers of our choosing (tests of the checks).

Two ways, for two kinds of check:

- ``run_check("14_beyond", "14.sampling-bias", biased_mixture=alt)`` executes the solution
notebook's first code cell (its imports), then the named check cell, hidden tests
included, with the given names bound in the namespace. It returns normally when the
check accepts the answer and raises the check's AssertionError when it does not, so a
test can assert both that correct alternatives pass and that plausible slips fail.
"""

import os
import textwrap
from pathlib import Path

import matplotlib
import matplotlib.pyplot
import pytest

from rnncourse.release import BEGIN_SOLUTION, END_SOLUTION, check_spec, exercise_groups, read_notebook

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


def _without_magics(source: str) -> str:
    """Drop IPython magics (``%matplotlib inline``) so plain ``exec`` can run a cell."""
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%"))


def notebook_cells(stem: str):
    return read_notebook(ROOT / "solutions" / f"{stem}.ipynb").cells


def check_source(stem: str, check_id: str) -> str:
    for cell in notebook_cells(stem):
        spec = check_spec(cell)
        if spec and spec["check"] == check_id:
            return cell.source
    raise KeyError(f"{stem}: no check cell with id {check_id!r}")


def run_check(stem: str, check_id: str, setup: str = "", **names) -> dict:
    """Execute the imports cell, ``setup`` code, then the check with ``names`` bound."""
    first_code = _without_magics(next(c.source for c in notebook_cells(stem) if c.cell_type == "code"))
    namespace: dict = {"__name__": "__check__"}
    exec(compile(first_code, f"{stem}[imports]", "exec"), namespace)
    if setup:
        exec(compile(setup, f"{stem}[setup]", "exec"), namespace)
    namespace.update(names)
    exec(compile(check_source(stem, check_id), f"{stem}[{check_id}]", "exec"), namespace)
    return namespace


_NOTEBOOKS: dict = {}


def _notebook(name: str):
    if name not in _NOTEBOOKS:
        _NOTEBOOKS[name] = read_notebook(ROOT / "solutions" / f"{name}.ipynb")
    return _NOTEBOOKS[name]


def _replace_region(source: str, body: str) -> str:
    """``source`` with its (single) solution region replaced by ``body``."""
    out, inside = [], False
    for line in source.splitlines():
        text = line.strip()
        if text.startswith(BEGIN_SOLUTION):
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out += textwrap.indent(textwrap.dedent(body).strip("\n"), indent).splitlines()
        elif text.startswith(END_SOLUTION):
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def run_notebook_check(name: str, check_id: str, body: str | None = None, skip=(), extra: str = "",
              stand_in: dict | None = None) -> dict:
    """Run check ``check_id`` of solutions/``name`` with its exercise's region replaced by ``body``.

    ``skip``: ids of slow demo cells not to run; ``stand_in``: id -> fast code run in
    place of that cell (e.g. a training run replaced by fixed parameters); ``extra``:
    code run just before the check. Raises what the check raises; returns the namespace.
    """
    nb = _notebook(name)
    groups = {check_spec(nb.cells[check])["check"]: (cells, check) for cells, check in exercise_groups(nb)}
    cells, check = groups[check_id]
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(ROOT / "solutions")
    try:
        for index in range(check):
            cell = nb.cells[index]
            if cell.cell_type != "code" or cell.get("id") in skip or check_spec(cell):
                continue
            source = (stand_in or {}).get(cell.get("id"), cell.source)
            if body is not None and index == cells[-1]:
                source = _replace_region(source, body)
            source = _without_magics(source)
            exec(compile(source, f"{name}[{index}]", "exec"), namespace)
        if extra:
            exec(compile(textwrap.dedent(extra), f"{name}[extra]", "exec"), namespace)
        exec(compile(nb.cells[check].source, f"{name}[{check_id}]", "exec"), namespace)
    finally:
        os.chdir(cwd)
        matplotlib.pyplot.close("all")
    return namespace


def assert_question_key(stem: str, check_id: str, name: str, key: str, options: str = "abcd",
                        outside: str = "e") -> None:
    """A conceptual question's check accepts ``key`` in upper case, rejects every other
    option as not right and ``outside`` as not one of the options."""
    run_check(stem, check_id, **{name: key.upper()})
    for wrong in sorted(set(options) - {key}):
        with pytest.raises(AssertionError, match="is not right"):
            run_check(stem, check_id, **{name: wrong})
    with pytest.raises(AssertionError, match="must be one of"):
        run_check(stem, check_id, **{name: outside})
