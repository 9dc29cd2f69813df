"""Fair checks for notebook 02 (the forward pass): correct alternatives pass, slips fail.

Harness: ``run_notebook_check`` of ``tests/check_harness.py`` (the exercise's solution region replaced,
the notebook's cells up to the check run in-process, the timing demo skipped).
"""

import pytest

from check_harness import assert_question, case_tests, run_notebook_check as run_check

NAME = "02_rnn_forward"
SKIP = ("c16", "c22a", "c25", "c26a")  # the timing demo; the claims on the trained models
STAND_IN = {"c21": "hello_params = init_params(4, 3, 4, seed=0, scale=0.5)"}  # no training


def check(check_id, body):
    return run_check(NAME, check_id, body, SKIP, stand_in=STAND_IN)


CASES = {
    "02.param-shapes": {
        "correct": {
            "lists and shapes of arrays": 'return {"W": [H, H], "U": np.zeros((H, D)).shape, "b": (H,), '
                                          '"V": list(np.zeros((K, H)).shape), "c": (K,)}',
        },
        "wrong": {
            "U transposed": ('return {"W": (H, H), "U": (D, H), "b": (H,), "V": (K, H), "c": (K,)}',
                             "expected U of shape"),
            "V transposed": ('return {"W": (H, H), "U": (H, D), "b": (H,), "V": (H, K), "c": (K,)}',
                             "expected V of shape"),
            "b as a column": ('return {"W": (H, H), "U": (H, D), "b": (H, 1), "V": (K, H), "c": (K,)}',
                              "expected b of shape"),
        },
    },
    "02.rnn-step": {
        "correct": {
            "row-vector products": "return np.tanh(h_prev @ W.T + x_t @ U.T + b)",
            "einsum": "return np.tanh(np.einsum('ij,j->i', W, h_prev) + np.einsum('ij,j->i', U, x_t) + b)",
        },
        "wrong": {
            "W transposed": ("return np.tanh(W.T @ h_prev + U @ x_t + b)", "Hint"),
            "sigmoid instead of tanh": ("return 1 / (1 + np.exp(-(W @ h_prev + U @ x_t + b)))", "Hint"),
            "bias forgotten": ("return np.tanh(W @ h_prev + U @ x_t)", "Hint"),
            "the package's step_forward": (
                "return numpy_rnn.step_forward(x_t, h_prev, {'W': W, 'U': U, 'b': b, "
                "'V': np.zeros((1, len(b))), 'c': np.zeros(1)})[0]", "write your own"),
        },
    },
    "02.rnn-forward": {
        "correct": {
            "preallocated, own stable softmax": """
                T, H = len(xs), len(h0)
                hs, h = np.zeros((T, H)), h0
                for t in range(T):
                    h = rnn_step(xs[t], h, params["W"], params["U"], params["b"])
                    hs[t] = h
                logits = hs @ params["V"].T + params["c"]
                e = np.exp(logits - logits.max(axis=1, keepdims=True))
                return hs, e / e.sum(axis=1, keepdims=True)
            """,
        },
        "wrong": {
            "h_0 included in hs": ("""
                h, hs = h0, [h0]
                for x_t in xs:
                    h = rnn_step(x_t, h, params["W"], params["U"], params["b"])
                    hs.append(h)
                hs = np.stack(hs)
                return hs, softmax(hs @ params["V"].T + params["c"])
            """, "expected hs"),
            "softmax over time instead of outputs": ("""
                h, hs = h0, []
                for x_t in xs:
                    h = rnn_step(x_t, h, params["W"], params["U"], params["b"])
                    hs.append(h)
                hs = np.stack(hs)
                logits = hs @ params["V"].T + params["c"]
                e = np.exp(logits - logits.max(axis=0))
                return hs, e / e.sum(axis=0)
            """, "over the K outputs"),
            "outputs from the previous state": ("""
                h, hs, prev = h0, [], []
                for x_t in xs:
                    prev.append(h)
                    h = rnn_step(x_t, h, params["W"], params["U"], params["b"])
                    hs.append(h)
                return np.stack(hs), softmax(np.stack(prev) @ params["V"].T + params["c"])
            """, "over the K outputs"),
            "state not carried": ("""
                hs = np.stack([rnn_step(x_t, h0, params["W"], params["U"], params["b"]) for x_t in xs])
                return hs, softmax(hs @ params["V"].T + params["c"])
            """, "h_0 not included"),
            "the package's forward": ("""
                ys, cache = numpy_rnn.forward(xs, h0, params)
                return cache.hs[1:], ys
            """, "write your own"),
        },
    },
    "02.embed": {
        "correct": {
            "rows of U transposed": "return U.T[indices]",
            "np.take along columns": "return np.take(U, indices, axis=1).T",
        },
        "wrong": {
            "columns not transposed": ("return U[:, indices]", "expected embed"),
            "one-hot product is allowed, but a wrong transpose is not": (
                "return (np.eye(U.shape[1])[indices] @ U.T).T", "expected embed"),
        },
    },
    "02.sequence-loss": {
        "correct": {
            "numpy float": "return -np.log(ys[np.arange(len(targets)), targets]).sum()",
            "a python loop": "return float(-sum(np.log(ys[t, k]) for t, k in enumerate(targets)))",
        },
        "wrong": {
            "mean instead of sum": ("return float(-np.mean(np.log(ys[np.arange(len(targets)), targets])))",
                                    "not averaged"),
            "minus sign forgotten": ("return float(np.sum(np.log(ys[np.arange(len(targets)), targets])))",
                                     "minus the sum"),
            "log base 10": ("return float(-np.sum(np.log10(ys[np.arange(len(targets)), targets])))", "natural log"),
            "fancy index gives a T x T block": ("return float(-np.sum(np.log(ys[:, targets])))", "minus the sum"),
            "the package's cross_entropy": ("return numpy_rnn.cross_entropy(np.log(ys), targets)", "write your own"),
        },
    },
    "02.sample": {
        "correct": {
            "inverse CDF with rng.random, numpy array out": """
                K, h, index = params["V"].shape[0], h0, first
                out = np.zeros(n, dtype=int)
                for i in range(n):
                    h = rnn_step(np.eye(K)[index], h, params["W"], params["U"], params["b"])
                    y = softmax(params["V"] @ h + params["c"])
                    index = min(int(np.searchsorted(np.cumsum(y), rng.random())), K - 1)
                    out[i] = index
                return out
            """,
        },
        "wrong": {
            "argmax instead of a draw": ("""
                K, h, index, out = params["V"].shape[0], h0, first, []
                for _ in range(n):
                    h = rnn_step(np.eye(K)[index], h, params["W"], params["U"], params["b"])
                    index = int(np.argmax(params["V"] @ h + params["c"]))
                    out.append(index)
                return out
            """, "draw from y_t"),
            "global numpy random instead of rng": ("""
                K, h, index, out = params["V"].shape[0], h0, first, []
                for _ in range(n):
                    h = rnn_step(np.eye(K)[index], h, params["W"], params["U"], params["b"])
                    index = int(np.random.choice(K, p=softmax(params["V"] @ h + params["c"])))
                    out.append(index)
                return out
            """, "use the rng argument"),
            "first symbol fed at every step": ("""
                K, h, out = params["V"].shape[0], h0, []
                for _ in range(n):
                    h = rnn_step(np.eye(K)[first], h, params["W"], params["U"], params["b"])
                    out.append(int(rng.choice(K, p=softmax(params["V"] @ h + params["c"]))))
                return out
            """, "fed back"),
            "hidden state reset every step": ("""
                K, index, out = params["V"].shape[0], first, []
                for _ in range(n):
                    h = rnn_step(np.eye(K)[index], h0, params["W"], params["U"], params["b"])
                    index = int(rng.choice(K, p=softmax(params["V"] @ h + params["c"])))
                    out.append(index)
                return out
            """, "hidden state carried"),
            "the package's sample": ("return numpy_rnn.sample(params, h0, first, n, rng)", "write your own"),
        },
    },
}

test_a_correct_alternative_passes, test_a_slip_fails_with_a_message_naming_it = case_tests(check, CASES)


QUESTIONS = [("02.q-memoryless-bound", "answer_2_1", "b"), ("02.q-params-vs-length", "answer_2_2", "b"),
             ("02.q-many-to-one-loss", "answer_2_3", "a")]


@pytest.mark.parametrize("check_id,name,key", QUESTIONS)
def test_question_key_passes_and_other_options_fail(check_id, name, key):
    assert_question(check, check_id, name, key, f" {key} ", wrong_message="is not right. .+")
