"""Notebook 06's checks are fair: correct alternative answers pass, plausible slips fail
with a message that names them.

Each test runs a check cell of ``solutions/06_lstm.ipynb`` (hidden tests included) with
``run_check`` of ``tests/check_harness.py``: the imports, then the solution cells and the
helper definitions, then the answer under test (no demos, no training).
"""

import pytest
import torch

from check_harness import after_solutions, question_test

STEM = "06_lstm"
HELPERS = ("class LSTMCache", "def lstm_forward_cached")

base, run_check, fails, check_cells = after_solutions(STEM, HELPERS)


# ---- 6.1 lstm_step ----------------------------------------------------------------
STEP = """
def lstm_step(x_t, h_prev, c_prev, W_x, W_h, b):
    a = x_t @ W_x.T + h_prev @ W_h.T + b
    a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
    i, f, g, o = {acts}
    c_t = {c}
    h_t = {h}
    return {ret}
"""
RIGHT = dict(acts="torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)",
             c="f * c_prev + i * g", h="o * torch.tanh(c_t)", ret="h_t, c_t")


def step(**change):
    return STEP.format(**{**RIGHT, **change})


STEP_ALTERNATIVES = [
    step(),
    """
def lstm_step(x_t, h_prev, c_prev, W_x, W_h, b):
    H = h_prev.shape[1]
    def block(k):  # one gate at a time
        rows = slice(k * H, (k + 1) * H)
        return x_t @ W_x[rows].T + h_prev @ W_h[rows].T + b[rows]
    i, f, o = torch.sigmoid(block(0)), torch.sigmoid(block(1)), torch.sigmoid(block(3))
    c_t = torch.addcmul(f * c_prev, i, torch.tanh(block(2)))
    return o * torch.tanh(c_t), c_t
""",
    """
def lstm_step(x_t, h_prev, c_prev, W_x, W_h, b):
    W = torch.cat([W_h, W_x], dim=1)  # [003]'s one W on [h; x]
    a = torch.cat([h_prev, x_t], dim=1) @ W.T + b
    i, f, g, o = a.split(h_prev.shape[1], dim=1)
    c_t = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_t), c_t
""",
]


@pytest.mark.parametrize("source", STEP_ALTERNATIVES, ids=["chunk", "per-gate", "concatenated"])
def test_lstm_step_accepts_correct_alternatives(base, source):
    run_check(base, "06.lstm-step", source, "lstm_step")


@pytest.mark.parametrize("source,message", [
    (step(acts="torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_o), torch.sigmoid(a_g)"),
     "gate order i, f, o, g"),
    (step(ret="c_t, h_t"), "returned (c_t, h_t)"),
    (step(c="i * g"), "does not depend on c_prev"),
    (step(h="o * c_t"), "h_t (N=1"),
    (step(acts="torch.tanh(a_i), torch.tanh(a_f), torch.tanh(a_g), torch.tanh(a_o)"), "c_t (N=1"),
    (step(c="f * c_prev + g"), "c_t (N=1"),
    ("def lstm_step(x_t, h_prev, c_prev, W_x, W_h, b):\n"
     "    cell = nn.LSTMCell(W_x.shape[1], W_h.shape[1]).to(x_t.dtype)\n"
     "    cell.weight_ih.copy_(W_x); cell.weight_hh.copy_(W_h); cell.bias_ih.copy_(b); cell.bias_hh.zero_()\n"
     "    return cell(x_t, (h_prev, c_prev))", "write your own"),
], ids=["order-ifog", "swapped-return", "no-forget", "no-output-tanh", "tanh-gates",
        "no-input-gate", "wraps-torch"])
def test_lstm_step_rejects_slips_with_a_message_naming_them(base, source, message):
    fails(base, "06.lstm-step", source, "lstm_step", message)


# ---- 6.2 lstm_forward ---------------------------------------------------------------
FORWARD_ALTERNATIVE = """
def lstm_forward(x, W_x, W_h, b, state=None):
    N, T, D = x.shape
    H = W_h.shape[1]
    h = torch.zeros(N, H, dtype=x.dtype) if state is None else state[0]
    c = torch.zeros(N, H, dtype=x.dtype) if state is None else state[1]
    outputs = x.new_empty(N, T, H)
    for t in range(T):
        h, c = lstm_step(x[:, t], h, c, W_x, W_h, b)
        outputs[:, t] = h
    return outputs, (h, c)
"""
FORWARD_SHIFTED = FORWARD_ALTERNATIVE.replace(
    "        h, c = lstm_step(x[:, t], h, c, W_x, W_h, b)\n        outputs[:, t] = h",
    "        outputs[:, t] = h\n        h, c = lstm_step(x[:, t], h, c, W_x, W_h, b)")
FORWARD_NO_STATE = FORWARD_ALTERNATIVE.replace("if state is None else state[0]", "").replace(
    "if state is None else state[1]", "")
