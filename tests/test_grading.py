"""``rnncourse grade``: graded copies, and one grading run over planted submissions.

A two-exercise assignment is built in a temporary folder; each planted submission
is derived from its released student version. The grading run (one pytest + nbval
run over all of them, 2 jobs) happens once per test session, shared by the tests
below through a file lock, so the module costs one run whatever the xdist layout.
"""

import csv
import hashlib
import json
import os
import time
from pathlib import Path

import nbformat
import pytest
from filelock import FileLock

from rnncourse.cli import main
from rnncourse.grading.gradebook import broken_rows, totals_path, write_csv
from rnncourse.grading.plugin import first_line
from rnncourse.grading.prepare import find_submissions, load_assignment, prepare_submission, strip_markers
from rnncourse.grading.run import FORGED, read_results
from rnncourse.release import release_notebook

pytestmark = pytest.mark.notebook

CELL_TIMEOUT = 4
NAME = "01_tiny"


def _code(cell_id, source, check=None, points=1):
    cell = nbformat.v4.new_code_cell(source)
    cell.id = cell_id
    if check:
        cell.metadata.tags = ["check"]
        cell.metadata.rnncourse = {"check": check, "points": points}
    return cell


def _markdown(cell_id, source):
    cell = nbformat.v4.new_markdown_cell(source)
    cell.id = cell_id
    return cell


def canonical_notebook():
    """Two exercises, each with a check that carries a hidden test."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _markdown("intro", "# A tiny assignment"),
        _code("setup", "import math\nx0 = 1"),
        _markdown("ex1-md", "## Exercise 1: double a number"),
        _code("ex1", "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"),
        _code("01-double", 'assert double(3) == 6, f"expected double(3) == 6, got {double(3)}"\n'
              "### BEGIN HIDDEN TESTS\n"
              'assert double(-2) == -4, f"hidden test: expected double(-2) == -4, got {double(-2)}"\n'
              "### END HIDDEN TESTS", check="01.double"),
        _markdown("ex2-md", "## Exercise 2: square a number"),
        _code("ex2", "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION"),
        _code("01-square", 'assert square(3) == 9, f"expected square(3) == 9, got {square(3)}"\n'
              "### BEGIN HIDDEN TESTS\n"
              'assert square(-2) == 4, "hidden test: expected square(-2) == 4"\n'
              "### END HIDDEN TESTS", check="01.square", points=2),
    ]
    return nb


SOLVED = {"ex1": "def double(x):\n    return 2 * x", "ex2": "def square(x):\n    return x * x"}


def _cell(nb, cell_id):
    return next(cell for cell in nb.cells if cell.id == cell_id)


def _insert_after(nb, cell_id, source):
    index = nb.cells.index(_cell(nb, cell_id))
    nb.cells.insert(index + 1, _code(f"extra-{index}", source))
    return nb


def student_version(solved=()):
    """The released notebook, with the exercises in ``solved`` done right."""
    nb = release_notebook(canonical_notebook(), 1)
    for cell_id in solved:
        _cell(nb, cell_id).source = SOLVED[cell_id]
    return nb


def _with_markers():
    nb = student_version()
    skip = _cell(nb, "01-double")
    skip.source = "# NBVAL_SKIP\n" + skip.source
    skip.metadata.tags.append("nbval-skip")
    _cell(nb, "01-square").metadata.tags += ["raises-exception", "nbval-raises-exception"]
    _cell(nb, "ex1").source += "\n# NBVAL_RAISES_EXCEPTION\ndouble(1)"
    return nb


def _moved():
    nb = student_version(SOLVED)
    nb.cells.insert(0, nb.cells.pop(nb.cells.index(_cell(nb, "01-double"))))
    return nb


def _deleted():
    nb = student_version(SOLVED)
    nb.cells.remove(_cell(nb, "01-square"))
    return nb


def _edited():
    nb = student_version()
    _cell(nb, "01-double").source = "assert True"
    return nb


def _hidden_wrong():
    nb = student_version(["ex2"])
    _cell(nb, "ex1").source = "def double(x):\n    return 6 if x == 3 else 2 * abs(x)"
    return nb


def _crash():
    nb = student_version(SOLVED)
    _cell(nb, "ex1").source = "raise ValueError('oops')\n" + SOLVED["ex1"]
    return nb


def _other_assignment():
    nb = nbformat.v4.new_notebook()
    nb.cells = [_markdown("other-intro", "# Another assignment"),
                _code("02-other", "assert True", check="02.other")]
    return nb


PLANTED = {
    "correct": lambda: student_version(SOLVED),
    "untouched": student_version,
    "hidden_wrong": _hidden_wrong,
    "edited": _edited,
    "deleted": _deleted,
    "moved": _moved,
    "markers": _with_markers,
    "crash": _crash,
    "loop": lambda: _insert_after(student_version(SOLVED), "01-double", "import time\nwhile True:\n    time.sleep(0.05)"),
    "sys_exit": lambda: _insert_after(student_version(SOLVED), "setup", "import sys\nsys.exit(3)"),
    "os_exit": lambda: _insert_after(student_version(SOLVED), "01-double", "import os\nos._exit(1)"),
    "input": lambda: _insert_after(student_version(SOLVED), "setup", "name = input('name? ')"),
    "vandal": lambda: _insert_after(student_version(SOLVED), "setup", (
        "import glob, os\n"
        "for name in os.listdir('.'):\n"
        "    if os.path.isfile(name):\n"
        "        os.remove(name)\n"
        "open('junk.txt', 'w').write('x' * 1000)\n"
        "for name in glob.glob('../*/*.ipynb'):\n"
        "    open(name, 'w').write('{}')\n"
        "import subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)")),
    "other_assignment": _other_assignment,
}
RAW = {"invalid_json": '{"cells": [ this is not json', "empty": ""}


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _grade(root: Path) -> dict:
    """Build the course folder and submissions under ``root``, grade, return everything."""
    (root / "solutions").mkdir()
    nbformat.write(canonical_notebook(), root / "solutions" / f"{NAME}.ipynb")
    subs = root / "submissions"
    subs.mkdir()
    for student, build in PLANTED.items():
        nbformat.write(build(), subs / f"{student}.ipynb")
    for student, text in RAW.items():
        (subs / f"{student}.ipynb").write_text(text)
    before = {p.name: _sha(p) for p in subs.iterdir()}
    out = root / "gradebook.csv"
    start = time.monotonic()
    code = main(["grade", str(subs), "--assignment", NAME, "--solutions", str(root / "solutions"),
                 "--out", str(out), "--jobs", "2", "--timeout", str(CELL_TIMEOUT)])
    seconds = time.monotonic() - start
    rows = list(csv.DictReader(out.open()))
    totals = list(csv.DictReader(totals_path(out).open()))
    return {
        "code": code, "seconds": seconds,
        "rows": {(r["student"], r["check"]): r for r in rows},
        "totals": {t["student"]: t for t in totals},
        "unchanged": before == {p.name: _sha(p) for p in subs.iterdir()},
        "log": out.with_suffix(".log").read_text(),
        "files": sorted(p.name for p in root.iterdir()),
    }


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """The grading run, done once even when xdist spreads these tests over workers."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # one per session
    cache = shared / "rnncourse-grading.json"
    with FileLock(str(cache) + ".lock"):
        if not cache.exists():
            result = _grade(tmp_path_factory.mktemp("grading"))
            result["rows"] = {"|".join(k): v for k, v in result["rows"].items()}
            cache.write_text(json.dumps(result))
    result = json.loads(cache.read_text())
    result["rows"] = {tuple(k.split("|")): v for k, v in result["rows"].items()}
    return result


