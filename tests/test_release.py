"""The one-source pipeline: solutions/ -> lectures/."""

import hashlib

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from rnncourse.cli import main
from rnncourse.release import (ReleaseError, exercise_groups, read_notebook, release,
                               release_notebook, strip_hidden_tests, stub_solutions,
                               visible_sha256)

SOLVED = '''def step(h_prev, x_t):
    """One step."""
    ### BEGIN SOLUTION: compute h_t
    a = h_prev + x_t
    return a
    ### END SOLUTION
'''


def check_cell(source="assert step(1, 2) == 3", check_id="01.step", points=2):
    cell = new_code_cell(source)
    cell.metadata["tags"] = ["check"]
    cell.metadata["rnncourse"] = {"check": check_id, "points": points}
    return cell


def notebook(*cells):
    return new_notebook(cells=list(cells))


def write(folder, name, nb):
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)
    return folder / name


def test_stub_keeps_signature_and_indentation():
    stub = stub_solutions(SOLVED, "Exercise 1.1")
    assert stub.splitlines() == [
        "def step(h_prev, x_t):",
        '    """One step."""',
        "    raise NotImplementedError('Exercise 1.1: compute h_t')",
    ]


def test_stub_without_hint_says_what_to_do():
    stub = stub_solutions("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\nprint(x)", "Exercise 2.3")
    assert stub == "raise NotImplementedError('Exercise 2.3: replace this line with your code')\nprint(x)"


def test_stub_replaces_every_region_of_a_cell():
    source = "### BEGIN SOLUTION\na = 1\n### END SOLUTION\nb = 2\n### BEGIN SOLUTION\nc = 3\n### END SOLUTION"
    assert stub_solutions(source, "E").count("raise NotImplementedError") == 2
    assert "b = 2" in stub_solutions(source, "E")


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1\n", "has no matching"),
    ("x = 1\n### END SOLUTION\n", "without a matching"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another region"),
])
def test_unbalanced_markers_are_errors(source, message):
    with pytest.raises(ReleaseError, match=message):
        stub_solutions(source, "E")


def test_hidden_tests_are_removed_and_checksum_covers_visible_part():
    source = "assert a\n### BEGIN HIDDEN TESTS\nassert secret\n### END HIDDEN TESTS\nprint('ok')"
    assert strip_hidden_tests(source) == "assert a\nprint('ok')"
    assert visible_sha256(source) == hashlib.sha256(b"assert a\nprint('ok')").hexdigest()


def test_release_notebook_stubs_strips_and_annotates():
    solved = new_code_cell(SOLVED, execution_count=3, outputs=[nbformat.v4.new_output("stream", text="x")])
    check = check_cell("assert step(1, 2) == 3\n### BEGIN HIDDEN TESTS\nassert step(0, 0) == 0\n"
                       "### END HIDDEN TESTS")
    nb = notebook(new_markdown_cell("# Title"), solved, check)
    student = release_notebook(nb, 1)
    assert "raise NotImplementedError('Exercise 1.1: compute h_t')" in student.cells[1].source
    assert student.cells[1].outputs == [] and student.cells[1].execution_count is None
    assert student.cells[2].source == "assert step(1, 2) == 3"
    assert student.cells[2].id == "01-step"
    assert student.cells[2].metadata["rnncourse"] == {
        "check": "01.step", "points": 2, "sha256": visible_sha256("assert step(1, 2) == 3")}
    assert nb.cells[1].execution_count == 3, "the solution notebook must not be modified"


def test_exercises_are_numbered_per_check():
    nb = notebook(new_code_cell(SOLVED), new_code_cell(SOLVED), check_cell(check_id="01.a"),
                  new_code_cell(SOLVED), check_cell(check_id="01.b"))
    assert exercise_groups(nb) == [([0, 1], 2), ([3], 4)]
    student = release_notebook(nb, 7)
    assert "Exercise 7.1" in student.cells[0].source and "Exercise 7.1" in student.cells[1].source
    assert "Exercise 7.2" in student.cells[3].source


