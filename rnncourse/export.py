"""``rnncourse export nbgrader DEST``: the course as an nbgrader course folder.

Universities that grade notebooks at scale mostly run JupyterHub with nbgrader.
This writes, from ``solutions/``, what an nbgrader instructor starts from:

- ``DEST/source/NN_name/NN_name.ipynb``, one assignment per notebook, where
  - each exercise cell (``### BEGIN SOLUTION`` ... ``### END SOLUTION``, the same
    markers nbgrader uses) becomes an nbgrader solution cell, grade id
    ``<check>-solution`` (``-2``, ``-3`` ... when an exercise has several cells);
  - each check cell (metadata ``{"rnncourse": {"check": id, "points": p}}``)
    becomes a locked autograder test cell worth ``p`` points, grade id the check
    id with dashes for dots (``01.fsm`` -> ``01-fsm``, the cell id ``release``
    gives it too); its hidden tests keep their ``### BEGIN HIDDEN TESTS`` markers,
    which are nbgrader's;
  - markdown cells (the instructions) are locked read-only cells; other code cells
    stay free, as in the student notebooks; ``solution-only`` cells are left out;
- ``DEST/nbgrader_config.py`` (course id, cell time limit),
  ``DEST/requirements.txt`` (the ``rnncourse`` package, which every notebook
  imports: install it in the JupyterHub image and where ``nbgrader autograde`` runs)
  and ``DEST/README.md`` (the nbgrader commands).

Every notebook is validated (``release``'s rules) before anything is written, so
a malformed one gives one clear error and leaves ``DEST`` as it was; files are
written atomically and only when they change, so a second export changes nothing.
"""

import copy
import sys
from pathlib import Path

import nbformat

from rnncourse import __version__
from rnncourse._io import write_text
from rnncourse.release import (
    SOLUTION_ONLY_TAG, ReleaseError, check_spec, exercise_groups, notebook_number, read_notebook,
)

__all__ = ["FORMATS", "grade_id", "nbgrader_notebook", "export_nbgrader", "add_arguments", "run"]

FORMATS = ("nbgrader",)
SCHEMA_VERSION = 3
CELL_TIMEOUT_S = 300

CONFIG = '''\
# nbgrader configuration written by `rnncourse export nbgrader` (rnncourse {version}).
c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.course_id = {course!r}
# a cell may train a small model: allow it more than nbgrader's default 30 s
c.Execute.timeout = {timeout}
'''

README = '''\
# {course}: nbgrader course folder

Written by `rnncourse export nbgrader` from the course's `solutions/` (rnncourse
{version}); do not edit `source/` here, edit the solutions and export again.

Every notebook imports the `rnncourse` helper package: install it (see
`requirements.txt`) in the image students use and where you autograde.

    nbgrader generate_assignment 01_toy_rnns     # release/01_toy_rnns/: the student version
    nbgrader autograde 01_toy_rnns --create      # grade submitted/<student>/01_toy_rnns/
    nbgrader export                              # grades.csv

Exercise cells are solution cells, check cells are autograder tests (their
points and grade ids come from the course's check metadata; hidden tests stay
hidden), instructions are read-only.
'''


def grade_id(check: str) -> str:
    """nbgrader grade id of a check: ``01.fsm`` -> ``01-fsm`` (also its cell id)."""
    return check.replace(".", "-")


def _nbgrader(cell, gid: str, *, solution=False, grade=False, locked=False, points=None) -> None:
    meta = {"grade": grade, "grade_id": gid, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta


def nbgrader_notebook(nb) -> nbformat.NotebookNode:
    """The nbgrader source version of solution notebook ``nb`` (not modified)."""
    groups = exercise_groups(nb)  # validates markers, check metadata, unique ids
    owner = {}
    for cells, check in groups:
        gid = grade_id(check_spec(nb.cells[check])["check"])
        for k, index in enumerate(cells, 1):
            owner[index] = f"{gid}-solution" + (f"-{k}" if k > 1 else "")
    out = copy.deepcopy(nb)
    out.nbformat, out.nbformat_minor = 4, max(5, nb.get("nbformat_minor", 5))
    kept = []
    for index, cell in enumerate(out.cells):
        if SOLUTION_ONLY_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        cell.setdefault("id", f"cell-{index}")
        cell.metadata.pop("rnncourse", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
        spec = check_spec(nb.cells[index])
        if spec:
            cell.id = grade_id(spec["check"])
            _nbgrader(cell, cell.id, grade=True, locked=True, points=spec["points"])
        elif index in owner:
            _nbgrader(cell, owner[index], solution=True)
        elif cell.cell_type == "markdown":
            _nbgrader(cell, f"md-{cell.id}", locked=True)
        kept.append(cell)
    out.cells = kept
    nbformat.validate(out)
    return out


def export_nbgrader(dest: str | Path, solutions: str | Path = "solutions",
                    only: list[str] | None = None, course: str = "rnncourse") -> list[Path]:
    """Write the nbgrader course folder ``dest``; return the files that changed."""
    solutions, dest = Path(solutions), Path(dest)
    sources = sorted(solutions.glob("*.ipynb"))
    if only:
        wanted = {name.removesuffix(".ipynb") for name in only}
        unknown = sorted(wanted - {p.stem for p in sources})
        if unknown:
            raise ReleaseError(f"no notebook {', '.join(unknown)} in {solutions}/")
        sources = [p for p in sources if p.stem in wanted]
    if not sources:
        raise ReleaseError(f"no notebooks found in {solutions}/")
    files = {}
    for path in sources:
        notebook_number(path)  # these two name the file in their errors
        nb = read_notebook(path)
        try:
            converted = nbgrader_notebook(nb)
        except ReleaseError as exc:
            raise ReleaseError(f"{path}: {exc}") from None
        files[dest / "source" / path.stem / path.name] = nbformat.writes(converted) + "\n"
    files[dest / "nbgrader_config.py"] = CONFIG.format(version=__version__, course=course,
                                                        timeout=CELL_TIMEOUT_S)
    files[dest / "requirements.txt"] = f"# the course's helper package, imported by every notebook\nrnncourse=={__version__}\n"
    files[dest / "README.md"] = README.format(version=__version__, course=course)
    return [path for path, text in files.items() if write_text(path, text, if_changed=True)]


def add_arguments(parser) -> None:
    parser.add_argument("format", choices=FORMATS, help="the grading system to export for")
    parser.add_argument("dest", help="the course folder to write (created if missing)")
    parser.add_argument("--solutions", default="solutions", help="source folder (default: solutions)")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="export only these notebooks (stems, e.g. 01_toy_rnns)")
    parser.add_argument("--course", default="rnncourse", help="nbgrader course id (default: rnncourse)")


def run(args) -> int:
    try:
        changed = export_nbgrader(args.dest, args.solutions, args.only, args.course)
    except ReleaseError as exc:
        print(f"rnncourse export: error: {exc}", file=sys.stderr)
        return 1
    for path in changed:
        print(f"wrote {path}")
    print(f"{len(changed)} file(s) changed in {args.dest}/")
    return 0
