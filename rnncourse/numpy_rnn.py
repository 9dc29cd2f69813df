"""A vanilla RNN in NumPy: forward pass, loss, backpropagation through time, sampling.

The reference implementation of notebooks 02 and 03. Equations and names follow the
lectures ([000] for ``W, U, V, b, c``; [004] for the softmax output and the BPTT
derivation, where the hidden state is called ``c_t`` and the output bias ``a``)::

    a_t = W h_{t-1} + U x_t + b        # (H,)  pre-activation
    h_t = tanh(a_t)                    # (H,)
    o_t = V h_t + c                    # (K,)  logits (alpha_t in [004])
    y_t = softmax(o_t)                 # (K,)
    L   = sum_t L_t,   L_t = -log y_t[l_t]

One sequence at a time, vectors as 1-D arrays, so the code reads like the slides:
``x`` is (T, D), the hidden states (T, H), the outputs (T, K); targets ``l`` are class
indices (T,). Parameters are a dict ``{"W", "U", "b", "V", "c"}`` and gradients a dict
with the same keys, so ``rnncourse.gradcheck.check_gradients`` applies directly.

Truncated BPTT follows [003]: carry the hidden state forward through the whole
sequence, but backpropagate only within chunks of ``k`` steps.
"""

from typing import NamedTuple

import numpy as np

__all__ = [
    "PARAM_NAMES",
    "init_params",
    "param_sizes",
    "softmax",
    "one_hot",
    "StepCache",
    "step_forward",
    "step_backward",
    "ForwardCache",
    "forward",
    "cross_entropy",
    "backward",
    "loss_and_grads",
    "truncated_bptt",
    "sample",
]

PARAM_NAMES = ("W", "U", "b", "V", "c")


def init_params(input_size: int, hidden_size: int, output_size: int, seed=0,
                scale: float = 0.1) -> dict[str, np.ndarray]:
    """Random float64 parameters: ``W`` (H, H), ``U`` (H, D), ``V`` (K, H) drawn from
    N(0, scale^2); biases ``b`` (H,) and ``c`` (K,) zero.
    """
    for name, size in (("input_size", input_size), ("hidden_size", hidden_size),
                       ("output_size", output_size)):
        if not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"{name} must be a positive int, got {size!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    D, H, K = input_size, hidden_size, output_size
    return {
        "W": rng.normal(0.0, scale, (H, H)),
        "U": rng.normal(0.0, scale, (H, D)),
        "b": np.zeros(H),
        "V": rng.normal(0.0, scale, (K, H)),
        "c": np.zeros(K),
    }


def param_sizes(params: dict) -> tuple[int, int, int]:
    """Check the parameters' shapes agree and return ``(D, H, K)``."""
    missing = set(PARAM_NAMES) - params.keys()
    if missing:
        raise KeyError(f"params is missing {sorted(missing)}; expected keys {PARAM_NAMES}")
    shape_U, shape_V = np.shape(params["U"]), np.shape(params["V"])
    if len(shape_U) != 2:
        raise ValueError(f"expected U of shape (H, D), got {shape_U}")
    if len(shape_V) != 2:
        raise ValueError(f"expected V of shape (K, H), got {shape_V}")
    (H, D), K = shape_U, shape_V[0]
    expected = {"W": (H, H), "U": (H, D), "b": (H,), "V": (K, H), "c": (K,)}
    for name, shape in expected.items():
        if np.shape(params[name]) != shape:
            raise ValueError(f"expected {name} of shape {shape} (D={D}, H={H}, K={K}), "
                             f"got {np.shape(params[name])}")
    return D, H, K


