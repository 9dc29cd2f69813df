"""Every check of every solution notebook is exercised by a test of the checks (issue 23).

A check id (the ``rnncourse`` cell metadata, e.g. ``12.ctc-forward``) must appear as a
string literal in some ``tests/test_checks_NN.py``, the file that runs that check against
correct alternative answers and plausible wrong ones. A new check without such a test
fails here, naming the notebook and the id.
"""

import ast
from pathlib import Path

import pytest

from rnncourse.release import check_spec, read_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


def _string_literals(path: Path) -> set:
    return {node.value for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def _tested_ids() -> set:
    literals = set()
    for path in (ROOT / "tests").glob("test_checks_*.py"):
        literals |= _string_literals(path)
    return literals


def test_there_are_notebooks_and_check_tests():
    assert NOTEBOOKS, "no solution notebooks found"
    assert list((ROOT / "tests").glob("test_checks_*.py")), "no tests/test_checks_*.py found"


def test_a_comment_or_an_unknown_id_does_not_count(tmp_path):
    sample = tmp_path / "test_checks_99.py"
    sample.write_text('# 99.in-a-comment\nID = "99.tested"\n', encoding="utf-8")
    assert _string_literals(sample) == {"99.tested"}
    assert "99.untested" not in _tested_ids()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_check_has_a_test(notebook):
    ids = [check_spec(cell)["check"] for cell in read_notebook(notebook).cells if check_spec(cell)]
    literals = _tested_ids()
    missing = [i for i in ids if i not in literals]
    assert not missing, (f"{notebook.name}: checks {missing} have no test; add correct alternatives (must pass) "
                         f"and plausible wrong answers (must fail) to tests/test_checks_{notebook.stem[:2]}.py "
                         "(see tests/check_harness.py)")
