"""One source for every notebook: write the student notebooks from the solutions.

``solutions/NN_name.ipynb`` is the only file anyone edits. ``rnncourse release``
turns each into ``lectures/NN_name.ipynb``:

- code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes
  ``raise NotImplementedError("Exercise N.k: ...")`` at the marker's indentation,
  so the ``def`` line and everything outside the markers stay (nbgrader's markers);
- check cells (tag ``check``, metadata ``{"rnncourse": {"check": id, "points": p}}``)
  are kept, lose their hidden tests (``### BEGIN HIDDEN TESTS`` ...
  ``### END HIDDEN TESTS``), get the cell id ``id`` (dots become dashes) and the
  sha256 of their visible source, so grading can match them and spot edits;
- cells tagged ``solution-only`` (answer tables, instructor notes) are dropped;
- outputs and execution counts are stripped.

An exercise is the group of solution cells before a check cell; ``N`` is the
notebook's number and ``k`` counts exercises in the notebook. Writing is
idempotent (same input, same bytes) and atomic, mode 0644 (``rnncourse._io``).
"""

import copy
import hashlib
import re
import sys
from pathlib import Path

import nbformat

from rnncourse._io import write_text

__all__ = [
    "ReleaseError", "read_notebook", "check_spec", "strip_hidden_tests", "visible_sha256",
    "stub_solutions", "exercise_groups", "exercise_labels", "release_notebook", "notebook_number", "release",
    "add_arguments", "run",
]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
CHECK_TAG = "check"
SOLUTION_ONLY_TAG = "solution-only"
CHECK_ID = re.compile(r"^[a-z0-9][a-z0-9.-]{0,62}$")
NOTEBOOK_NAME = re.compile(r"^(\d{2})_[A-Za-z0-9_]+\.ipynb$")


