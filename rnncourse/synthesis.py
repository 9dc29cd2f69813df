"""Handwriting synthesis: an LSTM that writes a given text (Graves 2013, section 5).

The handwriting LSTM of ``rnncourse.handwriting`` writes pen strokes but cannot be told
*what* to write. The synthesis network reads the text ``c_1 .. c_U`` (one-hot characters)
through a soft window, a mixture of K Gaussians over the character positions u = 1..U:

    (alpha_hat, beta_hat, kappa_hat) = W h1_t + b          (3K numbers from layer 1)
    alpha_t = exp(alpha_hat)     importance of each Gaussian
    beta_t  = exp(beta_hat)      its sharpness (1 / width)
    kappa_t = kappa_{t-1} + exp(kappa_hat)   its position: it can only move forward
    phi(t, u) = sum_k alpha_t^k exp(-beta_t^k (kappa_t^k - u)^2)
    w_t = sum_u phi(t, u) c_u                (the window: a soft character)

Layer 1 reads (x_t, w_{t-1}); the window w_t is computed from its output h1_t and goes
to layer 2 (with x_t and h1_t), to the output layer, and to layer 1 at the next step.
The output is the mixture density of ``rnncourse.mdn`` (M bivariate Gaussians and a
pen-lift probability) over the next pen offset, trained by its negative log-likelihood.

Only layer 1 and the window need a Python loop over time (w_t depends on h1_t, which
depends on w_{t-1}); layer 2 then runs over the whole sequence at once.

Data: words and short phrases written with the Hershey script font
(``rnncourse.data.strokes``), every copy with its own slant, size and wobble, thinned to
every second point so a letter takes about nine steps. ``TEST_WORDS`` never appear in
training; ``legibility`` measures how many of them a model writes recognisably (DTW to the
font's rendering of each test word, see ``dtw``).

Reproduce the shipped model ``handwriting_synthesis`` with the command in its record
(``rnncourse synthesis ...``).
"""

import hashlib
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rnncourse._io import atomic_path
from rnncourse.cli import (command_line, non_negative_float, non_negative_int, path_text,
                           positive_float, positive_int)
from rnncourse.data.strokes import (offsets_to_polylines, pad_strokes, polylines_to_offsets,
                                    word_strokes)
from rnncourse.mdn import mdn_nll, n_outputs, sample, split_outputs
from rnncourse.runtime import isolated_rng, threads
from rnncourse.training import LoopConfig, fit

__all__ = ["ALPHABET", "TEST_WORDS", "encode_text", "window_step", "SynthesisModel",
           "thin_strokes", "training_words", "synthesis_batch", "TrainConfig", "train_synthesis",
           "resample_path", "dtw", "legibility", "write_legibility_results", "validation_nll",
           "LEAVE_OUT", "add_arguments", "run"]

ALPHABET = " abcdefghijklmnopqrstuvwxyz"

# held out: five-letter words the model never sees in training (legibility is measured on them)
TEST_WORDS = ("house water light green plant stone quick zebra brown candy "
              "fjord vixen mango pixel robot tulip waltz kayak bugle crisp").split()


def encode_text(texts, alphabet: str = ALPHABET) -> tuple[torch.Tensor, torch.Tensor]:
    """Texts -> one-hot characters c (N, U, V) and a mask (N, U) of real characters."""
    if isinstance(texts, str):
        texts = [texts]
    if not texts:
        raise ValueError("expected at least one text, got none")
    for text in texts:
        bad = sorted(set(text) - set(alphabet))
        if not text or bad:
            raise ValueError(f"expected a non-empty text of the characters {alphabet!r}, "
                             f"got {text!r}")
    U = max(len(t) for t in texts)
    c = torch.zeros(len(texts), U, len(alphabet))
    mask = torch.zeros(len(texts), U)
    for n, text in enumerate(texts):
        for u, ch in enumerate(text):
            c[n, u, alphabet.index(ch)] = 1.0
        mask[n, :len(text)] = 1.0
    return c, mask