FORWARD_FINAL_H = FORWARD_ALTERNATIVE.replace("return outputs, (h, c)", "return outputs, (h, h)")


def test_lstm_forward_accepts_a_preallocated_indexing_loop(base):
    run_check(base, "06.lstm-forward", FORWARD_ALTERNATIVE, "lstm_forward")


@pytest.mark.parametrize("source,message", [
    (FORWARD_SHIFTED, "shifted by one step"),
    (FORWARD_NO_STATE, "given start state"),
    (FORWARD_FINAL_H, "final c_T"),
    ("def lstm_forward(x, W_x, W_h, b, state=None):\n"
     "    m = nn.LSTM(x.shape[2], W_h.shape[1], batch_first=True).to(x.dtype)\n"
     "    m.weight_ih_l0.copy_(W_x); m.weight_hh_l0.copy_(W_h); m.bias_ih_l0.copy_(b); m.bias_hh_l0.zero_()\n"
     "    out, (h, c) = m(x, None if state is None else (state[0][None], state[1][None]))\n"
     "    return out, (h[0], c[0])", "write your own"),
], ids=["shifted", "ignores-state", "final-h-twice", "wraps-torch"])
def test_lstm_forward_rejects_slips(base, source, message):
    fails(base, "06.lstm-forward", source, "lstm_forward", message)


# ---- 6.5 lstm_step_backward ----------------------------------------------------------
BACKWARD = """
def lstm_step_backward(dh_t, dc_t, cache):
    x_t, h_prev, c_prev, W_x, W_h, i, f, g, o, c_t = cache
    tanh_c = torch.tanh(c_t)
    dc = {dc}
    d_i = dc * g * {di}
    d_f = dc * c_prev * f * (1 - f)
    d_g = dc * i * (1 - g ** 2)
    d_o = dh_t * tanh_c * o * (1 - o)
    d_pre = torch.cat([d_i, d_f, d_g, d_o], dim=1)
    return LSTMGrads(dx_t=d_pre @ W_x, dh_prev=d_pre @ W_h, dc_prev={dc_prev},
                     dW_x={dW_x}, dW_h=d_pre.T @ h_prev, db={db})
"""
BACK_RIGHT = dict(dc="dc_t + dh_t * o * (1 - tanh_c ** 2)", di="i * (1 - i)", dc_prev="dc * f",
                  dW_x="d_pre.T @ x_t", db="d_pre.sum(0)")


def backward(**change):
    return BACKWARD.format(**{**BACK_RIGHT, **change})


BACKWARD_ALTERNATIVE = """
def lstm_step_backward(dh_t, dc_t, cache):
    # gate by gate, derivatives recomputed from the gates, einsum for the weights
    do = dh_t * torch.tanh(cache.c_t)
    dc = dc_t + dh_t * cache.o * (1 - torch.tanh(cache.c_t) ** 2)
    blocks = [dc * cache.g * cache.i * (1 - cache.i), dc * cache.c_prev * cache.f * (1 - cache.f),
              dc * cache.i * (1 - cache.g * cache.g), do * cache.o * (1 - cache.o)]
    d_pre = torch.stack(blocks, dim=1).flatten(1)  # (N, 4, H) -> (N, 4H)
    return LSTMGrads(torch.einsum("nk,kd->nd", d_pre, cache.W_x), torch.einsum("nk,kh->nh", d_pre, cache.W_h),
                     cache.f * dc, torch.einsum("nk,nd->kd", d_pre, cache.x_t),
                     torch.einsum("nk,nh->kh", d_pre, cache.h_prev), d_pre.sum(dim=0))
"""


def test_lstm_step_backward_accepts_correct_alternatives(base):
    run_check(base, "06.lstm-step-backward", backward(), "lstm_step_backward")
    run_check(base, "06.lstm-step-backward", BACKWARD_ALTERNATIVE, "lstm_step_backward")


@pytest.mark.parametrize("source,message", [
    (backward(dc="dc_t + dh_t * o"), "dc_prev (N=1, D=1, H=1, gradient on h_t only"),
    (backward(dc="dh_t * o * (1 - tanh_c ** 2)"), "gradient on c_t only"),
    (backward(dc_prev="dc"), "dc_prev (N=1"),
    (backward(di="i"), "db (N=1"),
    (backward(dW_x="x_t.T @ d_pre"), "dW_x"),
    (backward(db="d_pre"), "db"),
    ("def lstm_step_backward(dh_t, dc_t, cache):\n"
     "    leaves = [t.detach().requires_grad_() for t in (cache.x_t, cache.h_prev, cache.c_prev, cache.W_x, cache.W_h)]\n"
     "    b = torch.zeros(cache.W_x.shape[0], dtype=dh_t.dtype, requires_grad=True)\n"
     "    with torch.enable_grad():\n"
     "        h, c, _ = lstm_step_forward(*leaves, b)\n"
     "        grads = torch.autograd.grad((dh_t * h).sum() + (dc_t * c).sum(), leaves + [b])\n"
     "    return LSTMGrads(*grads)", "write your own"),
], ids=["no-tanh-derivative", "ignores-dc_t", "no-forget-factor", "sigmoid-derivative",
        "dW_x-transposed", "db-not-summed", "autograd"])
