"""Run notebook check cells against answers of our choosing (tests of the checks).

Two ways, for two kinds of check:

- ``run_check("14_beyond", "14.sampling-bias", biased_mixture=alt)`` executes the solution
notebook's first code cell (its imports), then the named check cell, hidden tests
included, with the given names bound in the namespace. It returns normally when the
check accepts the answer and raises the check's AssertionError when it does not, so a
test can assert both that correct alternatives pass and that plausible slips fail.
- ``run_notebook_check(stem, check_id, body)``: every code cell up to the check, the
exercise's (single) solution region replaced by ``body``.
- ``run_exercise(stem, check_id, replacements)``: the code cells before the exercise run
once per exercise (cached), then the exercise's cells with ``replacements`` for the
solution regions of its first cell (``replace_regions``), then the check.
- ``run_after_solutions(stem, setup, check_id, source, name)``: the imports, every
solution cell and helper definition (``solutions_source``, no demos, no training), then
``source`` defining ``name``, then the check.
- ``assert_question``: a conceptual question's key passes, every other option fails.
"""

import functools
import os
import textwrap
from pathlib import Path

import matplotlib
import matplotlib.pyplot
import pytest

from rnncourse.release import BEGIN_SOLUTION, END_SOLUTION, check_spec, exercise_groups, read_notebook

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


def runnable(source: str) -> str:
    """Drop IPython magics (``%matplotlib inline``) so plain ``exec`` can run a cell."""
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%"))


def replace_regions(source: str, replacements: list) -> str:
    """``source`` with its solution regions replaced, in order, by ``replacements`` (one
    per region, ``None``: keep the solution), each indented like its markers."""
    lines, out, region, inside = source.splitlines(), [], 0, False
    for line in lines:
        text = line.strip()
        if text.startswith(BEGIN_SOLUTION):
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            new = replacements[region]
            keep = new is None
        elif text.startswith(END_SOLUTION):
            if not keep:
                out += textwrap.indent(new, indent).splitlines()
            inside, region = False, region + 1
        elif not inside or keep:
            out.append(line)
    assert region == len(replacements), f"{region} solution regions, {len(replacements)} replacements"
    return "\n".join(out)


def notebook_cells(stem: str):
    return solution_notebook(stem).cells


def check_source(stem: str, check_id: str) -> str:
    for cell in notebook_cells(stem):
        spec = check_spec(cell)
        if spec and spec["check"] == check_id:
            return cell.source
    raise KeyError(f"{stem}: no check cell with id {check_id!r}")


def run_check(stem: str, check_id: str, setup: str = "", **names) -> dict:
    """Execute the imports cell, ``setup`` code, then the check with ``names`` bound."""
    first_code = runnable(next(c.source for c in notebook_cells(stem) if c.cell_type == "code"))
    namespace: dict = {"__name__": "__check__"}
    exec(compile(first_code, f"{stem}[imports]", "exec"), namespace)
    if setup:
        exec(compile(setup, f"{stem}[setup]", "exec"), namespace)
    namespace.update(names)
    exec(compile(check_source(stem, check_id), f"{stem}[{check_id}]", "exec"), namespace)
    return namespace


_NOTEBOOKS: dict = {}


def solution_notebook(name: str):
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
    nb = solution_notebook(name)
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
            source = runnable(source)
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
    """A conceptual question's check (imports and the check cell only) accepts ``key`` in
    upper case, rejects every other option as not right and ``outside`` as not one of the
    options (``assert_question``)."""
    assert_question(lambda check, source: run_check(stem, check, setup=source), check_id, name,
                    key, key.upper(), options, outside)


def exercise_cells(stem: str, check_id: str) -> tuple[list[int], int]:
    """The indices of the exercise's solution cells and of its check cell."""
    nb = solution_notebook(stem)
    for cells, check in exercise_groups(nb):
        if check_spec(nb.cells[check])["check"] == check_id:
            return cells, check
    raise KeyError(f"{stem}: no check cell with id {check_id!r}")


def check_cells(stem: str) -> dict:
    """Check id -> index of its cell, for every exercise's check of the notebook."""
    nb = solution_notebook(stem)
    return {check_spec(nb.cells[check])["check"]: check for _, check in exercise_groups(nb)}


_PREFIXES: dict = {}


def run_exercise(stem: str, check_id: str, replacements: list, raises=None) -> dict:
    """Run exercise ``check_id`` of solutions/``stem`` with ``replacements`` for the solution
    regions of its first cell, the rest of its cells, then its check (in solutions/,
    figures closed after). The namespace after the code cells before the exercise is made
    once per exercise and copied for every run. With ``raises`` (an exception type) the
    check, and only the check, must raise it; otherwise the check's exception propagates."""
    nb = solution_notebook(stem)
    cells, check = exercise_cells(stem, check_id)
    tag = stem[:2]
    cwd = os.getcwd()
    os.chdir(ROOT / "solutions")
    try:
        if (stem, check_id) not in _PREFIXES:
            os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
            prefix: dict = {}
            for index in range(cells[0]):
                if nb.cells[index].cell_type == "code":
                    exec(compile(runnable(nb.cells[index].source), f"{tag}[{index}]", "exec"), prefix)
            _PREFIXES[stem, check_id] = prefix
        namespace = dict(_PREFIXES[stem, check_id])
        for index in range(cells[0], check):
            cell = nb.cells[index]
            if cell.cell_type != "code":
                continue
            source = replace_regions(cell.source, replacements) if index == cells[0] else cell.source
            exec(compile(runnable(source), f"{tag}[{index}]", "exec"), namespace)
        code = compile(runnable(nb.cells[check].source), f"{tag}[{check}] check", "exec")
        if raises is None:
            exec(code, namespace)
        else:
            with pytest.raises(raises):
                exec(code, namespace)
    finally:
        os.chdir(cwd)
        matplotlib.pyplot.close("all")
    return namespace