def window_step(window_hat: torch.Tensor, kappa_prev: torch.Tensor, c: torch.Tensor,
                mask: torch.Tensor | None = None):
    """One step of the soft window (Graves 2013, eqs. 46-51).

    window_hat (N, 3K): the raw (alpha_hat, beta_hat, kappa_hat), in that order;
    kappa_prev (N, K); c (N, U, V) one-hot characters; mask (N, U) 1 on real characters.
    Returns w (N, V), kappa (N, K) and phi (N, U), with positions u = 1..U.
    """
    alpha_hat, beta_hat, kappa_hat = window_hat.chunk(3, dim=-1)  # (N, K) each
    alpha, beta = alpha_hat.exp(), beta_hat.exp()
    kappa = kappa_prev + kappa_hat.exp()
    u = torch.arange(1, c.shape[1] + 1, device=c.device, dtype=c.dtype)  # (U,)
    phi = (alpha.unsqueeze(-1)
           * torch.exp(-beta.unsqueeze(-1) * (kappa.unsqueeze(-1) - u) ** 2)).sum(1)  # (N, U)
    if mask is not None:
        phi = phi * mask
    w = torch.einsum("nu,nuv->nv", phi, c)
    return w, kappa, phi


class SynthesisModel(nn.Module):
    """Two LSTM layers with the soft window between them and an MDN head.

    forward(x (N, T, 3), c (N, U, V), mask (N, U)) -> y_hat (N, T, 1 + 6M), state, phi (N, T, U).
    """

    def __init__(self, hidden_size: int = 128, n_window: int = 6, n_components: int = 10,
                 alphabet: str = ALPHABET):
        super().__init__()
        self.hidden_size, self.n_window, self.n_components = hidden_size, n_window, n_components
        self.alphabet = alphabet
        V = len(alphabet)
        self.lstm1 = nn.LSTMCell(3 + V, hidden_size)
        self.window = nn.Linear(hidden_size, 3 * n_window)
        self.lstm2 = nn.LSTM(3 + hidden_size + V, hidden_size, batch_first=True)
        self.head = nn.Linear(2 * hidden_size + V, n_outputs(n_components))
        with torch.no_grad():  # start the window slowly: kappa moves ~0.1 character a step
            self.window.bias[2 * n_window:] = -2.3

    def initial_state(self, n: int, device=None):
        device = device or next(self.parameters()).device
        H, K, V = self.hidden_size, self.n_window, len(self.alphabet)
        zeros = torch.zeros(n, H, device=device)
        return {"h1": zeros, "c1": zeros.clone(), "kappa": torch.zeros(n, K, device=device),
                "w": torch.zeros(n, V, device=device), "lstm2": None}

    def forward(self, x: torch.Tensor, c: torch.Tensor, mask: torch.Tensor, state=None):
        if x.ndim != 3 or x.shape[-1] != 3:
            raise ValueError(f"expected x of shape (N, T, 3), got {tuple(x.shape)}")
        if c.ndim != 3 or c.shape[-1] != len(self.alphabet) or c.shape[0] != x.shape[0]:
            raise ValueError(f"expected c of shape ({x.shape[0]}, U, {len(self.alphabet)}), "
                             f"got {tuple(c.shape)}")
        state = state or self.initial_state(x.shape[0], x.device)
        h1, c1, kappa, w = state["h1"], state["c1"], state["kappa"], state["w"]
        hs, ws, phis = [], [], []
        for t in range(x.shape[1]):
            h1, c1 = self.lstm1(torch.cat([x[:, t], w], -1), (h1, c1))
            w, kappa, phi = window_step(self.window(h1), kappa, c, mask)
            hs.append(h1)
            ws.append(w)
            phis.append(phi)
        h1s, w_s = torch.stack(hs, 1), torch.stack(ws, 1)  # (N, T, H), (N, T, V)
        h2s, lstm2 = self.lstm2(torch.cat([x, h1s, w_s], -1), state["lstm2"])
        y_hat = self.head(torch.cat([h1s, h2s, w_s], -1))
        new_state = {"h1": h1, "c1": c1, "kappa": kappa, "w": w, "lstm2": lstm2}
        return y_hat, new_state, torch.stack(phis, 1)

    @torch.no_grad()
    def write(self, text: str, bias: float = 0.0, seed: int = 0, max_steps: int | None = None,
              prime: tuple | None = None):
        """Write ``text``: (strokes (T, 3), phi (T, U)) on the CPU (see ``write_many``)."""
        (strokes,), (phi,) = self.write_many([text], bias, seed, max_steps, prime)
        return strokes, phi

    @torch.no_grad()
    def write_many(self, texts, bias: float = 0.0, seed: int = 0, max_steps: int | None = None,
                   prime: tuple | None = None):
        """Write every text of ``texts`` at once (one batch): lists of strokes (T_i, 3) and of
        window weights phi (T_i, U_i), on the CPU.

        A text is finished when the window has passed its last character (phi(t, U + 1)
        is larger than every phi(t, u), Graves' rule) or after ``max_steps`` (default 20
        steps per character of the longest text). ``prime=(strokes (P, 3), prime_text)``
        first runs the model over a given handwriting of ``prime_text`` so the samples
        continue in its style; each text read is then ``prime_text + " " + text``, and
        only the new strokes are returned.
        """
        if bias < 0:
            raise ValueError(f"expected a bias >= 0, got {bias}")
        if isinstance(texts, str) or not len(texts):
            raise ValueError(f"expected a list of texts, got {texts!r}")
        device = next(self.parameters()).device
        generator = torch.Generator(device="cpu").manual_seed(seed)
        full = [t if prime is None else f"{prime[1]} {t}" for t in texts]
        c, mask = (t.to(device) for t in encode_text(full, self.alphabet))
        N, U = c.shape[:2]
        lengths = mask.sum(1).long()  # (N,)
        # one more position U + 1 (no character) past each text, so phi(t, U + 1) can be computed
        c_ext = torch.cat([c, torch.zeros_like(c[:, :1])], 1)
        mask_ext = torch.cat([mask, torch.zeros_like(mask[:, :1])], 1)
        mask_ext[torch.arange(N), lengths] = 1.0
        state = self.initial_state(N, device)
        x = torch.tensor([0.0, 0.0, 1.0], device=device).expand(N, 1, 3)
        if prime is not None:
            strokes = torch.as_tensor(np.asarray(prime[0]), dtype=torch.float32, device=device)
            if strokes.ndim != 2 or strokes.shape[1] != 3:
                raise ValueError(f"expected priming strokes of shape (P, 3), got {tuple(strokes.shape)}")
            given = torch.cat([x, strokes[None, :-1].expand(N, -1, 3)], 1)
            _, state, _ = self(given, c_ext, mask_ext, state)
            x = strokes[None, -1:].expand(N, 1, 3)
        max_steps = max_steps or 20 * max(len(t) for t in texts)
        written, phis = [], []
        done_at = torch.full((N,), max_steps, dtype=torch.long)
        for t in range(max_steps):
            y_hat, state, phi = self(x, c_ext, mask_ext, state)
            x = sample(split_outputs(y_hat.cpu(), bias=bias), generator=generator).to(device)
            written.append(x[:, 0].cpu())
            phi = phi[:, 0].cpu()  # (N, U + 1)
            phis.append(phi)
            last = phi.gather(1, lengths.cpu()[:, None])[:, 0]
            inside = torch.where(torch.arange(U + 1) < lengths.cpu()[:, None], phi, -1.0)
            finished = (last > inside.max(1).values) & (done_at == max_steps)
            done_at[finished] = t + 1
            if (done_at < max_steps).all():
                break
        written, phis = torch.stack(written, 1), torch.stack(phis, 1)  # (N, T, 3), (N, T, U + 1)
        return ([written[n, :done_at[n]] for n in range(N)],
                [phis[n, :done_at[n], :lengths[n]] for n in range(N)])


