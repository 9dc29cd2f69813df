"""The gradebook: one row per submission and check, and one total per student.

``gradebook.csv`` columns: student, submission, check, points_possible,
points_earned, passed (yes/no), status (passed, failed, not run), message (the
first line of the failure, or why the check did not run, with the first earlier
failing cell of the student's notebook when there is one), tampered (flags:
``edited``, ``deleted``, ``moved``, ``markers``).

``gradebook_totals.csv`` (next to it): student, submission, points_earned,
points_possible, checks_passed, checks, status (graded, unreadable, wrong
assignment, incomplete), tampered (all flags of the submission, and the number
of student cells that had nbval markers), note (the first failing cell or the
reason it was not graded). Both files are written atomically.
"""

import csv
import io
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from rnncourse._io import write_text
from rnncourse.grading.prepare import Assignment, Prepared
from rnncourse.grading.run import NotebookResult

__all__ = ["Row", "Total", "check_rows", "broken_rows", "total", "write_csv",
           "totals_path", "summary"]


@dataclass
class Row:
    student: str
    submission: str
    check: str
    points_possible: float
    points_earned: float
    passed: str
    status: str
    message: str
    tampered: str


@dataclass
class Total:
    student: str
    submission: str
    points_earned: float
    points_possible: float
    checks_passed: int
    checks: int
    status: str
    tampered: str
    note: str


def _points(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 3)


def check_rows(student: str, submission: str, assignment: Assignment, prepared: Prepared,
               result: NotebookResult) -> tuple[list[Row], str]:
    """Rows of a submission that was run, in the order of the canonical checks,
    and which of the student's cells failed first ("" if none)."""
    points = {check.id: check.points for check in assignment.checks}
    rows, earlier = {}, None  # (cell, reason) of the student's first failing cell
    for n, (kind, what) in enumerate(prepared.origins):
        cell = result.cells.get(n)
        if kind == "student":
            if earlier is None and cell is not None and not cell.passed and cell.ran:
                earlier = (what, cell.reason)
            continue
        if cell is None:
            status, message = "not run", result.error or "not run: no result (the run stopped early; see the log)"
        elif cell.passed:
            status, message = "passed", ""
        else:
            status, message = ("failed" if cell.ran else "not run"), cell.reason
            if earlier and earlier[1] != cell.reason:  # the same error again says nothing new
                message += f" (cell {earlier[0]} failed first: {earlier[1]})"
        rows[what] = Row(student, submission, what, _points(points[what]),
                         _points(points[what] if status == "passed" else 0),
                         "yes" if status == "passed" else "no", status, message,
                         " ".join(prepared.flags.get(what, [])))
    first = f"cell {earlier[0]}: {earlier[1]}" if earlier else ""
    return [rows[check.id] for check in assignment.checks], first


def broken_rows(student: str, submission: str, assignment: Assignment, reason: str) -> list[Row]:
    """Rows of a submission that could not be graded, each saying why."""
    return [Row(student, submission, check.id, _points(check.points), 0, "no", "not run", reason, "")
            for check in assignment.checks]


def total(rows: list[Row], status: str, markers: int = 0, note: str = "") -> Total:
    """The per-student total of a submission's rows."""
    flags = [f"{row.check}: {row.tampered}" for row in rows if row.tampered]
    if markers:
        flags.append(f"nbval markers stripped from {markers} cell(s)")
    if status == "graded" and any(row.status == "not run" for row in rows):
        status = "incomplete"
    return Total(rows[0].student, rows[0].submission,
                 _points(sum(row.points_earned for row in rows)),
                 _points(sum(row.points_possible for row in rows)),
                 sum(row.passed == "yes" for row in rows), len(rows), status,
                 "; ".join(flags), note)


def totals_path(out: str | Path) -> Path:
    """``gradebook.csv`` -> ``gradebook_totals.csv``."""
    out = Path(out)
    return out.with_name(f"{out.stem}_totals{out.suffix or '.csv'}")


def _cell_text(value):
    """Spreadsheets run a text cell starting with = + - @ as a formula: quote it."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(path: str | Path, records: list, kind: type | None = None) -> None:
    """Write dataclass ``records`` (of class ``kind``, needed when there are none)
    as CSV, atomically."""
    buffer = io.StringIO()
    names = [f.name for f in fields(kind)] if kind else list(asdict(records[0]))
    writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _cell_text(v) for k, v in asdict(record).items()} for record in records)
    write_text(path, buffer.getvalue())


def summary(totals: list[Total], seconds: float) -> str:
    """A short table of totals and a closing line, for the terminal."""
    width = max([len("student")] + [len(t.student) for t in totals])
    lines = [f"{'student':<{width}}  {'points':>9}  {'checks':>6}  status / flags"]
    for t in totals:
        flags = f"  [{t.tampered}]" if t.tampered else ""
        note = f": {t.note}" if t.status not in ("graded", "incomplete") else ""
        lines.append(f"{t.student:<{width}}  {t.points_earned:>4}/{t.points_possible:<4}  "
                     f"{t.checks_passed:>2}/{t.checks:<3}  {t.status}{note}{flags}")
    broken = sum(t.status in ("unreadable", "wrong assignment") for t in totals)
    flagged = sum(bool(t.tampered) for t in totals)
    lines.append(f"graded {len(totals)} submission(s) in {seconds:.1f} s: {broken} not gradable, "
                 f"{flagged} flagged for tampering")
    return "\n".join(lines)
