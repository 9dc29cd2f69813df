"""Run one notebook check cell against an answer of our choosing (tests of the checks).

``run_check("14_beyond", "14.sampling-bias", biased_mixture=alt)`` executes the solution
notebook's first code cell (its imports), then the named check cell, hidden tests
included, with the given names bound in the namespace. It returns normally when the
check accepts the answer and raises the check's AssertionError when it does not, so a
test can assert both that correct alternatives pass and that plausible slips fail.
"""

from pathlib import Path

import matplotlib

from rnncourse.release import check_spec, read_notebook

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


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
    first_code = next(c.source for c in notebook_cells(stem) if c.cell_type == "code")
    namespace: dict = {"__name__": "__check__"}
    exec(compile(first_code, f"{stem}[imports]", "exec"), namespace)
    if setup:
        exec(compile(setup, f"{stem}[setup]", "exec"), namespace)
    namespace.update(names)
    exec(compile(check_source(stem, check_id), f"{stem}[{check_id}]", "exec"), namespace)
    return namespace