def thin_strokes(steps: np.ndarray, every: int = 2) -> np.ndarray:
    """(T, 3) offsets -> the same strokes keeping every ``every``-th point of each stroke
    (and always its last point, so the pen lifts where it did)."""
    lines = offsets_to_polylines(steps)
    kept = [np.concatenate([line[:-1][::every], line[-1:]]) for line in lines]
    return polylines_to_offsets(kept).astype(np.float32)


def training_words(text: str) -> list[str]:
    """The distinct lower-case words (2 to 8 letters) of ``text``, sorted, minus ``TEST_WORDS``."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    return sorted(w for w in words if 2 <= len(w) <= 8 and w not in TEST_WORDS)


def synthesis_batch(texts, seed: int = 0, jitter: float = 1.0, every: int = 2):
    """Inputs, targets, step mask, characters and character mask for a list of texts:
    x (N, T, 3), y (N, T, 3), mask (N, T), c (N, U, V), c_mask (N, U).

    Each text is one jittered copy (slant, size, wobble: ``word_strokes``), thinned
    (``thin_strokes``), with a pen-up zero step in front so the first target is the first point.
    """
    start = np.array([[0.0, 0.0, 1.0]], dtype=np.float32)
    sequences = [np.concatenate([start, thin_strokes(s, every)])
                 for s in word_strokes(list(texts), copies=1, jitter=jitter, seed=seed)]
    padded, mask = pad_strokes(sequences)
    c, c_mask = encode_text(list(texts))
    return padded[:, :-1], padded[:, 1:], mask[:, 1:], c, c_mask


@dataclass
class TrainConfig:
    """The synthesis recipe: the model, the data, and the loop (``rnncourse.training``)."""

    hidden_size: int = 128
    n_window: int = 6
    n_components: int = 10
    steps: int = 4000
    max_minutes: float = 0.0   # stop early after this much wall time (0: never)
    batch_size: int = 32
    lr: float = 2e-3
    clip: float = 5.0
    max_chars: int = 12        # phrases of one or two words up to this many characters
    seed: int = 0


def _phrases(words, n: int, max_chars: int, rng: np.random.Generator) -> list[str]:
    """``n`` random phrases: one word, or two joined by a space when they fit in ``max_chars``."""
    out = []
    while len(out) < n:
        first = words[rng.integers(len(words))]
        second = words[rng.integers(len(words))]
        two = f"{first} {second}"
        out.append(two if rng.random() < 0.5 and len(two) <= max_chars else first[:max_chars])
    return out


def train_synthesis(config: TrainConfig, words, device=None, log_every: int = 0,
                    checkpoint: str | None = None):
    """Train a SynthesisModel on fresh jittered phrases of ``words`` every step
    (``rnncourse.training.fit``); returns (model, losses per step, validation NLL).
    ``checkpoint``: a path where the weights are saved every 200 steps.

    The validation set is one jittered copy of every ``TEST_WORDS`` word (never trained on).
    """
    device = device or torch.device("cpu")
    with isolated_rng():
        torch.manual_seed(config.seed)
        model = SynthesisModel(config.hidden_size, config.n_window, config.n_components).to(device)
    rng = np.random.default_rng(config.seed)

    def next_loss(step):
        texts = _phrases(words, config.batch_size, config.max_chars, rng)
        x, y, mask, c, c_mask = (t.to(device) for t in
                                 synthesis_batch(texts, seed=config.seed * 1_000_003 + step))
        y_hat, _, _ = model(x, c, c_mask)
        return mdn_nll(split_outputs(y_hat), y, mask)

    def on_step(done, loss):
        if checkpoint and done % 200 == 0:
            with atomic_path(checkpoint) as tmp:
                torch.save(model.state_dict(), tmp)
        return False

    loop = LoopConfig(steps=config.steps, lr=config.lr, clip=config.clip, schedule="cosine",
                      warmup=100, max_minutes=config.max_minutes or None, log_every=log_every)
    losses = fit(model, next_loss, loop, on_step=on_step, name="synthesis")
    return model, losses, validation_nll(model, seed=config.seed + 1)


@torch.no_grad()
def validation_nll(model: SynthesisModel, seed: int = 1) -> float:
    """Mean NLL per step of one jittered copy of every ``TEST_WORDS`` word."""
    device = next(model.parameters()).device
    x, y, mask, c, c_mask = (t.to(device) for t in synthesis_batch(TEST_WORDS, seed=seed))
    return mdn_nll(split_outputs(model.eval()(x, c, c_mask)[0]), y, mask).item()


# --- legibility without a human: dynamic time warping against the font ------------------

def resample_path(steps, n: int = 64) -> np.ndarray:
    """(T, 3) offsets -> ``n`` points (n, 2) evenly spaced along the pen-down path, centred
    and scaled to unit height, so that paths of any size and speed compare."""
    lines = [line for line in offsets_to_polylines(steps) if len(line)]
    if not lines:
        raise ValueError("expected strokes with at least one point")
    points = np.concatenate(lines)
    seg = np.zeros(len(points))
    for i in range(1, len(points)):  # pen-up jumps between strokes count as no length
        seg[i] = 0.0 if i in np.cumsum([len(l) for l in lines])[:-1] else np.linalg.norm(
            points[i] - points[i - 1])
    arc = np.cumsum(seg)
    if arc[-1] <= 0:
        return np.repeat(points[:1] - points[:1], n, axis=0)
    at = np.linspace(0.0, arc[-1], n)
    out = np.column_stack([np.interp(at, arc, points[:, 0]), np.interp(at, arc, points[:, 1])])
    out -= out.mean(axis=0)
    return out / max(np.ptp(out[:, 1]), 1e-6)


def dtw(a: np.ndarray, b: np.ndarray) -> float | np.ndarray:
    """Dynamic time warping distance between point sequences a (n, 2) and b (m, 2): the
    least summed Euclidean distance over monotone alignments (steps (1,0), (0,1), (1,1)),
    divided by n + m. ``b`` may be a stack (W, m, 2): then the W distances, (W,)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    many = b.ndim == 3
    b = b if many else b[None]
    cost = np.linalg.norm(a[None, :, None] - b[:, None], axis=-1)  # (W, n, m)
    W, n, m = cost.shape
    D = np.full((W, n + 1, m + 1), np.inf)
    D[:, 0, 0] = 0.0
    for i in range(1, n + 1):
        row, prev = D[:, i], D[:, i - 1]
        from_above = np.minimum(prev[:, :-1], prev[:, 1:])  # (W, m): from (i-1, j-1) or (i-1, j)
        for j in range(1, m + 1):
            row[:, j] = cost[:, i - 1, j - 1] + np.minimum(from_above[:, j - 1], row[:, j - 1])
    out = D[:, n, m] / (n + m)
    return out if many else float(out[0])