def test_lstm_step_backward_rejects_slips(base, source, message):
    fails(base, "06.lstm-step-backward", source, "lstm_step_backward", message)


# ---- 6.6 lstm_backward ---------------------------------------------------------------
SEQ = """
def lstm_backward(dout, caches):
    dh_next = torch.zeros_like(caches[0].h_prev)
    dc_next = torch.zeros_like(caches[0].c_prev)
    total = None
    dx = dout.new_zeros(dout.shape[0], len(caches), caches[0].x_t.shape[1])
    for t in {order}:
        s = lstm_step_backward({dh}, dc_next, caches[t])
        dh_next, dc_next = s.dh_prev, {carry}
        dx[:, t] = s.dx_t
        parts = (s.dW_x, s.dW_h, s.db)
        total = parts if total is None else {acc}
    return LSTMSequenceGrads(dx, dh_next, dc_next, *total)
"""
SEQ_RIGHT = dict(order="range(len(caches) - 1, -1, -1)", dh="dout[:, t] + dh_next",
                 carry="s.dc_prev", acc="tuple(a + p for a, p in zip(total, parts))")


def seq(**change):
    return SEQ.format(**{**SEQ_RIGHT, **change})


def test_lstm_backward_accepts_a_preallocated_version(base):
    run_check(base, "06.lstm-backward", seq(), "lstm_backward")


@pytest.mark.parametrize("source,message", [
    (seq(carry="torch.zeros_like(s.dc_prev)"), "carry dc back"),
    (seq(dh="dout[:, t] if t == len(caches) - 1 else dh_next"), "is each step's own dout[:, t] added"),
    (seq(acc="parts"), "add the bias gradients of every step"),
    (seq(order="range(len(caches))"), "(N=2, T=5"),
], ids=["dc-not-carried", "dout-of-last-step-only", "weights-not-accumulated", "forward-in-time"])
def test_lstm_backward_rejects_slips(base, source, message):
    fails(base, "06.lstm-backward", source, "lstm_backward", message)


# ---- 6.8 memory_path_gain ------------------------------------------------------------
GAIN_LOOP = """
def memory_path_gain(f):
    gain = torch.ones_like(f)
    for t in range(f.shape[1] - 2, -1, -1):
        gain[:, t] = gain[:, t + 1] * f[:, t + 1]
    return gain
"""
GAIN_LOG = """
def memory_path_gain(f):
    logs = torch.log(f[:, 1:]).flip(1).cumsum(1).flip(1)
    return torch.cat([logs.exp(), torch.ones_like(f[:, :1])], dim=1)
"""


@pytest.mark.parametrize("source", [GAIN_LOOP, GAIN_LOG], ids=["loop", "log-cumsum"])
def test_memory_path_gain_accepts_correct_alternatives(base, source):
    run_check(base, "06.memory-path-gain", source, "memory_path_gain")


@pytest.mark.parametrize("source,message", [
    ("def memory_path_gain(f):\n    return f.flip(1).cumprod(1).flip(1)", "includes f_t itself"),
    ("def memory_path_gain(f):\n    return torch.cat([f[:, 2:], torch.ones_like(f[:, :2])], 1).flip(1).cumprod(1).flip(1)",
     "shifted by one step"),
    ("def memory_path_gain(f):\n    return torch.cat([torch.ones_like(f[:, :1]), f[:, 1:]], 1).cumprod(1)", "gain (T="),
], ids=["own-gate-included", "shifted", "earlier-steps"])
def test_memory_path_gain_rejects_slips(base, source, message):
    fails(base, "06.memory-path-gain", source, "memory_path_gain", message)


# ---- questions -------------------------------------------------------------------------
QUESTIONS = {"06.q-gate-nonlinearity": ("answer_6_1", "a"), "06.q-relu-candidate": ("answer_6_2", "c"),
             "06.q-version-zero": ("answer_6_3", "b")}

test_questions_accept_the_key_in_any_case_and_reject_the_others = question_test(run_check, QUESTIONS)


def test_every_check_of_the_notebook_is_covered():
    covered = {"06.lstm-step", "06.lstm-forward", "06.lstm-step-backward", "06.lstm-backward",
               "06.memory-path-gain", *QUESTIONS}
    assert set(check_cells()) == covered
    torch.manual_seed(0)  # keep the global generator as other tests expect it
