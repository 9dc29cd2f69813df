"""Each check of notebooks 04 and 05 catches the planted bug that its markdown quotes.

For every exercise, the solution region is replaced by the buggy code the notebook
shows the student (or a plausible wrong answer), the cells up to the check are run
in-process, and the check must raise its AssertionError. The quoted buggy line must appear in the
notebook's markdown, so text and test stay in step.
"""

import os
import textwrap
from pathlib import Path

import matplotlib
import pytest

from rnncourse.release import BEGIN_SOLUTION, END_SOLUTION, exercise_groups, read_notebook

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]

# (notebook, exercise number k, replacement per solution region (None: keep), quoted in markdown?)
BUGS = [
    ("04_min_char_rnn", 2, ["targets = data[p + seq_length - 1 : p + seq_length + 1]"], True),
    ("04_min_char_rnn", 3, ["hs[t + 1] = np.tanh(W_xh[:, t] + W_hh @ hs[t] + b_h)"], True),
    ("04_min_char_rnn", 4, ["db_y = dy.sum(axis=1)"], True),
    ("04_min_char_rnn", 5, ["dh_next = np.zeros_like(da)"], True),
    ("04_min_char_rnn", 6, ["h_last = hs[0]"], True),
    ("04_min_char_rnn", 7, ['m_W, m_b = np.zeros_like(params["W_hh"]), np.zeros_like(params["b_h"])\n'
                            'return {"W_xh": m_W, "W_hh": m_W, "W_hy": m_W, "b_h": m_b, "b_y": m_b}'], True),
    ("04_min_char_rnn", 7, ["return dict(params)"], False),
    ("04_min_char_rnn", 8, ["params[name] -= -lr * grads[name] / np.sqrt(memories[name] + eps)"], True),
    ("04_min_char_rnn", 9, ["x[ix] = 1.0"], True),
    ("04_min_char_rnn", 10, ["if p + seq_length - 1 > len(data):\n    p, h = 0, np.zeros(hidden_size)", None], True),
    ("04_min_char_rnn", 10, [None, "smooth = smooth * 0.99 + loss * 0.001"], True),
    ("05_vanishing_exploding", 1, ["W_k = U @ np.diag(lam ** k) @ U.T"], False),
    ("05_vanishing_exploding", 1, ["W_k = U @ np.diag(lam * k) @ np.linalg.inv(U)"], False),
    ("05_vanishing_exploding", 2, ["g = W_hh @ ((1.0 - hs[t] ** 2) * g)"], False),
    ("05_vanishing_exploding", 2, ["g = W_hh.T @ ((1.0 - hs[t - 1] ** 2) * g)"], False),
    ("05_vanishing_exploding", 2, ["g = W_hh.T @ g"], False),
    ("05_vanishing_exploding", 3, ["grad = g.copy()\ngrad_norm = np.sum(grad * grad)\n"
                                   "if grad_norm > threshold:\n    grad *= (threshold / grad_norm)\n"
                                   "return grad"], False),
    ("05_vanishing_exploding", 3, ["g *= threshold / max(np.linalg.norm(g), threshold)\nreturn g"], False),
    ("05_vanishing_exploding", 4, ["Q, R = np.linalg.qr(A)\nreturn Q"], False),
]


def replace_regions(source: str, replacements: list) -> str:
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


def runnable(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%"))


@pytest.mark.notebook
@pytest.mark.parametrize("name,k,replacements,quoted", BUGS,
                         ids=[f"{b[0][:2]}.{b[1]}-{i}" for i, b in enumerate(BUGS)])
def test_check_fails_on_the_planted_bug(name, k, replacements, quoted, monkeypatch):
    nb = read_notebook(ROOT / "solutions" / f"{name}.ipynb")
    cells, check = exercise_groups(nb)[k - 1]
    if quoted:
        markdown = "\n".join(c.source for c in nb.cells[:cells[0]] if c.cell_type == "markdown")
        for text in filter(None, replacements):
            assert text.splitlines()[0] in markdown, f"the markdown does not quote {text!r}"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    monkeypatch.chdir(ROOT / "solutions")
    namespace = {}
    for index in range(check):
        cell = nb.cells[index]
        if cell.cell_type != "code":
            continue
        source = replace_regions(cell.source, replacements) if index == cells[0] else cell.source
        exec(compile(runnable(source), f"{name}[{index}]", "exec"), namespace)
    # the check itself must catch the bug (rnncourse.checks raise AssertionError with a
    # message for the student), not a crash elsewhere such as a shape error in NumPy
    with pytest.raises(AssertionError):
        exec(compile(nb.cells[check].source, f"{name}[check]", "exec"), namespace)
