"""Course conventions a reader relies on, checked on every solution notebook.

- Measured numbers are printed by code, never typed into markdown prose: decimals,
  percentages and speed-ups ("0.94", "71.6%", "6.9x") outside `code`, $math$ and
  links fail, except exercise labels of the notebook itself ("Exercise 6.1").
  Constants belong in code or math (`lr=0.1`, $b_f = 1$).
- No leaks: no line of a solution region appears in the student notebook, and
  cells tagged ``solution-only`` never reach ``lectures/``.
"""

import re
from pathlib import Path

import pytest

from rnncourse.release import (BEGIN_SOLUTION, END_SOLUTION, SOLUTION_ONLY_TAG, notebook_number,
                               read_notebook)

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
LECTURES = ROOT / "lectures"
BOILERPLATE = {"with torch.no_grad():", "with torch.inference_mode():"}

MASKS = [
    re.compile(r"\$\$.*?\$\$", re.S),            # display math
    re.compile(r"\$[^$\n]+\$"),                   # inline math
    re.compile(r"```.*?```", re.S),               # fenced code
    re.compile(r"`[^`\n]+`"),                     # inline code
    re.compile(r"\]\([^)]*\)"),                   # link targets
    re.compile(r"https?://\S+"),                  # bare URLs
    re.compile(r"<[^>\n]+>"),                     # HTML tags and their attributes
    re.compile(r"\b(?:arXiv:?|doi:?)\s*\S+", re.I),  # identifiers of papers
    re.compile(r"\bPython\s+\d+(?:\.\d+)+"),      # Python versions
]
MEASUREMENT = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?\s?%"                # 71.6%, 50 %
    r"|\d+(?:\.\d+)?\s?[x×](?![\w])"               # 6.9x, 8×
    r"|\d*\.\d+(?![\w.]))")                         # 0.94, 1.82, .5


def prose_numbers(text: str, number: int) -> list[str]:
    """Numbers in markdown ``text`` that look like measurements."""
    for mask in MASKS:
        text = mask.sub(" ", text)
    found = []
    for match in MEASUREMENT.finditer(text):
        token = match.group(1)
        label = re.fullmatch(r"(\d+)\.\d{1,2}", token)
        if label and int(label.group(1)) == number:
            continue  # "Exercise 6.1", "Question 6.2": this notebook's own labels
        found.append(token)
    return found


def by_stem(paths):
    return pytest.mark.parametrize("path", paths, ids=[p.stem for p in paths])


def test_prose_number_detector():
    assert prose_numbers("the loss falls to 1.82 nats", 8) == ["1.82"]
    assert prose_numbers("71.6% exact, 6.9x faster, 15× more", 11) == ["71.6%", "6.9x", "15×"]
    assert prose_numbers("Exercise 6.1 and `lr=0.1` and $b_f = 1.0$", 6) == []
    assert prose_numbers("see [the paper](https://arxiv.org/abs/1503.04069v2)", 7) == []
    assert prose_numbers("Exercise 6.1 is in notebook 6", 7) == ["6.1"]
    assert prose_numbers("3 layers, 2014, 256 units", 1) == []


@by_stem(SOLUTIONS)
def test_no_measured_numbers_typed_into_markdown(path):
    nb = read_notebook(path)
    number = notebook_number(path)
    bad = [(i, token) for i, cell in enumerate(nb.cells) if cell.cell_type == "markdown"
           for token in prose_numbers(cell.source, number)]
    assert not bad, (f"{path.name}: numbers typed into markdown (print them from code, or put "
                     f"constants in `code`/$math$): {bad}")


def solution_lines(source: str) -> list[str]:
    """The non-trivial lines inside a cell's solution regions."""
    lines, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith(BEGIN_SOLUTION):
            inside = True
        elif stripped.startswith(END_SOLUTION):
            inside = False
        elif inside and len(stripped) >= 20 and not stripped.startswith("#") \
                and stripped not in BOILERPLATE:
            lines.append(stripped)
    return lines


@by_stem(SOLUTIONS)
def test_student_notebook_leaks_no_solution_line(path):
    solution = read_notebook(path)
    lecture = read_notebook(LECTURES / path.name)
    student_lines = {line.strip() for cell in lecture.cells for line in cell.source.splitlines()}
    leaked = sorted({line for cell in solution.cells if cell.cell_type == "code"
                     for line in solution_lines(cell.source) if line in student_lines})
    assert not leaked, f"{path.name}: solution lines visible in the student notebook: {leaked[:5]}"


@by_stem(SOLUTIONS)
def test_solution_only_cells_never_reach_lectures(path):
    lecture = read_notebook(LECTURES / path.name)
    tagged = [i for i, cell in enumerate(lecture.cells)
              if SOLUTION_ONLY_TAG in cell.get("metadata", {}).get("tags", [])]
    assert not tagged, f"{path.name}: solution-only cells {tagged} in the student notebook"