def _check_shape(name: str, value: np.ndarray, expected: tuple, legend: str) -> None:
    if value.shape != expected:
        raise ValueError(f"expected {name} of shape {legend} = {expected}, got {value.shape}")


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the maximum so it never overflows."""
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def one_hot(indices, size: int) -> np.ndarray:
    """One-hot rows: ``indices`` (T,) of ints in [0, size) -> (T, size) float64."""
    indices = np.asarray(indices)
    if indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(f"expected indices of shape (T,) with ints, got {indices.shape} "
                         f"{indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= size):
        raise ValueError(f"indices must lie in [0, {size}), got min {indices.min()}, "
                         f"max {indices.max()}")
    out = np.zeros((indices.size, size))
    out[np.arange(indices.size), indices] = 1.0
    return out


# ---------------------------------------------------------------------------- one step

class StepCache(NamedTuple):
    """What ``step_backward`` needs from ``step_forward``."""

    x_t: np.ndarray     # (D,)
    h_prev: np.ndarray  # (H,)
    h_t: np.ndarray     # (H,)


def step_forward(x_t: np.ndarray, h_prev: np.ndarray, params: dict) -> tuple[np.ndarray, StepCache]:
    """One recurrence step ``h_t = tanh(W h_prev + U x_t + b)``.

    ``x_t`` (D,), ``h_prev`` (H,) -> ``h_t`` (H,) and its cache.
    """
    D, H, _ = param_sizes(params)
    x_t, h_prev = np.asarray(x_t, dtype=float), np.asarray(h_prev, dtype=float)
    _check_shape("x_t", x_t, (D,), "(D,)")
    _check_shape("h_prev", h_prev, (H,), "(H,)")
    h_t = np.tanh(params["W"] @ h_prev + params["U"] @ x_t + params["b"])  # (H,)
    return h_t, StepCache(x_t, h_prev, h_t)


def step_backward(dh_t: np.ndarray, cache: StepCache, params: dict) -> tuple[np.ndarray, dict]:
    """Backward through one step, given ``dh_t = dL/dh_t`` (H,).

    Returns ``dL/dh_prev`` (H,) and this step's share of the gradients
    ``{"W": (H, H), "U": (H, D), "b": (H,)}`` (the "dummy copy" ``W_t`` of [004]).
    """
    _check_shape("dh_t", np.asarray(dh_t), cache.h_t.shape, "(H,)")
    da = (1.0 - cache.h_t**2) * dh_t  # (H,)  tanh'(a_t) = 1 - h_t^2
    grads = {"W": np.outer(da, cache.h_prev), "U": np.outer(da, cache.x_t), "b": da}
    return params["W"].T @ da, grads


# ---------------------------------------------------------------------- a whole sequence

class ForwardCache(NamedTuple):
    """Everything the backward pass reuses from ``forward``."""

    xs: np.ndarray      # (T, D)
    hs: np.ndarray      # (T + 1, H); hs[0] = h0, hs[t + 1] = h_t for steps t = 0..T-1
    logits: np.ndarray  # (T, K)
    probs: np.ndarray   # (T, K)


def forward(xs: np.ndarray, h0: np.ndarray, params: dict) -> tuple[np.ndarray, ForwardCache]:
    """Run the RNN over ``xs`` (T, D) from ``h0`` (H,); return ``y`` (T, K) and the cache.

    The last hidden state is ``cache.hs[-1]``; carry it into the next chunk.
    """
    D, H, K = param_sizes(params)
    xs, h0 = np.asarray(xs, dtype=float), np.asarray(h0, dtype=float)
    if xs.ndim != 2 or xs.shape[1] != D or xs.shape[0] == 0:
        raise ValueError(f"expected xs of shape (T, D) = (T, {D}) with T >= 1, got {xs.shape}")
    _check_shape("h0", h0, (H,), "(H,)")
    T = xs.shape[0]
    hs = np.empty((T + 1, H))
    hs[0] = h0
    for t in range(T):
        hs[t + 1], _ = step_forward(xs[t], hs[t], params)
    logits = hs[1:] @ params["V"].T + params["c"]  # (T, K)
    probs = softmax(logits)  # (T, K)
    return probs, ForwardCache(xs, hs, logits, probs)


def _check_targets(targets, T: int, K: int) -> np.ndarray:
    targets = np.asarray(targets)
    if targets.shape != (T,) or not np.issubdtype(targets.dtype, np.integer):
        raise ValueError(f"expected targets of shape (T,) = ({T},) with int class indices, "
                         f"got {targets.shape} {targets.dtype}")
    if targets.min() < 0 or targets.max() >= K:
        raise ValueError(f"targets must lie in [0, K) = [0, {K}), got min {targets.min()}, "
                         f"max {targets.max()}")
    return targets


def cross_entropy(logits: np.ndarray, targets) -> float:
    """``L = -sum_t log softmax(o_t)[l_t]`` for ``logits`` (T, K) and ``targets`` (T,).

    Computed as a log-sum-exp, so it stays finite where ``y_t`` would underflow.
    A sum over time, not a mean (see notebook 03's table of conventions).
    """
    logits = np.asarray(logits, dtype=float)
    if logits.ndim != 2:
        raise ValueError(f"expected logits of shape (T, K), got {logits.shape}")
    targets = _check_targets(targets, *logits.shape)
    m = logits.max(axis=1)  # (T,)
    log_z = m + np.log(np.exp(logits - m[:, None]).sum(axis=1))  # (T,)
    return float(np.sum(log_z - logits[np.arange(len(targets)), targets]))


def backward(targets, cache: ForwardCache, params: dict,
             dh_last: np.ndarray | None = None) -> tuple[dict, np.ndarray]:
    """Backpropagation through time for the loss of ``forward``'s outputs.

    ``dh_last`` (H,) is an extra gradient arriving at the last hidden state (zero by
    default). Returns the gradients (same keys and shapes as ``params``) and
    ``dL/dh0`` (H,).
    """
    T, K = cache.probs.shape
    targets = _check_targets(targets, T, K)
    grads = {name: np.zeros_like(params[name], dtype=float) for name in PARAM_NAMES}
    dh_next = np.zeros(cache.hs.shape[1]) if dh_last is None else np.asarray(dh_last, float)
    _check_shape("dh_last", dh_next, cache.hs[0].shape, "(H,)")
    for t in reversed(range(T)):
        do = cache.probs[t].copy()  # (K,)  dL_t/do_t = y_t - l_t
        do[targets[t]] -= 1.0
        grads["V"] += np.outer(do, cache.hs[t + 1])
        grads["c"] += do
        # h_t feeds both o_t and h_{t+1}: add the two paths
        dh = params["V"].T @ do + dh_next  # (H,)
        step = StepCache(cache.xs[t], cache.hs[t], cache.hs[t + 1])
        dh_next, step_grads = step_backward(dh, step, params)
        for name, g in step_grads.items():
            grads[name] += g
    return grads, dh_next


def loss_and_grads(xs: np.ndarray, targets, h0: np.ndarray,
                   params: dict) -> tuple[float, dict, np.ndarray]:
    """Forward, loss and full BPTT in one call: ``(L, grads, h_T)``."""
    _, cache = forward(xs, h0, params)
    grads, _ = backward(targets, cache, params)
    return cross_entropy(cache.logits, targets), grads, cache.hs[-1].copy()


def truncated_bptt(xs: np.ndarray, targets, h0: np.ndarray, params: dict,
                   k: int) -> tuple[float, dict, np.ndarray]:
    """Truncated BPTT [003]: the state is carried over the whole sequence, gradients
    flow back only within consecutive chunks of ``k`` steps.

    Equals full BPTT with the hidden state detached at steps k, 2k, ...
    Returns the total loss, the summed chunk gradients and the last hidden state.
    """
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    xs, targets = np.asarray(xs, dtype=float), np.asarray(targets)
    if xs.ndim != 2 or len(targets) != len(xs):
        raise ValueError(f"expected xs (T, D) and targets (T,) of the same T, got "
                         f"{xs.shape} and {targets.shape}")
    total, grads, h = 0.0, {name: np.zeros_like(params[name], dtype=float)
                            for name in PARAM_NAMES}, h0
    for s in range(0, len(xs), k):
        loss, chunk_grads, h = loss_and_grads(xs[s:s + k], targets[s:s + k], h, params)
        total += loss
        for name in PARAM_NAMES:
            grads[name] += chunk_grads[name]
    return total, grads, h


def sample(params: dict, h0: np.ndarray, first: int, n: int, rng=None,
           temperature: float = 1.0) -> np.ndarray:
    """Sample ``n`` symbols one at a time, feeding each back as the next input [003].

    Needs one-hot inputs over the output vocabulary (D == K). ``first`` is the index of
    the first input symbol; returns the sampled indices (n,). ``rng`` is a
    ``numpy.random.Generator`` or a seed. Lower ``temperature`` sharpens ``y_t``.
    """
    D, H, K = param_sizes(params)
    if D != K:
        raise ValueError(f"sampling feeds outputs back as inputs: needs D == K, got D={D}, K={K}")
    if not 0 <= first < K:
        raise ValueError(f"first must be a symbol index in [0, {K}), got {first}")
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    h, symbol = np.asarray(h0, dtype=float), first
    _check_shape("h0", h, (H,), "(H,)")
    out = np.empty(n, dtype=np.int64)
    for t in range(n):
        x_t = np.zeros(D)  # a fresh one-hot each step
        x_t[symbol] = 1.0
        h, _ = step_forward(x_t, h, params)
        y_t = softmax((params["V"] @ h + params["c"]) / temperature)  # (K,)
        symbol = out[t] = rng.choice(K, p=y_t)
    return out