def legibility(model: SynthesisModel, words=TEST_WORDS, bias: float = 2.0, seed: int = 0,
               n_points: int = 64):
    """Write every word (one batch, ``write_many``) and find, by DTW, which font rendering
    among all ``words`` each sample is nearest to. Returns (fraction recognised,
    distances (W, W): sample i to rendering j, the samples)."""
    renders = np.stack([resample_path(word_strokes([w], jitter=0.0)[0], n_points) for w in words])
    samples, _ = model.write_many(list(words), bias=bias, seed=seed)
    D = np.stack([dtw(resample_path(s.numpy(), n_points), renders) for s in samples])
    return float(np.mean(D.argmin(1) == np.arange(len(words)))), D, samples


def write_legibility_results(name: str = "handwriting_synthesis", biases=(0.0, 0.5, 1.0, 2.0),
                             seeds=(0, 1, 2), headline_bias: float = 2.0, path=None) -> dict:
    """Legibility of the shipped model ``name`` at every bias and seed, written to
    ``rnncourse/results/synthesis_legibility.json`` (what notebook 14 reports)."""
    from rnncourse._io import write_json
    from rnncourse.pretrained import load
    from rnncourse.results import RESULTS_DIR

    model = load(name, device="cpu")
    by_bias = {f"{b:g}": [legibility(model, bias=b, seed=s)[0] for s in seeds] for b in biases}
    result = {
        "made_by": f"rnncourse.synthesis.write_legibility_results(name={name!r}, biases={tuple(biases)}, "
                   f"seeds={tuple(seeds)}, headline_bias={headline_bias})",
        "model": name, "words": list(TEST_WORDS), "chance": 1 / len(TEST_WORDS),
        "measure": "fraction of TEST_WORDS whose sample is nearer (DTW of 64 resampled pen-down "
                   "points) to the font rendering of its own word than to that of any other test word",
        "bias": headline_bias, "seeds": list(seeds),
        "fraction_recognised": by_bias.get(f"{headline_bias:g}") or
                               [legibility(model, bias=headline_bias, seed=s)[0] for s in seeds],
        "by_bias": by_bias, "torch": torch.__version__}
    write_json(Path(path) if path else RESULTS_DIR / "synthesis_legibility.json", result)
    return result