def row(graded, student, check):
    return graded["rows"][(student, check)]


# --- graded copies (no kernel) -------------------------------------------------


def load_assignment_for(folder):
    (folder / "solutions").mkdir()
    nbformat.write(canonical_notebook(), folder / "solutions" / f"{NAME}.ipynb")
    return load_assignment(folder / "solutions", NAME)


@pytest.fixture
def assignment(tmp_path):
    return load_assignment_for(tmp_path)


def _sources(prepared):
    return [cell.source for cell in prepared.notebook.cells]


def test_graded_copy_restores_hidden_tests_and_clears_outputs(assignment):
    nb = student_version(SOLVED)
    _cell(nb, "setup").outputs = [nbformat.v4.new_output("stream", text="old output")]
    _cell(nb, "setup").execution_count = 7
    prepared = prepare_submission(nb, assignment)
    assert "### BEGIN HIDDEN TESTS" in _cell(prepared.notebook, "01-double").source
    assert _cell(prepared.notebook, "setup").outputs == []
    assert _cell(prepared.notebook, "setup").execution_count is None
    assert prepared.flags == {"01.double": [], "01.square": []}


def test_graded_copy_leaves_the_submission_unchanged(assignment):
    nb = _with_markers()
    text = nbformat.writes(nb)
    prepare_submission(nb, assignment)
    assert nbformat.writes(nb) == text


def test_deleted_check_goes_back_after_the_students_added_cells(assignment):
    nb = _insert_after(_deleted(), "ex2", "square = lambda x: x ** 2")
    prepared = prepare_submission(nb, assignment)
    sources = _sources(prepared)
    assert sources.index(_cell(assignment.notebook, "01-square").source) == len(sources) - 1
    assert prepared.flags["01.square"] == ["deleted"]