@pytest.mark.parametrize("cells, message", [
    ([new_code_cell(SOLVED)], "no check cell after it"),
    ([new_code_cell(SOLVED), check_cell(), new_code_cell(SOLVED), check_cell()], "duplicate check id"),
    ([new_code_cell(SOLVED), check_cell(check_id=None)], "expected metadata rnncourse.check"),
    ([new_code_cell(SOLVED), check_cell(check_id="Bad Id")], "expected metadata rnncourse.check"),
    ([new_code_cell(SOLVED), check_cell(points=-1)], "points must be"),
])
def test_bad_exercise_structure_is_an_error(cells, message):
    with pytest.raises(ReleaseError, match=message):
        release_notebook(notebook(*cells), 1)


def test_check_id_without_tag_is_an_error():
    cell = check_cell()
    cell.metadata["tags"] = []
    with pytest.raises(ReleaseError, match="lacks the tag"):
        exercise_groups(notebook(new_code_cell(SOLVED), cell))


def test_invalid_json_is_a_clear_error(tmp_path):
    path = tmp_path / "01_broken.ipynb"
    path.write_text("{not json")
    with pytest.raises(ReleaseError, match="01_broken.ipynb: not a valid notebook"):
        read_notebook(path)


def test_release_is_idempotent(tmp_path):
    write(tmp_path / "solutions", "01_a.ipynb", notebook(new_code_cell(SOLVED), check_cell()))
    first = release(tmp_path / "solutions", tmp_path / "lectures")
    content = (tmp_path / "lectures" / "01_a.ipynb").read_bytes()
    assert [p.name for p in first] == ["01_a.ipynb"]
    assert release(tmp_path / "solutions", tmp_path / "lectures") == []
    assert (tmp_path / "lectures" / "01_a.ipynb").read_bytes() == content
    assert [p.name for p in (tmp_path / "lectures").iterdir()] == ["01_a.ipynb"], "temp file left"


def test_release_writes_world_readable_notebooks(tmp_path):
    """On a shared JupyterHub students read lectures/ as other users: mode 0644."""
    write(tmp_path / "solutions", "01_a.ipynb", notebook(new_code_cell(SOLVED), check_cell()))
    release(tmp_path / "solutions", tmp_path / "lectures")
    assert (tmp_path / "lectures" / "01_a.ipynb").stat().st_mode & 0o777 == 0o644


def test_one_bad_notebook_writes_nothing(tmp_path):
    write(tmp_path / "solutions", "01_good.ipynb", notebook(new_code_cell(SOLVED), check_cell()))
    write(tmp_path / "solutions", "02_bad.ipynb", notebook(new_code_cell(SOLVED)))
    with pytest.raises(ReleaseError, match="02_bad.ipynb"):
        release(tmp_path / "solutions", tmp_path / "lectures")
    assert not (tmp_path / "lectures").exists()


def test_check_ids_are_unique_across_the_course(tmp_path):
    for name in ("01_a.ipynb", "02_b.ipynb"):
        write(tmp_path / "solutions", name, notebook(new_code_cell(SOLVED), check_cell()))
    with pytest.raises(ReleaseError, match="also used in"):
        release(tmp_path / "solutions", tmp_path / "lectures")


def test_notebook_names_must_be_numbered(tmp_path):
    write(tmp_path / "solutions", "intro.ipynb", notebook())
    with pytest.raises(ReleaseError, match="expected a name like"):
        release(tmp_path / "solutions", tmp_path / "lectures")


def test_cli_reports_errors_without_traceback(tmp_path, capsys):
    write(tmp_path / "solutions", "01_bad.ipynb", notebook(new_code_cell("### BEGIN SOLUTION")))
    code = main(["release", "--solutions", str(tmp_path / "solutions"),
                 "--lectures", str(tmp_path / "lectures")])
    assert code == 1
    captured = capsys.readouterr()
    assert "has no matching" in captured.err and "Traceback" not in captured.err
    assert not captured.out
