"""Each check of notebooks 04 and 05 catches the bugs of the listing's kinds.

For every case, the solution region is replaced by a buggy line (of a kind the
min-char-rnn listing has, or a plausible wrong answer), the cells up to the check are
run in-process, and the check must raise its AssertionError, not a crash elsewhere
(KeyError, a shape error in NumPy) that gives the student no readable message.
Cases are found by check id. tests/test_checks_04.py and tests/test_checks_05.py add
correct alternatives (which must pass) and more wrong answers.
"""

import pytest

from check_harness import run_exercise

# (notebook, check id, replacement per solution region (None: keep))
BUGS = [
    ("04_min_char_rnn", "04.chunk", ["targets = data[p + seq_length - 1 : p + seq_length + 1]"]),
    ("04_min_char_rnn", "04.forward", ["hs[t + 1] = np.tanh(W_xh[:, t] + W_hh @ hs[t] + b_h)"]),
    ("04_min_char_rnn", "04.carry-state", ["h_last = hs[0]"]),
    ("04_min_char_rnn", "04.adagrad-memories",
     ['m_W, m_b = np.zeros_like(params["W_hh"]), np.zeros_like(params["b_h"])\n'
      'return {"W_xh": m_W, "W_hh": m_W, "W_hy": m_W, "b_h": m_b, "b_y": m_b}']),
    ("04_min_char_rnn", "04.adagrad-memories", ["return dict(params)"]),
    ("04_min_char_rnn", "04.adagrad-step", ["params[name] -= -lr * grads[name] / np.sqrt(memories[name] + eps)"]),
    ("04_min_char_rnn", "04.sample-feedback", ["x[ix] = 1.0"]),
    ("04_min_char_rnn", "04.training", ["if p + seq_length - 1 > len(data):\n    p, h = 0, np.zeros(hidden_size)", None]),
    ("04_min_char_rnn", "04.training", [None, "smooth = smooth * 0.99 + loss * 0.001"]),
    ("05_vanishing_exploding", "05.eig-power", ["W_k = U @ np.diag(lam ** k) @ U.T"]),
    ("05_vanishing_exploding", "05.eig-power", ["W_k = U @ np.diag(lam * k) @ np.linalg.inv(U)"]),
    ("05_vanishing_exploding", "05.backprop-norms", ["g = W_hh @ ((1.0 - hs[t] ** 2) * g)"]),
    ("05_vanishing_exploding", "05.backprop-norms", ["g = W_hh.T @ ((1.0 - hs[t - 1] ** 2) * g)"]),
    ("05_vanishing_exploding", "05.backprop-norms", ["g = W_hh.T @ g"]),
    ("05_vanishing_exploding", "05.clip-by-norm", ["grad = g.copy()\ngrad_norm = np.sum(grad * grad)\n"
                                                   "if grad_norm > threshold:\n    grad *= (threshold / grad_norm)\n"
                                                   "return grad"]),
    ("05_vanishing_exploding", "05.clip-by-norm", ["g *= threshold / max(np.linalg.norm(g), threshold)\nreturn g"]),
    ("05_vanishing_exploding", "05.orthogonal", ["Q, R = np.linalg.qr(A)\nreturn Q"]),
]


@pytest.mark.notebook
@pytest.mark.parametrize("name,check_id,replacements", BUGS,
                         ids=[f"{b[1]}-{i}" for i, b in enumerate(BUGS)])
def test_check_fails_on_the_planted_bug(name, check_id, replacements):
    """The check raises AssertionError (a readable message), not any other exception."""
    run_exercise(name, check_id, replacements, raises=AssertionError)
