"""The graded copy of a submission: the student's cells with the instructor's checks.

A student may edit, delete or move a check cell, or add nbval markers to dodge it.
The graded copy undoes all of that without touching the submission file:

- outputs and execution counts are cleared;
- every copy of a check the student kept is dropped, and the instructor's canonical
  check (hidden tests included, from ``solutions/NAME.ipynb``) is put where the
  check belongs: where the student kept it if it still sits between the cells that
  surround it in the canonical notebook, otherwise just before the student's cell
  that corresponds to the canonical cell following the check (so any cells the
  student added after the exercise run first);
- nbval comment markers (``# NBVAL_SKIP`` ...) and tags (``nbval-skip``,
  ``raises-exception`` ...) are stripped from every student cell.

Student cells are matched to canonical ones by cell id (Jupyter keeps ids), then
by identical source, then, when nothing matched at all, by position. Each check is
reported with its tampering flags: ``edited`` (visible source differs from the
release), ``deleted``, ``moved`` and ``markers``.
"""

import copy
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbval.plugin import comment_markers, metadata_tags

from rnncourse.release import (
    ReleaseError, check_spec, notebook_number, read_notebook, release_notebook, visible_sha256,
)

__all__ = [
    "Check", "Assignment", "Prepared", "load_assignment", "strip_markers",
    "prepare_submission", "find_submissions",
]

MARKER_PLACEHOLDER = "# (nbval marker removed by the grader)"


@dataclass(frozen=True)
class Check:
    """One canonical check cell: id, points, sha256 of its released source."""

    id: str
    points: float
    sha256: str
    cell: nbformat.NotebookNode  # with hidden tests


@dataclass
class Assignment:
    """The canonical notebook of an assignment and its checks, in order."""

    name: str
    notebook: nbformat.NotebookNode
    checks: list[Check]

    @property
    def points(self) -> float:
        return sum(check.points for check in self.checks)


@dataclass
class Prepared:
    """A graded copy and what it took to make it.

    ``origins`` gives, per code cell of ``notebook`` (nbval's ``Cell N``), either
    ``("check", id)`` or ``("student", k)`` with ``k`` the 1-based position of the
    cell in the submission. ``flags`` maps check id to its tampering flags.
    """

    notebook: nbformat.NotebookNode
    origins: list[tuple[str, object]]
    flags: dict[str, list[str]]
    markers_stripped: int = 0
    foreign: str | None = None  # why this is not a submission for the assignment


def load_assignment(solutions: str | Path, name: str) -> Assignment:
    """Read ``solutions/NAME.ipynb`` and its released check checksums."""
    path = Path(solutions) / f"{name.removesuffix('.ipynb')}.ipynb"
    if not path.is_file():
        raise ReleaseError(f"no canonical notebook {path} (expected --assignment to be a "
                           f"notebook stem in {solutions}/, like '01_toy_rnns')")
    notebook = read_notebook(path)
    released = release_notebook(notebook, notebook_number(path))
    checks = []
    for cell, student_cell in zip(notebook.cells, released.cells):
        spec = check_spec(cell)
        if spec:
            sha = student_cell.metadata["rnncourse"]["sha256"]
            checks.append(Check(spec["check"], spec["points"], sha, cell))
    if not checks:
        raise ReleaseError(f"{path} has no check cells: nothing to grade")
    return Assignment(path.stem, notebook, checks)


def strip_markers(cell) -> bool:
    """Remove nbval comment markers and tags from ``cell`` in place; True if any."""
    found = False
    tags = cell.get("metadata", {}).get("tags")
    if isinstance(tags, list):
        kept = [tag for tag in tags if tag not in metadata_tags]
        found = len(kept) != len(tags)
        cell.metadata["tags"] = kept
    if cell.get("cell_type") == "code":
        lines = cell.source.split("\n")
        for n, line in enumerate(lines):
            text = line.strip()
            if text.startswith("#") and text.lstrip("#").strip() in comment_markers:
                indent = line[: len(line) - len(text.lstrip())]
                lines[n] = indent + MARKER_PLACEHOLDER
                found = True
        cell.source = "\n".join(lines)
    return found


def _claimed_check(cell, known: dict[str, str]) -> str | None:
    """The check id a student cell claims to be a copy of (metadata or cell id)."""
    spec = cell.get("metadata", {}).get("rnncourse")
    if isinstance(spec, dict) and isinstance(spec.get("check"), str):
        return spec["check"]
    return known.get(cell.get("id"))


def _match(canonical: list, body: list) -> dict[int, int]:
    """Canonical non-check cell index -> student cell index (by id, source, position)."""
    ids = {}
    for j, cell in enumerate(body):
        ids.setdefault(cell.get("id"), []).append(j)
    matched, used = {}, set()
    for i, cell in enumerate(canonical):
        hits = ids.get(cell.get("id"), [])
        if cell.get("id") and len(hits) == 1 and body[hits[0]].cell_type == cell.cell_type:
            matched[i] = hits[0]
            used.add(hits[0])
    for i, cell in enumerate(canonical):
        if i in matched:
            continue
        after = max((j for k, j in matched.items() if k < i), default=-1)
        for j in range(after + 1, len(body)):
            if j not in used and body[j].cell_type == cell.cell_type and body[j].source == cell.source:
                matched[i] = j
                used.add(j)
                break
    if not matched:
        matched = {i: i for i in range(min(len(canonical), len(body)))}
    return matched


