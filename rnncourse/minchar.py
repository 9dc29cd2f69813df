"""A minimal character-level vanilla RNN in numpy, in the spirit of min-char-rnn.

Our own program after the 112-line listing of slide deck 003 (Karpathy's min-char-rnn
gist), with the listing's bugs fixed (notebook 04 lists them). One sequence, one
character at a time:

    h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)      x_t one-hot, so W_xh x_t = W_xh[:, x_t]
    y_t = W_hy h_t + b_y,   p_t = softmax(y_t),   L = sum_t -log p_t[target_t]

trained by truncated backpropagation through time over chunks of ``seq_length``
characters (the hidden state is carried from chunk to chunk), elementwise clipping to
[-5, 5] and Adagrad with one memory per parameter. Shapes: T time, V vocabulary,
H hidden units; parameters ``W_xh (H, V)``, ``W_hh (H, H)``, ``W_hy (V, H)``,
``b_h (H,)``, ``b_y (V,)``.
"""

import time
from dataclasses import dataclass, field

import numpy as np

from rnncourse.data.vocab import Vocab

__all__ = ["Vocabulary", "init_params", "softmax", "loss_and_grads",
           "adagrad_memories", "adagrad_update", "sample", "TrainConfig", "TrainLog", "train"]

PARAM_NAMES = ("W_xh", "W_hh", "W_hy", "b_h", "b_y")


class Vocabulary(Vocab):
    """The characters of a text in sorted order, no specials, unknown characters refused
    (a setting of ``rnncourse.data.vocab.Vocab``); ids come as NumPy arrays.

    (Sorted, so the indices do not change between runs: ``list(set(text))`` orders
    characters by string hashes, which Python salts per process.)
    """

    def __init__(self, text: str):
        if not text:
            raise ValueError("expected a non-empty text to build a vocabulary from")
        super().__init__(set(text), specials=(), unknown=None)

    @property
    def index(self) -> dict:
        """Character -> id (``stoi``)."""
        return self.stoi

    def encode(self, text: str) -> np.ndarray:
        """Text -> int array (T,) of character indices."""
        return np.array(self.ids(text), dtype=np.int64)


def init_params(V: int, H: int, rng: np.random.Generator, scale: float = 0.01) -> dict:
    """Small random weights, zero biases (float64)."""
    return {"W_xh": rng.standard_normal((H, V)) * scale,
            "W_hh": rng.standard_normal((H, H)) * scale,
            "W_hy": rng.standard_normal((V, H)) * scale,
            "b_h": np.zeros(H), "b_y": np.zeros(V)}