def test_moved_check_goes_back_between_its_neighbours(assignment):
    prepared = prepare_submission(_moved(), assignment)
    ids = [cell.id for cell in prepared.notebook.cells]
    assert ids.index("01-double") == ids.index("ex1") + 1
    assert prepared.flags["01.double"] == ["moved"]
    assert [o for o in prepared.origins if o[0] == "check"] == [("check", "01.double"),
                                                               ("check", "01.square")]


def test_checks_are_placed_by_position_when_ids_and_sources_are_lost(assignment):
    # a rewritten notebook with no checks is graded, not taken for another assignment
    nb = student_version(SOLVED)
    nb.cells = [cell for cell in nb.cells if "check" not in cell.metadata.get("tags", [])]
    for n, cell in enumerate(nb.cells):
        cell.id = f"renamed-{n}"
        cell.source += "\n# edited"
    prepared = prepare_submission(nb, assignment)
    assert [cell.id for cell in prepared.notebook.cells][4] == "01-double"
    assert prepared.foreign is None


def test_edited_check_is_flagged_and_replaced(assignment):
    prepared = prepare_submission(_edited(), assignment)
    assert prepared.flags["01.double"] == ["edited"]
    assert "assert True" not in _sources(prepared)


def test_markers_and_tags_are_stripped_from_every_cell(assignment):
    prepared = prepare_submission(_with_markers(), assignment)
    assert prepared.flags["01.double"] == ["edited", "markers"]
    assert prepared.flags["01.square"] == ["markers"]
    assert prepared.markers_stripped == 1
    for cell in prepared.notebook.cells:
        assert "NBVAL" not in cell.source
        assert not {"nbval-skip", "raises-exception"} & set(cell.metadata.get("tags", []))


def test_strip_markers_keeps_ordinary_comments():
    cell = _code("c", "x = 1  # NBVAL_SKIP is mentioned here\n    #NBVAL_SKIP\n# a comment")
    assert strip_markers(cell)
    assert cell.source.splitlines() == ["x = 1  # NBVAL_SKIP is mentioned here",
                                        "    # (nbval marker removed by the grader)", "# a comment"]


def test_a_notebook_for_another_assignment_is_recognised(assignment):
    prepared = prepare_submission(_other_assignment(), assignment)
    assert "not a notebook for 01_tiny" in prepared.foreign


def test_find_submissions_reads_files_and_per_student_folders(tmp_path):
    (tmp_path / "alice.ipynb").write_text("{}")
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / f"{NAME}.ipynb").write_text("{}")
    (tmp_path / "bob" / "scratch.ipynb").write_text("{}")
    assert sorted(find_submissions([tmp_path], NAME)) == ["alice", "bob", "bob/scratch"]


def test_forged_result_lines_are_detected(tmp_path):
    notebook = tmp_path / "s0001" / f"{NAME}.ipynb"
    lines = [{"nodeid": f"s0001/{NAME}.ipynb::Cell 2", "when": "call", "outcome": outcome,
              "reason": "", "xfail": False} for outcome in ("passed", "failed")]
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"cut short')
    cell = read_results(results, tmp_path, [notebook])[notebook].cells[2]
    assert (cell.passed, cell.reason) == (False, FORGED)


def test_gradebook_quotes_text_a_spreadsheet_would_run(tmp_path):
    rows = broken_rows("eve", "eve.ipynb", load_assignment_for(tmp_path), "=HYPERLINK(1)")
    write_csv(tmp_path / "g.csv", rows)
    assert {r["message"] for r in csv.DictReader((tmp_path / "g.csv").open())} == {"'=HYPERLINK(1)"}


def test_first_line_drops_colour_codes_and_long_tails():
    assert first_line("\n\x1b[0;31mValueError\x1b[0m: bad\nmore") == "ValueError: bad"
    assert len(first_line("x" * 1000)) == 300


# --- the grading run over planted submissions ------------------------------------


def test_run_finishes_writes_both_files_and_changes_no_submission(graded):
    assert graded["code"] == 0
    assert graded["unchanged"]
    assert {"gradebook.csv", "gradebook_totals.csv", "gradebook.log"} <= set(graded["files"])
    assert not [name for name in graded["files"] if name.endswith(".tmp")]


def test_one_row_per_submission_and_check(graded):
    students = set(PLANTED) | set(RAW)
    assert {key[0] for key in graded["rows"]} == students
    assert len(graded["rows"]) == 2 * len(students)
    assert set(graded["totals"]) == students


def test_correct_submission_earns_every_point(graded):
    total = graded["totals"]["correct"]
    assert (total["points_earned"], total["points_possible"], total["status"]) == ("3", "3", "graded")
    assert row(graded, "correct", "01.square")["passed"] == "yes"
    assert total["tampered"] == ""


