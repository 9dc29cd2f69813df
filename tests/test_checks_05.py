"""Notebook 05's checks accept correct alternative answers and reject plausible slips.

Each case replaces an exercise's solution region(s) by another answer, runs the
notebook's cells from that exercise up to its check (after the cells before it, run
once per exercise), and executes the check cell, hidden tests included: a correct
alternative must pass, a wrong answer must raise AssertionError (a check that fails
with another exception would not give the student a readable message).
"""

import pytest

from check_harness import assert_question, run_exercise

STEM = "05_vanishing_exploding"


def run_check(check_id, replacements):
    """Run the exercise with ``replacements`` for its solution regions, then its check."""
    run_exercise(STEM, check_id, replacements)


CORRECT = {
    "05.eig-power": [
        "W_k = (U * lam ** k) @ np.linalg.inv(U)",
        "W_k = U @ np.diag(lam ** k) @ np.linalg.solve(U, np.eye(len(lam)))",
        "W_k = np.linalg.solve(U.T, (U * lam ** k).T).T",
    ],
    "05.backprop-norms": [
        "g = W_hh.T.dot(g * (1 - hs[t] ** 2))",
        "g = (g * (1.0 - np.tanh(np.arctanh(hs[t])) ** 2)) @ W_hh",
        "g = np.einsum('ij,i->j', W_hh, (1 - hs[t] * hs[t]) * g)",
    ],
    "05.clip-by-norm": [
        "norm = np.linalg.norm(g)\nreturn g * min(1.0, threshold / norm)",
        "n = np.sqrt((g ** 2).sum())\nreturn g / n * threshold if n > threshold else np.array(g, copy=True)",
        "out = g.astype(np.float64, copy=True)\nif np.linalg.norm(out) > threshold:\n"
        "    out *= threshold / np.linalg.norm(out)\nreturn out",
    ],
    "05.orthogonal": [
        "Q, R = np.linalg.qr(A)\nreturn Q @ np.diag(np.sign(np.diag(R)))",
        "Q, R = np.linalg.qr(A, mode='reduced')\nreturn Q * np.sign(R.diagonal())[None, :]",
    ],
}

WRONG = {
    "05.eig-power": [
        "W_k = U @ np.diag(lam ** k) @ U.T",                       # only right for symmetric W
        "W_k = U @ np.diag(lam * k) @ np.linalg.inv(U)",           # lam times k
        "W_k = U @ (np.diag(lam) ** k) @ np.linalg.inv(U)",        # 0 ** 0 = 1 off the diagonal at k = 0
        "W_k = np.linalg.inv(U) @ np.diag(lam ** k) @ U",          # the factors in the wrong order
        "W_k = np.linalg.matrix_power(W, k).astype(complex)",      # not by eigendecomposition
    ],
    "05.backprop-norms": [
        "g = W_hh @ ((1.0 - hs[t] ** 2) * g)",                     # missing transpose
        "g = W_hh.T @ ((1.0 - hs[t - 1] ** 2) * g)",               # the wrong step's derivative
        "g = W_hh.T @ g",                                          # no tanh derivative
        "g = W_hh.T @ ((1.0 - hs[t]) ** 2 * g)",                   # (1 - h)^2
        "g = (1.0 - hs[t] ** 2) * (W_hh.T @ g)",                   # derivative after the product
    ],
    "05.clip-by-norm": [
        # the slide's code: compares and divides by the squared norm
        "grad = g.copy()\ngrad_norm = np.sum(grad * grad)\nif grad_norm > threshold:\n"
        "    grad *= (threshold / grad_norm)\nreturn grad",
        # squared norm compared with the threshold, rescaled correctly
        "sq = np.sum(g * g)\nreturn g * (threshold / np.sqrt(sq)) if sq > threshold else g.copy()",
        "g *= threshold / max(np.linalg.norm(g), threshold)\nreturn g",   # modifies its argument
        "return np.clip(g, -threshold, threshold)",                           # clipping by value
        "return g * (threshold / np.linalg.norm(g))",                         # always rescales
        "norm = np.linalg.norm(g)\nreturn g * (threshold / norm) if norm > threshold else g",  # returns g itself
    ],
    "05.orthogonal": [
        "Q, R = np.linalg.qr(A)\nreturn Q",                                  # signs not fixed
        "Q, R = np.linalg.qr(A)\nreturn np.sign(np.diag(R))[:, None] * Q",   # rows, not columns
        "Q, R = np.linalg.qr(A)\nreturn Q * np.sign(R)",                     # the whole R
    ],
}

QUESTIONS = {"05.q-sigma-max": ("answer_5_1", "a", "bcd"), "05.q-spectral-radius": ("answer_5_2", "b", "acd"),
             "05.q-clipping": ("answer_5_3", "c", "abd")}


def cases(table):
    return [(check_id, answer) for check_id, answers in table.items() for answer in answers]


@pytest.mark.parametrize("check_id,answer", cases(CORRECT))
def test_check_accepts_a_correct_alternative(check_id, answer):
    run_check(check_id, [answer])


@pytest.mark.parametrize("check_id,answer", cases(WRONG))
def test_check_rejects_a_wrong_answer(check_id, answer):
    with pytest.raises(AssertionError):
        run_check(check_id, [answer])


@pytest.mark.parametrize("check_id", sorted(QUESTIONS))
def test_question_accepts_the_key_in_any_case_and_rejects_the_others(check_id):
    name, key, others = QUESTIONS[check_id]
    assert_question(lambda check, source: run_check(check, [source]), check_id, name, key, key.upper(),
                    options=key + "".join(others), outside="e", wrong_message="not right")
