"""Fair checks for notebook 03 (BPTT): correct alternatives pass, plausible slips fail.

Harness: ``run_notebook_check`` of ``tests/check_harness.py`` (the exercise's solution region replaced,
the notebook's cells up to the check run in-process, slow figure cells skipped).
"""

import pytest

from check_harness import assert_question, case_tests, run_notebook_check as run_check

NAME = "03_bptt"
SKIP = ("g01", "g03", "c15", "c15b", "c15d", "c20", "c21a")  # diagrams and measured figures


def check(check_id, body):
    return run_check(NAME, check_id, body, SKIP)


# BPTT written out from scratch (forward pass, deltas collected first); H_LAST: what it returns as h_last
OWN_BPTT = """
    W, U, b, V, c = (params[k] for k in "WUbVc")
    T, H = len(xs), len(h0)
    hs = np.zeros((T + 1, H)); hs[0] = h0
    for t in range(T):
        hs[t + 1] = np.tanh(W @ hs[t] + U @ xs[t] + b)
    logits = hs[1:] @ V.T + c
    logp = logits - logits.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    loss = -logp[np.arange(T), targets].sum()
    do = np.exp(logp); do[np.arange(T), targets] -= 1
    deltas, dh = np.zeros((T, H)), np.zeros(H)
    for t in range(T - 1, -1, -1):
        deltas[t] = (1 - hs[t + 1] ** 2) * (V.T @ do[t] + dh)
        dh = W.T @ deltas[t]
    grads = {"W": deltas.T @ hs[:-1], "U": deltas.T @ xs, "b": deltas.sum(0),
             "V": do.T @ hs[1:], "c": do.sum(0)}
    return loss, grads, H_LAST
"""