def _split(cells: list, slugs: dict[str, str], checks: dict[str, Check]):
    """The student's own cells as ``(position, cell)``, their copies of checks as
    ``{id: [(gap, cell)]}`` (gap: how many own cells precede the copy), and the ids
    of checks of other assignments they claim."""
    body, copies, elsewhere = [], {}, set()
    for position, cell in enumerate(copy.deepcopy(cells), 1):
        claim = _claimed_check(cell, slugs)
        if claim in checks:
            copies.setdefault(claim, []).append((len(body), cell))
        else:
            if claim is not None:
                elsewhere.add(claim)
            body.append((position, cell))
    return body, copies, elsewhere


def _flags(check: Check, copies: list, low: int, high: int) -> tuple[list[str], int]:
    """Tampering flags of one check and the gap it goes in, between ``low`` and ``high``."""
    if not copies:
        return ["deleted"], high
    flags = []
    if any(cell.cell_type != "code" or visible_sha256(cell.source) != check.sha256
           for _, cell in copies):
        flags.append("edited")
    gap = copies[0][0]
    if not low <= gap <= high:
        flags.append("moved")
        gap = high
    if any([strip_markers(cell) for _, cell in copies]):
        flags.append("markers")
    return flags, gap


def prepare_submission(submission: nbformat.NotebookNode, assignment: Assignment) -> Prepared:
    """The graded copy of ``submission`` (which is left unchanged)."""
    checks = {check.id: check for check in assignment.checks}
    body, copies, elsewhere = _split(submission.cells, {c.replace(".", "-"): c for c in checks}, checks)
    foreign = None
    if elsewhere and not copies:
        foreign = (f"not a notebook for {assignment.name}: it holds none of its checks "
                   f"but holds {', '.join(sorted(elsewhere))}")

    # Each check goes in a gap of the student's cells: after the cell matching the
    # canonical cell before it (low), at the latest before the one matching the
    # canonical cell after it (high).
    canonical = assignment.notebook.cells
    plain = [i for i, cell in enumerate(canonical) if check_spec(cell) is None]
    matched = _match([canonical[i] for i in plain], [cell for _, cell in body])
    flags, gaps = {}, {}
    for index, cell in enumerate(canonical):
        spec = check_spec(cell)
        if spec is None:
            continue
        before = [matched[n] for n, i in enumerate(plain) if i < index and n in matched]
        after = [matched[n] for n, i in enumerate(plain) if i > index and n in matched]
        low = before[-1] + 1 if before else 0
        high = max(after[0] if after else len(body), low)
        check_id = spec["check"]
        flags[check_id], gaps[check_id] = _flags(checks[check_id], copies.get(check_id, []), low, high)

    stripped = sum(strip_markers(cell) for _, cell in body)
    cells, origins = [], []
    for gap in range(len(body) + 1):
        for check in assignment.checks:
            if gaps[check.id] == gap:
                cell = copy.deepcopy(check.cell)
                cell.id = check.id.replace(".", "-")
                cells.append(cell)
                origins.append(("check", check.id))
        if gap < len(body):
            position, cell = body[gap]
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
                origins.append(("student", position))
            cells.append(cell)
    notebook = nbformat.v4.new_notebook(metadata=copy.deepcopy(assignment.notebook.metadata))
    notebook.cells = cells
    _unique_ids(notebook)
    return Prepared(notebook, origins, flags, stripped, foreign)


def _unique_ids(notebook) -> None:
    """Give every cell a unique id (students can duplicate them by copy-paste)."""
    seen = set()
    for n, cell in enumerate(notebook.cells):
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or cell_id in seen:
            cell_id = f"graded-{n}"
        cell.id = cell_id
        seen.add(cell_id)


def find_submissions(paths: list[str | Path], assignment: str) -> dict[str, Path]:
    """Student name -> submission file, from files and folders of notebooks.

    ``alice.ipynb`` in a folder is student ``alice``; ``alice/NAME.ipynb`` (a folder
    per student, the notebook named after the assignment) is student ``alice`` too.
    """
    found = {}
    for root in map(Path, paths):
        if root.is_file():
            candidates = [(root.stem, root)]
        elif root.is_dir():
            candidates = [(p.stem, p) for p in sorted(root.glob("*.ipynb"))]
            for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
                for p in sorted(sub.glob("*.ipynb")):
                    name = sub.name if p.stem == assignment else f"{sub.name}/{p.stem}"
                    candidates.append((name, p))
        else:
            raise FileNotFoundError(f"no submission file or folder {root}")
        for name, path in candidates:
            if name in found and found[name] != path:
                raise ValueError(f"two submissions for student {name!r}: {found[name]} and {path}")
            found[name] = path
    return found
