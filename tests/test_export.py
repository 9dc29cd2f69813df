"""``rnncourse export nbgrader``: the course as an nbgrader course folder.

The conversion is checked on a tiny assignment (no kernel), then nbgrader itself
(installed by the ``dev`` extra; the test is skipped where it is missing) runs
``generate_assignment`` and ``autograde`` on three exported course notebooks,
one with hidden tests: the solved notebook earns every point, the untouched
student notebook none. Expected points come from the check metadata, so the
test follows the notebooks as they change.
"""

import copy
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from rnncourse.cli import main
from rnncourse.export import export_nbgrader, nbgrader_notebook
from rnncourse.release import BEGIN_HIDDEN, check_spec, read_notebook

from test_grading import NAME, canonical_notebook

ROOT = Path(__file__).resolve().parents[1]
REAL = ["00_welcome", "01_toy_rnns", "02_rnn_forward"]  # the smallest; 00 has hidden tests


def _meta(nb):
    return [cell.metadata.get("nbgrader") for cell in nb.cells]


def test_cells_get_nbgrader_roles_from_rnncourse_metadata():
    nb = canonical_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("answer key", metadata={"tags": ["solution-only"]}))
    out = nbgrader_notebook(nb)
    by_id = {cell.id: cell for cell in out.cells}
    assert "answer key" not in [cell.source for cell in out.cells]
    check = by_id["01-square"].metadata.nbgrader
    assert (check.grade, check.locked, check.solution, check.points, check.grade_id) == (True, True, False, 2, "01-square")
    assert BEGIN_HIDDEN in by_id["01-square"].source  # nbgrader's own hidden-test markers
    answer = by_id["ex2"].metadata.nbgrader
    assert (answer.solution, answer.grade, answer.locked, answer.grade_id) == (True, False, False, "01-square-solution")
    assert by_id["intro"].metadata.nbgrader.locked is True  # instructions are read-only
    assert "nbgrader" not in by_id["setup"].metadata  # other code cells stay free
    assert all("rnncourse" not in cell.metadata for cell in out.cells)
    assert "nbgrader" not in nb.cells[0].metadata  # the input is left alone
    ids = [m.grade_id for m in _meta(out) if m]
    assert len(ids) == len(set(ids))


def _course(tmp_path, notebooks):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    for name, nb in notebooks.items():
        nbformat.write(nb, solutions / f"{name}.ipynb")
    return solutions


def test_export_is_idempotent_and_writes_the_course_files(tmp_path):
    solutions = _course(tmp_path, {NAME: canonical_notebook()})
    dest = tmp_path / "course"
    first = export_nbgrader(dest, solutions)
    assert sorted(p.relative_to(dest).as_posix() for p in first) == [
        "README.md", "nbgrader_config.py", "requirements.txt", f"source/{NAME}/{NAME}.ipynb"]
    assert "rnncourse==" in (dest / "requirements.txt").read_text()
    assert export_nbgrader(dest, solutions) == []


def test_a_malformed_notebook_gives_one_error_and_writes_nothing(tmp_path, capsys):
    bad = canonical_notebook()
    bad.cells[4].metadata.rnncourse = {"check": "Not An Id", "points": 1}
    solutions = _course(tmp_path, {NAME: canonical_notebook(), "02_bad": bad})
    dest = tmp_path / "course"
    assert main(["export", "nbgrader", str(dest), "--solutions", str(solutions)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"rnncourse export: error: {solutions / '02_bad.ipynb'}: cell 4:")
    assert not dest.exists()


# --- nbgrader itself ------------------------------------------------------------------


def _nbgrader(course: Path, *args: str) -> str:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


@pytest.mark.notebook
@pytest.mark.skipif(importlib.util.find_spec("nbgrader") is None, reason="nbgrader is not installed")
def test_nbgrader_grades_the_export_full_for_solutions_and_zero_for_stubs(tmp_path):
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    assert main(["export", "nbgrader", str(course), "--solutions", str(ROOT / "solutions"),
                 "--only", *REAL]) == 0
    expected = {}
    for name in REAL:
        checks = [check_spec(c) for c in read_notebook(ROOT / "solutions" / f"{name}.ipynb").cells]
        expected[name] = sum(spec["points"] for spec in checks if spec)
        assert expected[name] > 0
    assert any(BEGIN_HIDDEN in cell.source for cell in read_notebook(
        course / "source" / REAL[0] / f"{REAL[0]}.ipynb").cells), "the first notebook must have hidden tests"

    _nbgrader(course, "generate_assignment", "*", "--force")
    for name in REAL:
        released = read_notebook(course / "release" / name / f"{name}.ipynb")
        assert not any(BEGIN_HIDDEN in cell.source or "BEGIN SOLUTION" in cell.source
                       for cell in released.cells)
        source = read_notebook(course / "source" / name / f"{name}.ipynb")
        solved = copy.deepcopy(released)
        answers = {cell.id: cell.source for cell in source.cells
                   if (cell.metadata.get("nbgrader") or {}).get("solution")}
        for cell in solved.cells:  # a student who solved every exercise as the solutions do
            cell.source = answers.get(cell.id, cell.source)
        for student, nb in (("solved", solved), ("untouched", released)):
            folder = course / "submitted" / student / name
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{name}.ipynb")
    _nbgrader(course, "autograde", "*", "--create", "--force")

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for name in REAL:
            solved = gradebook.find_submission(name, "solved")
            untouched = gradebook.find_submission(name, "untouched")
            assert solved.max_score == expected[name]
            assert (name, solved.score) == (name, expected[name]), [
                (g.name, g.score) for nb in solved.notebooks for g in nb.grades]
            assert (name, untouched.score) == (name, 0)
    shutil.rmtree(course)