CASES = {
    "03.output-grad": {
        "correct": {
            "one-hot rows subtracted": "return ys - np.eye(ys.shape[1])[targets]",
            "in place on the input": "ys[np.arange(len(targets)), targets] -= 1\nreturn ys",
        },
        "wrong": {
            "sign flipped (l - y)": ("do = -ys.copy()\ndo[np.arange(len(targets)), targets] += 1.0\nreturn do",
                                     "dL/do"),
            "target not subtracted": ("return ys.copy()", "dL/do"),
            "targets shifted by one step": ("do = ys.copy()\ndo[np.arange(len(targets)), np.roll(targets, 1)] -= 1.0\n"
                                            "return do", "dL/do"),
            "autograd instead of the formula": (
                "lg = torch.log(torch.tensor(ys)).requires_grad_()\n"
                "torch.nn.functional.nll_loss(torch.log_softmax(lg, 1), torch.tensor(targets), "
                "reduction='sum').backward()\nreturn lg.grad.numpy()", "write your own"),
        },
    },
    "03.step-backward": {
        "correct": {
            "broadcasting instead of np.outer": (
                "delta = dh_t * (1 - h_t * h_t)\n"
                "return delta @ W, delta[:, None] * h_prev[None, :], delta[:, None] * x_t[None, :], delta"),
        },
        "wrong": {
            "tanh slope from h_prev": ("delta = (1.0 - h_prev**2) * dh_t\n"
                                       "return W.T @ delta, np.outer(delta, h_prev), np.outer(delta, x_t), delta",
                                       "Hint"),
            "missing transpose on W": ("delta = (1.0 - h_t**2) * dh_t\n"
                                       "return W @ delta, np.outer(delta, h_prev), np.outer(delta, x_t), delta",
                                       "dh_prev"),
            "dW transposed": ("delta = (1.0 - h_t**2) * dh_t\n"
                              "return W.T @ delta, np.outer(h_prev, delta), np.outer(delta, x_t), delta", "dW_t"),
            "tanh slope forgotten": ("return W.T @ dh_t, np.outer(dh_t, h_prev), np.outer(dh_t, x_t), dh_t",
                                     "Hint"),
            "the package's step_backward": (
                "dh_prev, g = numpy_rnn.step_backward(dh_t, numpy_rnn.StepCache(x_t, h_prev, h_t), "
                "{'W': W, 'U': np.zeros((len(h_t), len(x_t))), 'b': np.zeros(len(h_t)), "
                "'V': np.zeros((1, len(h_t))), 'c': np.zeros(1)})\n"
                "return dh_prev, g['W'], g['U'], g['b']", "write your own"),
        },
    },
    "03.bptt": {
        "correct": {
            "own forward pass, deltas collected first": OWN_BPTT.replace("H_LAST", "hs[-1]"),
        },
        "wrong": {
            "no path through h_{t+1}": """
                ys, cache = forward(xs, h0, params)
                hs, do = cache.hs, output_grad(ys, targets)
                grads = {name: np.zeros_like(p) for name, p in params.items()}
                for t in reversed(range(len(xs))):
                    grads["V"] += np.outer(do[t], hs[t + 1]); grads["c"] += do[t]
                    _, dW, dU, db = step_backward(params["V"].T @ do[t], xs[t], hs[t], hs[t + 1], params["W"])
                    grads["W"] += dW; grads["U"] += dU; grads["b"] += db
                return cross_entropy(cache.logits, targets), grads, hs[-1]
            """,
            "h_t used as h_{t-1} (off by one)": """
                ys, cache = forward(xs, h0, params)
                hs, do = cache.hs, output_grad(ys, targets)
                grads = {name: np.zeros_like(p) for name, p in params.items()}
                dh_next = np.zeros_like(h0)
                for t in reversed(range(len(xs))):
                    grads["V"] += np.outer(do[t], hs[t + 1]); grads["c"] += do[t]
                    dh_next, dW, dU, db = step_backward(params["V"].T @ do[t] + dh_next, xs[t], hs[t + 1],
                                                        hs[t + 1], params["W"])
                    grads["W"] += dW; grads["U"] += dU; grads["b"] += db
                return cross_entropy(cache.logits, targets), grads, hs[-1]
            """,
            "h_0 returned as h_last": OWN_BPTT.replace("H_LAST", "hs[0]"),
            "the package's loss_and_grads": "return numpy_rnn.loss_and_grads(xs, targets, h0, params)",
        },
    },
    "03.contributions": {
        "correct": {
            "einsum of deltas and states": """
                ys, cache = forward(xs, h0, params)
                hs, T = cache.hs, len(xs)
                dh = params["V"].T @ (ys[-1] - np.eye(ys.shape[1])[targets[-1]])
                deltas = np.zeros((T, len(h0)))
                for t in range(T - 1, -1, -1):
                    deltas[t] = (1 - hs[t + 1] ** 2) * dh
                    dh = params["W"].T @ deltas[t]
                return np.einsum("ti,tj->tij", deltas, hs[:-1])
            """,
        },
        "wrong": {
            "gradient stops at the last step": """
                ys, cache = forward(xs, h0, params)
                out = np.zeros((len(xs),) + params["W"].shape)
                dh = params["V"].T @ output_grad(ys[-1:], targets[-1:])[0]
                _, out[-1], _, _ = step_backward(dh, xs[-1], cache.hs[-2], cache.hs[-1], params["W"])
                return out
            """,
            "steps in reversed order": """
                ys, cache = forward(xs, h0, params)
                hs, T = cache.hs, len(xs)
                dh = params["V"].T @ output_grad(ys[-1:], targets[-1:])[0]
                out = np.zeros((T,) + params["W"].shape)
                for t in reversed(range(T)):
                    dh, out[T - 1 - t], _, _ = step_backward(dh, xs[t], hs[t], hs[t + 1], params["W"])
                return out
            """,
            "every step's loss instead of the last one's": """
                ys, cache = forward(xs, h0, params)
                hs, T, do = cache.hs, len(xs), output_grad(ys, targets)
                out, dh = np.zeros((T,) + params["W"].shape), np.zeros_like(h0)
                for t in reversed(range(T)):
                    dh, out[t], _, _ = step_backward(params["V"].T @ do[t] + dh, xs[t], hs[t], hs[t + 1], params["W"])
                return out
            """,
        },
    },
    "03.truncated-bptt": {
        "correct": {
            "explicit chunk indices": """
                total, h = 0.0, h0
                grads = {name: 0.0 for name in params}
                starts = list(range(0, len(xs), k))
                for s, e in zip(starts, starts[1:] + [len(xs)]):
                    loss, g, h = bptt(xs[s:e], targets[s:e], h, params)
                    total += loss
                    grads = {name: grads[name] + g[name] for name in params}
                return total, grads, h
            """,
        },
        "wrong": {
            "state reset every chunk": """
                total, grads = 0.0, {name: np.zeros_like(p) for name, p in params.items()}
                for s in range(0, len(xs), k):
                    loss, g, h = bptt(xs[s:s + k], targets[s:s + k], h0, params)
                    total += loss
                    for name in grads: grads[name] += g[name]
                return total, grads, h
            """,
            "gradients averaged over chunks": """
                total, grads, h, n = 0.0, {name: np.zeros_like(p) for name, p in params.items()}, h0, 0
                for s in range(0, len(xs), k):
                    loss, g, h = bptt(xs[s:s + k], targets[s:s + k], h, params)
                    total, n = total + loss, n + 1
                    for name in grads: grads[name] += g[name]
                return total, {name: v / n for name, v in grads.items()}, h
            """,
            "only the last chunk's loss": """
                grads, h = {name: np.zeros_like(p) for name, p in params.items()}, h0
                for s in range(0, len(xs), k):
                    loss, g, h = bptt(xs[s:s + k], targets[s:s + k], h, params)
                    for name in grads: grads[name] += g[name]
                return loss, grads, h
            """,
            "the package's truncated_bptt": "return numpy_rnn.truncated_bptt(xs, targets, h0, params, k)",
        },
    },
}
MESSAGES = {"03.bptt": {"no path through h_{t+1}": "Hint", "h_t used as h_{t-1} (off by one)": "Hint",
                        "h_0 returned as h_last": "h_last", "the package's loss_and_grads": "write your own"},
            "03.contributions": {"gradient stops at the last step": "only the last step",
                                 "steps in reversed order": "dL_T/dW_t",
                                 "every step's loss instead of the last one's": "dL_T/dW_t"},
            "03.truncated-bptt": {"state reset every chunk": "carried across chunks",
                                  "gradients averaged over chunks": "added up",
                                  "only the last chunk's loss": "every chunk included",
                                  "the package's truncated_bptt": "write your own"}}

test_a_correct_alternative_passes, test_a_slip_fails_with_a_message_naming_it = case_tests(
    check, CASES, lambda check_id, label: MESSAGES[check_id][label])


QUESTIONS = [("03.q-sigma-max", "answer_3_1", "a"), ("03.q-sigma-above-one", "answer_3_2", "b"),
             ("03.q-truncation", "answer_3_3", "b")]


@pytest.mark.parametrize("check_id,name,key", QUESTIONS)
def test_question_key_passes_and_other_options_fail(check_id, name, key):
    assert_question(check, check_id, name, key, key.upper(), wrong_message="is not right. .+")