def softmax(y: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the maximum so exp never overflows."""
    e = np.exp(y - y.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def loss_and_grads(params: dict, inputs, targets, h_prev: np.ndarray):
    """Forward and backward over one chunk.

    inputs, targets: ints (T,), targets[t] is the character after inputs[t];
    h_prev: (H,) state before the chunk.
    Returns (loss summed over the chunk, grads with the parameters' names, h_T (H,)).
    """
    W_xh, W_hh, W_hy, b_h, b_y = (params[k] for k in PARAM_NAMES)
    T = len(inputs)
    if len(targets) != T:
        raise ValueError(f"expected {T} targets for {T} inputs, got {len(targets)}")
    hs = np.zeros((T + 1, W_hh.shape[0]))  # hs[t + 1] = h_t; hs[0] = h_prev
    hs[0] = h_prev
    ps = np.zeros((T, W_hy.shape[0]))
    loss = 0.0
    for t in range(T):
        hs[t + 1] = np.tanh(W_xh[:, inputs[t]] + W_hh @ hs[t] + b_h)
        ps[t] = softmax(W_hy @ hs[t + 1] + b_y)
        loss -= np.log(ps[t, targets[t]])
    grads = {k: np.zeros_like(params[k]) for k in PARAM_NAMES}
    dh_next = np.zeros_like(h_prev)  # dL/dh_t through h_{t+1}
    for t in reversed(range(T)):
        dy = ps[t].copy()
        dy[targets[t]] -= 1.0  # softmax + cross-entropy: p - onehot
        grads["W_hy"] += np.outer(dy, hs[t + 1])
        grads["b_y"] += dy
        dh = W_hy.T @ dy + dh_next
        da = (1.0 - hs[t + 1] ** 2) * dh  # through tanh
        grads["W_xh"][:, inputs[t]] += da
        grads["W_hh"] += np.outer(da, hs[t])
        grads["b_h"] += da
        dh_next = W_hh.T @ da
    return float(loss), grads, hs[T].copy()


def adagrad_memories(params: dict) -> dict:
    """One zero array per parameter: Adagrad's running sums of squared gradients."""
    return {k: np.zeros_like(v) for k, v in params.items()}


def adagrad_update(params: dict, grads: dict, memories: dict, lr: float, eps: float = 1e-8) -> None:
    """In place: ``m += g**2``, ``theta -= lr * g / sqrt(m + eps)`` for every parameter."""
    for k in params:
        memories[k] += grads[k] ** 2
        params[k] -= lr * grads[k] / np.sqrt(memories[k] + eps)


def sample(params: dict, h: np.ndarray, seed_ix: int, n: int, rng: np.random.Generator) -> list:
    """Draw ``n`` characters, each fed back as the next input, starting from ``seed_ix``."""
    ixes, ix = [], seed_ix
    for _ in range(n):
        h = np.tanh(params["W_xh"][:, ix] + params["W_hh"] @ h + params["b_h"])
        p = softmax(params["W_hy"] @ h + params["b_y"])
        ix = int(rng.choice(len(p), p=p))
        ixes.append(ix)
    return ixes


@dataclass
class TrainConfig:
    """Hyperparameters of min-char-rnn (the listing's values by default).

    With these, W_hh's spectral norm reaches ~10 within a few hundred steps and the
    state saturates, so short runs look better with ``hidden_size=64, lr=0.03``; longer
    runs compare differently (``rnncourse/results/minchar_training.json``, notebook 04).
    """

    hidden_size: int = 100
    seq_length: int = 25
    lr: float = 0.1
    clip: float = 5.0
    steps: int = 1000
    sample_every: int = 0  # 0: no samples
    sample_length: int = 200
    seed: int = 0


@dataclass
class TrainLog:
    """What training produced: chunk losses, their moving average, samples, throughput."""

    loss: list = field(default_factory=list)  # per chunk of seq_length characters
    smooth_loss: list = field(default_factory=list)
    samples: list = field(default_factory=list)  # (step, text)
    chars: int = 0
    seconds: float = 0.0

    @property
    def chars_per_second(self) -> float:
        return self.chars / self.seconds if self.seconds else float("nan")


def train(text: str, config: TrainConfig, params: dict | None = None, on_sample=None,
          batch_size: int | None = None, loss_fn=loss_and_grads, on_step=None):
    """Sweep over ``text`` in chunks of ``seq_length`` characters, carrying the state.

    Returns (params, vocabulary, log). ``on_sample(step, text)`` is called with each
    sample (e.g. ``print``). Pass ``params`` to continue training them. With
    ``batch_size`` N the text is cut into N equal tracks read side by side, chunks are
    (N, T) and ``loss_fn`` must take them (``rnncourse.minchar_batched``).
    ``on_step(step, params, log)`` is called after each update (e.g. to evaluate).
    """
    vocab = Vocabulary(text)
    data = vocab.encode(text)
    N, T = batch_size or 1, config.seq_length
    tracks = data[: N * (len(data) // N)].reshape(N, -1)  # (N, L)
    if tracks.shape[1] < T + 1:
        raise ValueError(f"expected a text of at least {N * (T + 1)} characters for "
                         f"{N} track(s) of {T + 1}, got {len(data)}")
    rng = np.random.default_rng(config.seed)
    if params is None:
        params = init_params(len(vocab), config.hidden_size, rng)
    memories = adagrad_memories(params)
    log = TrainLog()
    smooth = -np.log(1.0 / len(vocab)) * T  # the loss of a uniform guess
    p, h = 0, None
    start = time.perf_counter()
    for step in range(config.steps):
        if h is None or p + T + 1 > tracks.shape[1]:  # start (again) from the beginning
            p, h = 0, np.zeros((N, config.hidden_size) if batch_size else config.hidden_size)
        inputs, targets = tracks[:, p:p + T], tracks[:, p + 1:p + T + 1]  # (N, T)
        if batch_size is None:
            inputs, targets = inputs[0], targets[0]
        if config.sample_every and step % config.sample_every == 0:
            h_0 = h if batch_size is None else h[0]
            txt = vocab.decode(sample(params, h_0, inputs.flat[0], config.sample_length, rng))
            log.samples.append((step, txt))
            if on_sample:
                on_sample(step, txt)
        loss, grads, h = loss_fn(params, inputs, targets, h)
        for g in grads.values():
            np.clip(g, -config.clip, config.clip, out=g)
        adagrad_update(params, grads, memories, config.lr)
        smooth = 0.999 * smooth + 0.001 * loss
        log.loss.append(loss)
        log.smooth_loss.append(smooth)
        log.chars += inputs.size
        p += T
        if on_step:
            on_step(step, params, log)
    log.seconds = time.perf_counter() - start
    return params, vocab, log