def test_untouched_release_earns_nothing_and_says_why(graded):
    r = row(graded, "untouched", "01.double")
    assert (r["points_earned"], r["status"]) == ("0", "failed")
    assert r["message"].startswith("NotImplementedError: Exercise 1.1")


def test_hidden_tests_catch_an_answer_fitted_to_the_visible_check(graded):
    r = row(graded, "hidden_wrong", "01.double")
    assert r["status"] == "failed"
    assert r["message"] == "AssertionError: hidden test: expected double(-2) == -4, got 4"
    assert row(graded, "hidden_wrong", "01.square")["passed"] == "yes"


def test_check_edited_to_assert_true_earns_nothing_and_is_flagged(graded):
    r = row(graded, "edited", "01.double")
    assert (r["passed"], r["tampered"]) == ("no", "edited")
    assert graded["totals"]["edited"]["tampered"] == "01.double: edited"


def test_deleted_check_is_graded_anyway_and_flagged(graded):
    r = row(graded, "deleted", "01.square")
    assert (r["passed"], r["points_earned"], r["tampered"]) == ("yes", "2", "deleted")


def test_moved_check_is_graded_in_place(graded):
    r = row(graded, "moved", "01.double")
    assert (r["passed"], r["tampered"]) == ("yes", "moved")


def test_nbval_markers_do_not_dodge_a_check(graded):
    for check in ("01.double", "01.square"):
        r = row(graded, "markers", check)
        assert (r["passed"], r["status"]) == ("no", "failed")
        assert "markers" in r["tampered"]
        assert r["message"].startswith("NotImplementedError")
    assert "nbval markers stripped from 1 cell(s)" in graded["totals"]["markers"]["tampered"]


def test_a_crashing_cell_is_named_in_the_failures_it_causes(graded):
    r = row(graded, "crash", "01.double")
    assert r["message"] == "NameError: name 'double' is not defined (cell 4 failed first: ValueError: oops)"
    assert graded["totals"]["crash"]["note"] == "cell 4: ValueError: oops"


def test_infinite_loop_hits_the_cell_time_limit_and_later_checks_still_run(graded):
    assert row(graded, "loop", "01.double")["passed"] == "yes"
    assert row(graded, "loop", "01.square")["passed"] == "yes"
    assert graded["totals"]["loop"]["note"] == f"cell 6: Timeout of {CELL_TIMEOUT} seconds exceeded executing cell"


def test_sys_exit_fails_its_cell_only(graded):
    assert graded["totals"]["sys_exit"]["points_earned"] == "3"
    assert graded["totals"]["sys_exit"]["note"].startswith("cell 3: SystemExit")


def test_dead_kernel_is_detected_and_later_checks_are_not_run(graded):
    assert row(graded, "os_exit", "01.double")["passed"] == "yes"
    r = row(graded, "os_exit", "01.square")
    assert r["status"] == "not run"
    assert r["message"].startswith("not run: the kernel had stopped in an earlier cell")
    assert "KernelDied: the kernel stopped" in graded["totals"]["os_exit"]["note"]
    assert graded["totals"]["os_exit"]["status"] == "incomplete"


def test_input_fails_its_cell_instead_of_waiting(graded):
    assert graded["totals"]["input"]["points_earned"] == "3"
    assert "StdinNotImplementedError" in graded["totals"]["input"]["note"]


def test_a_cell_deleting_and_overwriting_files_harms_only_its_copy(graded):
    assert graded["totals"]["vandal"]["points_earned"] == "3"
    assert graded["totals"]["vandal"]["note"] == ""
    assert graded["totals"]["other_assignment"]["status"] == "wrong assignment"
    assert graded["totals"]["correct"]["points_earned"] == "3"


def test_processes_left_running_by_a_cell_are_killed(graded):
    # in the sandbox they die with its PID namespace (tests/test_grading_sandbox.py
    # looks for survivors); without one the grader finds and kills them
    if "sandbox: none" in graded["log"]:
        assert "killed 1 process(es) left running" in graded["log"]
    else:
        assert "[rnncourse grade] sandbox: bwrap" in graded["log"]


@pytest.mark.parametrize("student", ["invalid_json", "empty"])
def test_unreadable_notebook_gets_its_rows_with_the_reason(graded, student):
    r = row(graded, student, "01.square")
    assert (r["status"], r["points_earned"], r["points_possible"]) == ("not run", "0", "2")
    assert r["message"].startswith("not gradable:") and "not a valid notebook" in r["message"]
    assert graded["totals"][student]["status"] == "unreadable"


def test_gradebook_text_has_no_ansi_colour_codes(graded):
    text = json.dumps(graded["rows"] and list(graded["rows"].values())) + graded["log"]
    assert "\x1b[" not in text and "\\u001b" not in text