class ReleaseError(ValueError):
    """A solution notebook breaks the one-source conventions."""


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """Read a notebook (nbformat 4), with a clear error when it is not one."""
    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several kinds for bad JSON
        raise ReleaseError(f"{path}: not a valid notebook (expected nbformat 4 JSON): "
                           f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc
    if "cells" not in nb:
        raise ReleaseError(f"{path}: not a valid notebook (no 'cells' list)")
    return nb


def check_spec(cell) -> dict | None:
    """The ``{"check": id, "points": p}`` metadata of a check cell, else None.

    A cell with the ``check`` tag but no valid id (or the reverse) is an error.
    """
    tagged = CHECK_TAG in cell.get("metadata", {}).get("tags", [])
    spec = cell.get("metadata", {}).get("rnncourse", {})
    if not tagged and "check" not in spec:
        return None
    where = f"check cell starting {cell.source[:40]!r}"
    if cell.cell_type != "code":
        raise ReleaseError(f"{where}: a check must be a code cell")
    if not tagged:
        raise ReleaseError(f"{where}: has a check id but lacks the tag {CHECK_TAG!r}")
    check_id = spec.get("check")
    if not isinstance(check_id, str) or not CHECK_ID.match(check_id):
        raise ReleaseError(f"{where}: expected metadata rnncourse.check to be an id like "
                           f"'03.bptt-grads' ([a-z0-9.-]), got {check_id!r}")
    points = spec.get("points", 1)
    if not isinstance(points, (int, float)) or isinstance(points, bool) or points < 0:
        raise ReleaseError(f"{where}: points must be a non-negative number, got {points!r}")
    return {"check": check_id, "points": points}


def _regions(source: str, begin: str, end: str) -> list[tuple[int, int]]:
    """(begin line, end line) pairs of balanced, unnested marker regions."""
    regions, start = [], None
    for n, line in enumerate(source.splitlines()):
        text = line.strip()
        if text.startswith(begin):
            if start is not None:
                raise ReleaseError(f"line {n + 1}: {begin!r} inside another region "
                                   f"opened at line {start + 1}")
            start = n
        elif text.startswith(end):
            if start is None:
                raise ReleaseError(f"line {n + 1}: {end!r} without a matching {begin!r}")
            regions.append((start, n))
            start = None
    if start is not None:
        raise ReleaseError(f"line {start + 1}: {begin!r} has no matching {end!r}")
    return regions


def _replace_regions(source: str, begin: str, end: str, replacement) -> str:
    """Replace each marker region by ``replacement(indent, begin_line)`` (a list of lines)."""
    lines = source.splitlines()
    out, last = [], 0
    for start, stop in _regions(source, begin, end):
        marker = lines[start]
        indent = marker[: len(marker) - len(marker.lstrip())]
        out += lines[last:start] + replacement(indent, marker.strip())
        last = stop + 1
    return "\n".join(out + lines[last:])


def strip_hidden_tests(source: str) -> str:
    """Remove the hidden-test regions (markers included) from a check cell."""
    return _replace_regions(source, BEGIN_HIDDEN, END_HIDDEN, lambda indent, marker: [])


def visible_sha256(source: str) -> str:
    """sha256 of a check cell's visible source (hidden tests removed)."""
    return hashlib.sha256(strip_hidden_tests(source).encode()).hexdigest()


def stub_solutions(source: str, label: str) -> str:
    """Replace each solution region by ``raise NotImplementedError("<label>: <hint>")``.

    The hint is the text after ``### BEGIN SOLUTION:``, if any.
    """
    def stub(indent, marker):
        hint = marker[len(BEGIN_SOLUTION):].lstrip(":").strip()
        message = f"{label}: {hint}" if hint else f"{label}: replace this line with your code"
        return [f"{indent}raise NotImplementedError({message!r})"]

    return _replace_regions(source, BEGIN_SOLUTION, END_SOLUTION, stub)


def _is_solution(cell) -> bool:
    return cell.cell_type == "code" and bool(_regions(cell.source, BEGIN_SOLUTION, END_SOLUTION))


def exercise_groups(nb) -> list[tuple[list[int], int]]:
    """``(solution cell indices, check cell index)`` per exercise, in order.

    Validates markers and check metadata; every exercise needs a check after it,
    and check ids must be unique.
    """
    groups, pending, seen = [], [], set()
    for index, cell in enumerate(nb.cells):
        try:
            spec = check_spec(cell)
            solution = _is_solution(cell)
            if cell.cell_type == "code":
                _regions(cell.source, BEGIN_HIDDEN, END_HIDDEN)
        except ReleaseError as exc:
            raise ReleaseError(f"cell {index}: {exc}") from None
        if spec and solution:
            raise ReleaseError(f"cell {index}: a check cell cannot hold solution markers")
        if spec:
            if spec["check"] in seen:
                raise ReleaseError(f"cell {index}: duplicate check id {spec['check']!r}")
            seen.add(spec["check"])
            if pending:
                groups.append((pending, index))
            pending = []
        elif solution:
            pending.append(index)
    if pending:
        raise ReleaseError(f"cell {pending[0]}: exercise has no check cell after it")
    return groups


def exercise_labels(nb, groups, number: int) -> list[str]:
    """"Exercise N.k" per exercise group, or "Question N.j" when its check id is ``NN.q-...``.

    Exercises and conceptual questions are counted separately, in notebook order.
    """
    labels, counts = [], {"Exercise": 0, "Question": 0}
    for _, check in groups:
        kind = "Question" if ".q-" in check_spec(nb.cells[check])["check"] else "Exercise"
        counts[kind] += 1
        labels.append(f"{kind} {number}.{counts[kind]}")
    return labels


def notebook_number(path: str | Path) -> int:
    """The ``NN`` of ``NN_name.ipynb``."""
    match = NOTEBOOK_NAME.match(Path(path).name)
    if not match:
        raise ReleaseError(f"{path}: expected a name like '03_bptt.ipynb'")
    return int(match.group(1))


def release_notebook(nb, number: int, drop_solution_only: bool = True) -> nbformat.NotebookNode:
    """The student version of solution notebook ``nb`` (``nb`` is not modified).

    ``drop_solution_only=False`` keeps the ``solution-only`` cells, so that cell
    indices match the solution notebook's (the tests use this).
    """
    groups = exercise_groups(nb)
    student = copy.deepcopy(nb)
    student.nbformat, student.nbformat_minor = 4, max(5, nb.get("nbformat_minor", 5))
    label = {i: text for cells, text in zip((cells for cells, _ in groups),
                                             exercise_labels(nb, groups, number)) for i in cells}
    for index, cell in enumerate(student.cells):
        cell.setdefault("id", f"cell-{index}")
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
        spec = check_spec(cell)
        if spec:
            cell.source = strip_hidden_tests(cell.source)
            cell.metadata["rnncourse"] = {**spec, "sha256": visible_sha256(cell.source)}
            cell.id = spec["check"].replace(".", "-")
        elif index in label:
            cell.source = stub_solutions(cell.source, label[index])
    if drop_solution_only:
        student.cells = [cell for cell in student.cells
                         if SOLUTION_ONLY_TAG not in cell.get("metadata", {}).get("tags", [])]
    nbformat.validate(student)
    return student


def release(solutions: str | Path = "solutions", lectures: str | Path = "lectures") -> list[Path]:
    """Write every ``solutions/NN_*.ipynb`` to ``lectures/``; return the files changed.

    All notebooks are validated before anything is written, so an error leaves
    ``lectures/`` untouched.
    """
    solutions, lectures = Path(solutions), Path(lectures)
    sources = sorted(solutions.glob("*.ipynb"))
    if not sources:
        raise ReleaseError(f"no notebooks found in {solutions}/")
    released, owner = {}, {}
    for path in sources:
        nb = read_notebook(path)
        try:
            student = release_notebook(nb, notebook_number(path))
        except ReleaseError as exc:
            raise ReleaseError(f"{path}: {exc}") from None
        for cell in student.cells:
            check = cell.metadata.get("rnncourse", {}).get("check")
            if check in owner:
                raise ReleaseError(f"{path}: check id {check!r} is also used in {owner[check]}")
            if check:
                owner[check] = path
        released[lectures / path.name] = nbformat.writes(student) + "\n"
    lectures.mkdir(parents=True, exist_ok=True)
    return [path for path, text in released.items() if write_text(path, text, if_changed=True)]


def add_arguments(parser) -> None:
    parser.add_argument("--solutions", default="solutions", help="source folder (default: solutions)")
    parser.add_argument("--lectures", default="lectures", help="output folder (default: lectures)")


def run(args) -> int:
    try:
        changed = release(args.solutions, args.lectures)
    except ReleaseError as exc:
        print(f"rnncourse release: error: {exc}", file=sys.stderr)
        return 1
    stale = sorted({p.name for p in Path(args.lectures).glob("*.ipynb")}
                   - {p.name for p in Path(args.solutions).glob("*.ipynb")})
    for name in changed:
        print(f"wrote {name}")
    print(f"{len(changed)} notebook(s) changed in {args.lectures}/")
    if stale:
        print(f"warning: {args.lectures}/ holds notebooks with no solution source: {stale}",
              file=sys.stderr)
    return 0