@functools.cache
def solutions_source(stem: str, helpers: tuple = ()) -> str:
    """Every solution cell (all exercises' answers) and every code cell holding one of the
    ``helpers`` (e.g. ``"class LSTMCache"``), joined: the notebook's definitions, no demos."""
    nb = solution_notebook(stem)
    solution_cells = {i for cells, _ in exercise_groups(nb) for i in cells}
    return "\n\n".join(cell.source for index, cell in enumerate(nb.cells)
                       if cell.cell_type == "code" and (index in solution_cells
                                                        or any(h in cell.source for h in helpers)))


def run_after_solutions(stem: str, setup: str, check_id: str, source: str, name: str,
                        message: str | None = None) -> None:
    """Run check ``check_id`` after the imports, ``setup`` (``solutions_source``) and
    ``source``, which must define ``name``. With ``message``, the check must fail and its
    error must contain ``message`` ("" for any message)."""
    assert f"def {name}" in source or f"{name} =" in source
    if message is None:
        run_check(stem, check_id, setup=setup + "\n\n" + source)
        return
    with pytest.raises(Exception) as info:
        run_check(stem, check_id, setup=setup + "\n\n" + source)
    assert message in str(info.value), f"message {str(info.value)!r} lacks {message!r}"


def assert_question(run, check_id: str, name: str, key: str, spelled: str, options: str = "abcd",
                    outside: str | None = None, wrong_message: str = "is not right") -> None:
    """A conceptual question's check accepts ``key`` written as ``spelled``, rejects every
    other option with ``wrong_message`` and ``outside`` (if given) as not one of the
    options; ``run(check_id, source)`` runs the check with ``source`` setting ``name``."""
    run(check_id, f"{name} = {spelled!r}")
    for wrong in sorted(set(options) - {key}):
        with pytest.raises(AssertionError, match=wrong_message):
            run(check_id, f"{name} = {wrong!r}")
    if outside is not None:
        with pytest.raises(AssertionError, match="must be one of"):
            run(check_id, f"{name} = {outside!r}")


def after_solutions(stem: str, helpers: tuple = ()):
    """What a test file needs whose checks run after the notebook's definitions: a module
    fixture ``base`` (``solutions_source``), ``run_check(base, check_id, source, name)``,
    ``fails(base, check_id, source, name, message=None)`` and ``check_cells()``."""
    @pytest.fixture(scope="module", name="base")
    def base():
        return solutions_source(stem, tuple(helpers))

    def run(base, check_id, source, name):
        run_after_solutions(stem, base, check_id, source, name)

    def fails(base, check_id, source, name, message=None):
        run_after_solutions(stem, base, check_id, source, name, message or "")

    return base, run, fails, functools.partial(check_cells, stem)


def labelled(cases: dict, kind: str) -> list:
    """``(check id, label)`` of every ``kind`` ("correct" or "wrong") answer in ``cases``
    (``{check id: {"correct": {label: body}, "wrong": {label: ...}}}``), for parametrize."""
    return [(check_id, label) for check_id, case in cases.items() for label in case[kind]]


def case_tests(check, cases: dict, message_for=None):
    """The two tests of a ``cases`` table (``{check id: {"correct": {label: body}, "wrong":
    {label: (body, message) or body}}}``) run by ``check(check_id, body)``: every correct
    alternative passes; every slip fails with an AssertionError matching its message
    (``message_for(check_id, label)`` for a bare body). Assign them to ``test_`` names."""
    @pytest.mark.parametrize("check_id,label", labelled(cases, "correct"))
    def test_a_correct_alternative_passes(check_id, label):
        check(check_id, cases[check_id]["correct"][label])

    @pytest.mark.parametrize("check_id,label", labelled(cases, "wrong"))
    def test_a_slip_fails_with_a_message_naming_it(check_id, label):
        wrong = cases[check_id]["wrong"][label]
        body, message = wrong if isinstance(wrong, tuple) else (wrong, message_for(check_id, label))
        with pytest.raises(AssertionError, match=message):
            check(check_id, body)

    return test_a_correct_alternative_passes, test_a_slip_fails_with_a_message_naming_it


def question_test(run_check, questions: dict):
    """The question test of an ``after_solutions`` file (``run_check(base, check_id, source,
    name)``): for every ``{check id: (name, key)}`` of ``questions``, ``assert_question`` with
    the key in upper case and "e" outside the options. Assign it to a ``test_`` name."""
    @pytest.mark.parametrize("check_id", sorted(questions))
    def test_questions_accept_the_key_in_any_case_and_reject_the_others(base, check_id):
        name, key = questions[check_id]
        assert_question(lambda check, source: run_check(base, check, source, name), check_id, name,
                        key, key.upper(), outside="e")

    return test_questions_accept_the_key_in_any_case_and_reject_the_others
