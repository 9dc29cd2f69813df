"""``rnncourse grade SUBMISSIONS --assignment NAME``: a gradebook from student notebooks.

Each submission is read (never written), turned into a graded copy in a temporary
folder (``rnncourse.grading.prepare``), all copies are run in one pytest + nbval
run (``rnncourse.grading.run``), and the gradebook and totals are written
(``rnncourse.grading.gradebook``), with pytest's full output in a log next to them.
A submission that cannot be read or belongs to another assignment gets its rows
with the reason; the others are graded as usual.
"""

import hashlib
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from rnncourse.grading.gradebook import (
    broken_rows, check_rows, summary, total, totals_path, write_atomic, write_csv,
)
from rnncourse.grading.plugin import ANSI, first_line
from rnncourse.grading.prepare import find_submissions, load_assignment, prepare_submission
from rnncourse.grading.run import run_isolated
from rnncourse.release import ReleaseError, read_notebook

__all__ = ["grade", "add_arguments", "run"]


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:  # gone or unreadable: compared, never fatal
        return f"unreadable: {exc}"


def grade(submissions: dict[str, Path], assignment_name: str, solutions: str | Path = "solutions",
          jobs: int = 2, timeout: float = 60, log: list[str] | None = None):
    """Grade ``{student: notebook path}``; return ``(rows, totals)``.

    ``log`` (a list) receives pytest's output and the grader's notes.
    """
    assignment = load_assignment(solutions, assignment_name)
    log = [] if log is None else log
    before = {student: _sha256(path) for student, path in submissions.items()}
    root = Path(tempfile.mkdtemp(prefix="rnncourse-grade-"))
    try:
        prepared, broken, paths, copies = {}, {}, {}, {}
        for n, (student, path) in enumerate(sorted(submissions.items()), 1):
            try:
                graded = prepare_submission(read_notebook(path), assignment)
            except Exception as exc:  # any malformed notebook: its row says why
                broken[student] = ("unreadable", f"not gradable: {first_line(str(exc))}")
                continue
            if graded.foreign:
                broken[student] = ("wrong assignment", graded.foreign)
                continue
            folder = root / f"s{n:04d}"
            folder.mkdir()
            paths[student] = folder / f"{assignment.name}.ipynb"
            copies[paths[student]] = nbformat.writes(graded.notebook)
            prepared[student] = graded
            log.append(f"[rnncourse grade] {folder.name} = {student} ({path})\n")
        code_cells = {paths[s]: len(p.origins) for s, p in prepared.items()}
        expected = {paths[s]: {n for n, o in enumerate(p.origins) if o[0] == "check"}
                    for s, p in prepared.items()}
        results = run_isolated(copies, root, jobs, timeout, code_cells, expected, log) if copies else {}
    finally:
        shutil.rmtree(root, ignore_errors=True)

    rows, totals = [], []
    for student, path in sorted(submissions.items()):
        if student in broken:
            status, reason = broken[student]
            these = broken_rows(student, str(path), assignment, reason)
            totals.append(total(these, status, note=reason))
        else:
            graded = prepared[student]
            these, first = check_rows(student, str(path), assignment, graded, results[paths[student]])
            totals.append(total(these, "graded", graded.markers_stripped, note=first))
        if _sha256(path) != before[student]:
            totals[-1].note = f"WARNING: the submission file changed during grading. {totals[-1].note}"
        rows += these
    return rows, totals


def add_arguments(parser) -> None:
    parser.add_argument("submissions", nargs="+",
                        help="notebooks, or folders of them (alice.ipynb, or alice/NAME.ipynb)")
    parser.add_argument("--assignment", required=True,
                        help="notebook stem of the assignment, e.g. 01_toy_rnns")
    parser.add_argument("--solutions", default="solutions",
                        help="folder of the canonical notebooks (default: solutions)")
    parser.add_argument("--out", default="gradebook.csv",
                        help="gradebook CSV (default: gradebook.csv; totals go to "
                             "gradebook_totals.csv, pytest's output to gradebook.log)")
    parser.add_argument("--jobs", type=int, default=2,
                        help="notebooks graded at once, one kernel each (default: 2)")
    parser.add_argument("--timeout", type=float, default=60,
                        help="time limit per cell in seconds (default: 60)")


def run(args) -> int:
    start = time.monotonic()
    try:
        submissions = find_submissions(args.submissions, args.assignment)
        if not submissions:
            raise ValueError(f"no .ipynb files found in {args.submissions}")
        log = []
        rows, totals = grade(submissions, args.assignment, args.solutions, args.jobs,
                             args.timeout, log)
    except (ReleaseError, ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"rnncourse grade: error: {exc}")
        return 1
    out = Path(args.out)
    write_csv(out, rows)
    write_csv(totals_path(out), totals)
    write_atomic(out.with_suffix(".log"), ANSI.sub("", "".join(log)))
    print(summary(totals, time.monotonic() - start))
    print(f"wrote {out}, {totals_path(out)} and {out.with_suffix('.log')}")
    return 0
