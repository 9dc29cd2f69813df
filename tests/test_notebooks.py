"""Every notebook: checks are live, the student version runs, lectures/ is in sync.

(This is the one place `make test` executes each solution notebook, top to bottom.)
"""

from pathlib import Path

import nbformat
import pytest

from notebook_kernel import kernel, source_cell
from rnncourse.release import (check_spec, exercise_groups, notebook_number, read_notebook,
                               release_notebook)

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
LECTURES = ROOT / "lectures"
FIGURE_HOOK_SETUP = (f"import sys; sys.path.insert(0, {str(ROOT / 'tests')!r}); "
                     "import figure_hook; figure_hook.install(); sys.path.pop(0)")
FIGURE_HOOK_REPORT = ("import figure_hook\n"
                      "assert not figure_hook.report(), '; '.join(figure_hook.report())")


def by_stem(paths):
    return pytest.mark.parametrize("path", paths, ids=[p.stem for p in paths])


def test_every_curriculum_notebook_exists():
    assert SOLUTIONS, "solutions/ holds no notebooks"
    assert (ROOT / "solutions" / "00_welcome.ipynb") in SOLUTIONS


@by_stem(SOLUTIONS)
def test_solution_is_stored_without_outputs(path):
    nb = read_notebook(path)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts; clear them"


@by_stem(SOLUTIONS)
def test_lecture_equals_release_of_solution(path):
    lecture = LECTURES / path.name
    assert lecture.exists(), f"{lecture} is missing: run `rnncourse release`"
    expected = nbformat.writes(release_notebook(read_notebook(path), notebook_number(path))) + "\n"
    assert lecture.read_text(encoding="utf-8") == expected, (
        f"{lecture.name} is out of sync with solutions/: run `rnncourse release`")


def test_lectures_has_no_notebook_without_a_solution():
    stale = {p.name for p in LECTURES.glob("*.ipynb")} - {p.name for p in SOLUTIONS}
    assert not stale, f"lectures/ notebooks with no source in solutions/: {sorted(stale)}"


@pytest.mark.notebook
@by_stem(SOLUTIONS)
def test_student_notebook_runs_up_to_its_first_check(path):
    """Cells before the first check run; an exercise stub may only raise its own error."""
    student = read_notebook(LECTURES / path.name)
    with kernel(student, LECTURES) as k:
        for index, cell in enumerate(student.cells):
            if cell.cell_type != "code":
                continue
            if check_spec(cell):
                return
            error = k.run(cell, index)
            if error and not (error.startswith(("NotImplementedError: Exercise",
                                                "NotImplementedError: Question"))
                              and "raise NotImplementedError(" in cell.source):
                pytest.fail(f"{path.name} (student version), cell {index}: {error}")


@pytest.mark.notebook
@by_stem(SOLUTIONS)
def test_every_check_fails_on_its_stub_and_passes_on_the_solution(path):
    """One kernel pass over the solution notebook.

    For each exercise: run the cells from its first solution cell to its check with
    that exercise's stubs (other cells may fail); the check must fail. Then run the
    same cells with the solution; everything, the check included, must pass.
    """
    nb = read_notebook(path)
    student = release_notebook(nb, notebook_number(path), drop_solution_only=False)
    starts = {cells[0]: (set(cells), check) for cells, check in exercise_groups(nb)}
    with kernel(nb, path.parent) as k:
        assert k.run(source_cell(FIGURE_HOOK_SETUP), 0) is None, "could not install the figure hook"
        index = 0
        while index < len(nb.cells):
            if index in starts:
                stubbed, check = starts[index]
                for i in range(index, check):
                    if nb.cells[i].cell_type == "code":
                        k.run((student if i in stubbed else nb).cells[i], i)
                check_id = check_spec(nb.cells[check])["check"]
                assert k.run(nb.cells[check], check) is not None, (
                    f"{path.name}: check {check_id!r} passed with its exercise still a stub")
            else:
                check = index
            for i in range(index, check + 1):
                if nb.cells[i].cell_type == "code":
                    error = k.run(nb.cells[i], i)
                    assert error is None, f"{path.name}, cell {i} (solution): {error}"
            index = check + 1
        error = k.run(source_cell(FIGURE_HOOK_REPORT), 0)
        assert error is None, f"{path.name}: figures a reader cannot read: {error}"