# --- command line ------------------------------------------------------------------------

# options that say where or how fast a run happens, not what it makes: not in the record's command
LEAVE_OUT = ("threads", "checkpoint")

_CHECKS = {"hidden_size": positive_int, "n_window": positive_int, "n_components": positive_int,
           "steps": positive_int, "max_minutes": non_negative_float, "batch_size": positive_int,
           "lr": positive_float, "clip": positive_float, "max_chars": positive_int,
           "seed": non_negative_int}


def add_arguments(parser) -> None:
    """``rnncourse synthesis``: one option per ``TrainConfig`` field."""
    for field, value in asdict(TrainConfig()).items():
        parser.add_argument(f"--{field.replace('_', '-')}", type=_CHECKS[field], default=value,
                            help=f"default: {value}")
    parser.add_argument("--name", default="handwriting_synthesis", help="name of the shipped model")
    parser.add_argument("--checkpoint", type=path_text, default=None,
                        help="save the model here every 200 steps")
    parser.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads")


def run(args) -> int:
    from rnncourse.data.corpora import tiny_shakespeare
    from rnncourse.pretrained import Record, save

    config = TrainConfig(**{f: getattr(args, f) for f in asdict(TrainConfig())})
    text = tiny_shakespeare()
    words = training_words(text)
    began = time.time()

    with threads(args.threads):
        model, losses, val = train_synthesis(config, words, log_every=50,
                                             checkpoint=args.checkpoint)
    seconds = time.time() - began
    # measured on the weights as shipped (float16, read back as float32), like the notebook
    shipped = SynthesisModel(config.hidden_size, config.n_window, config.n_components)
    shipped.load_state_dict({k: v.half().float() for k, v in model.cpu().state_dict().items()})
    score, _, _ = legibility(shipped.eval())
    save(args.name, model.cpu(), Record(
        builder="rnncourse.synthesis:SynthesisModel",
        config={"hidden_size": config.hidden_size, "n_window": config.n_window,
                "n_components": config.n_components},
        training={
            "command": command_line("synthesis", args, leave_out=LEAVE_OUT),
            "seed": config.seed, "steps": len(losses), "hyperparameters": asdict(config),
            "data": {"description": "rnncourse.synthesis.synthesis_batch of random one- or "
                                    "two-word phrases of training_words(tiny Shakespeare), "
                                    "Hershey 'scripts' font, a fresh jittered copy every step",
                     "sha256": hashlib.sha256("\n".join(words).encode()).hexdigest()},
            "device": "cpu", "torch": torch.__version__, "wall_time_s": round(seconds, 1),
            "threads": args.threads},
        metrics={"train_last_100_nll_nats_per_step": round(float(np.mean(losses[-100:])), 4),
                 "val_nll_nats_per_step": round(val, 4),
                 "test_dtw_recognised_fraction": round(score, 4)}))
    print(f"saved {args.name}: {len(losses)} steps, validation NLL {val:.3f} nats/step, "
          f"legibility {score:.2f} in {seconds:.0f} s")
    return 0

