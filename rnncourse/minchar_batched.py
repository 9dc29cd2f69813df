"""The min-char-rnn model of ``rnncourse.minchar``, batched and vectorised in numpy.

Same parameters, same equations, same Adagrad; two changes make it fast:

- N tracks of the text are read side by side, so every step multiplies (N, H)
  matrices instead of (H,) vectors;
- everything that does not depend on the previous step is done for all T steps at
  once: the input lookup ``W_xh[:, x_t]``, the output layer and softmax, and the
  weight gradients, which become sums over N * T rows (one matrix product each).

Only the recurrence ``h_t = tanh(a_t + h_{t-1} W_hh^T)`` and its backward pass stay
a Python loop over t. The loss is summed over time and averaged over the batch, so
with N = 1 it equals ``minchar.loss_and_grads``. Shapes: N batch, T time, H hidden,
V vocabulary.

``training_run`` trains one setting of ``SETTINGS`` and records held-out loss per
character and samples along the way; the command line writes the records that notebook
4 plots (``rnncourse/results/minchar_training*.json``, each with the command that made it):

    OPENBLAS_NUM_THREADS=1 rnncourse minchar --out FILE [--steps ...]
"""

import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict

import numpy as np

from rnncourse._io import write_json
from rnncourse.data.corpora import python_docs
from rnncourse.minchar import (TrainConfig, Vocabulary, init_params, loss_and_grads,
                               sample, softmax, train)
from rnncourse.results import load as load_shipped

__all__ = ["loss_and_grads_batched", "train_batched", "loss_per_char", "SETTINGS",
           "training_run", "load_training", "retrain", "training_record",
           "add_arguments", "run"]

# the listing's hyperparameters (deck 003) and the smaller ones notebook 04 trains live
SETTINGS = {"listing": {"hidden_size": 100, "lr": 0.1}, "small": {"hidden_size": 64, "lr": 0.03}}


def loss_and_grads_batched(params: dict, inputs, targets, h_prev: np.ndarray):
    """Forward and backward over a batch of chunks.

    inputs, targets: ints (N, T); h_prev: (N, H).
    Returns (loss summed over T and averaged over N, grads, h_T (N, H)).
    """
    W_xh, W_hh, W_hy, b_h, b_y = (params[k] for k in ("W_xh", "W_hh", "W_hy", "b_h", "b_y"))
    inputs, targets = np.asarray(inputs), np.asarray(targets)
    if inputs.ndim != 2 or inputs.shape != targets.shape:
        raise ValueError(f"expected inputs and targets of shape (N, T), got {inputs.shape} "
                         f"and {targets.shape}")
    N, T = inputs.shape
    if h_prev.shape != (N, W_hh.shape[0]):
        raise ValueError(f"expected h_prev of shape (N, H) = {(N, W_hh.shape[0])}, got {h_prev.shape}")
    a_in = W_xh.T[inputs] + b_h  # (N, T, H): the input's column of W_xh, for every step
    hs = np.empty((N, T + 1, W_hh.shape[0]))  # hs[:, t + 1] = h_t
    hs[:, 0] = h_prev
    for t in range(T):
        hs[:, t + 1] = np.tanh(a_in[:, t] + hs[:, t] @ W_hh.T)
    ps = softmax(hs[:, 1:] @ W_hy.T + b_y)  # (N, T, V)
    n_ix, t_ix = np.arange(N)[:, None], np.arange(T)[None, :]
    loss = -np.log(ps[n_ix, t_ix, targets]).sum() / N

    dy = ps.copy()
    dy[n_ix, t_ix, targets] -= 1.0
    dy /= N  # (N, T, V)
    dh_out = dy @ W_hy  # (N, T, H): dL/dh_t through y_t
    da = np.empty_like(dh_out)  # dL/da_t, a_t the input of tanh
    dh_next = np.zeros_like(h_prev)
    for t in reversed(range(T)):
        da[:, t] = (1.0 - hs[:, t + 1] ** 2) * (dh_out[:, t] + dh_next)
        dh_next = da[:, t] @ W_hh
    H, V = W_hh.shape[0], W_hy.shape[0]
    rows_da = da.reshape(-1, H)  # (N*T, H)
    dW_xh_T = np.zeros((V, H))
    np.add.at(dW_xh_T, inputs.reshape(-1), rows_da)
    grads = {"W_xh": dW_xh_T.T,
             "W_hh": rows_da.T @ hs[:, :-1].reshape(-1, H),
             "W_hy": dy.reshape(-1, V).T @ hs[:, 1:].reshape(-1, H),
             "b_h": rows_da.sum(axis=0),
             "b_y": dy.reshape(-1, V).sum(axis=0)}
    return float(loss), grads, hs[:, T].copy()


def train_batched(text: str, config: TrainConfig, batch_size: int = 32, params=None, on_sample=None):
    """``minchar.train`` with ``batch_size`` tracks read side by side."""
    if batch_size < 1:
        raise ValueError(f"expected batch_size >= 1, got {batch_size}")
    return train(text, config, params=params, on_sample=on_sample, batch_size=batch_size,
                 loss_fn=loss_and_grads_batched)


def loss_per_char(params: dict, data: np.ndarray, seq_length: int = 25, batch_size: int = 32) -> float:
    """Mean cross-entropy in nats per character of the model on ``data`` (ints (L,)).

    The text is cut into ``batch_size`` tracks read chunk by chunk with the state carried,
    as in training, and no parameter changes.
    """
    N = max(1, min(batch_size, len(data) // (seq_length + 1)))
    tracks = np.asarray(data)[: N * (len(data) // N)].reshape(N, -1)  # (N, L)
    if tracks.shape[1] < seq_length + 1:
        raise ValueError(f"expected at least {seq_length + 1} characters, got {len(data)}")
    h = np.zeros((N, params["W_hh"].shape[0]))
    total, count = 0.0, 0
    for p in range(0, tracks.shape[1] - seq_length, seq_length):
        inputs, targets = tracks[:, p:p + seq_length], tracks[:, p + 1:p + seq_length + 1]
        loss, _, h = loss_and_grads_batched(params, inputs, targets, h)
        total, count = total + loss * N, count + inputs.size
    return total / count


def training_run(text: str, setting: str, seed: int = 0, steps: int = 4000, batch_size: int = 32,
                 eval_every: int = 250, sample_steps=(0, 100, 300, 1000, 4000),
                 val_fraction: float = 0.1, sample_length: int = 300) -> dict:
    """Train one setting of ``SETTINGS`` on the first 90% of ``text``; record its progress.

    At step 0 and every ``eval_every`` steps: the validation loss per character on the
    last 10% of the text and the mean training loss per character since the last point;
    at ``sample_steps``: a sample of ``sample_length`` characters, drawn after the model
    has read the first 200 validation characters (so that its state is a typical one).
    """
    if setting not in SETTINGS:
        raise ValueError(f"expected a setting in {sorted(SETTINGS)}, got {setting!r}")
    split = int(len(text) * (1 - val_fraction))
    train_text = text[:split]
    vocab = Vocabulary(train_text)
    val_data = vocab.encode("".join(ch for ch in text[split:] if ch in vocab.index))
    config = TrainConfig(seq_length=25, steps=steps, seed=seed, **SETTINGS[setting])
    rng = np.random.default_rng(seed + 1000)
    record = {"setting": setting, **SETTINGS[setting], "seed": seed, "batch_size": batch_size,
              "steps": [], "chars": [], "val_loss_per_char": [], "train_loss_per_char": [],
              "samples": []}

    def observe(step, params, train_loss):
        if step % eval_every == 0 or step == steps:
            record["steps"].append(step)
            record["chars"].append(step * batch_size * config.seq_length)
            record["val_loss_per_char"].append(round(loss_per_char(params, val_data), 5))
            record["train_loss_per_char"].append(round(train_loss, 5))
        if step in sample_steps:
            prompt = val_data[:200]
            _, _, h = loss_and_grads(params, prompt[:-1], prompt[1:], np.zeros(config.hidden_size))
            text_out = vocab.decode(sample(params, h, int(prompt[-1]), sample_length, rng))
            record["samples"].append({"step": step, "text": text_out})

    params = init_params(len(vocab), config.hidden_size, np.random.default_rng(seed))
    observe(0, params, float(np.log(len(vocab))))  # untrained: about a uniform guess

    def on_step(step, params, log):
        done = step + 1
        if done in sample_steps or done % eval_every == 0 or done == steps:
            recent = log.loss[-(done - (record["steps"][-1] if record["steps"] else 0)):]
            observe(done, params, float(np.mean(recent)) / config.seq_length)

    start = time.perf_counter()
    train(train_text, config, params=params, batch_size=batch_size,
          loss_fn=loss_and_grads_batched, on_step=on_step)
    record["seconds"] = round(time.perf_counter() - start, 1)
    return record


def _run(args):
    setting, seed, steps, batch_size = args
    return training_run(python_docs(), setting, seed, steps, batch_size,
                        eval_every=max(250, steps // 16), sample_steps=sorted({0, 100, 300, 1000, steps // 4, steps}))


def load_training(name: str = "minchar_training") -> dict:
    """The precomputed training record shipped in ``rnncourse/results/<name>.json``."""
    return load_shipped(name, f"rnncourse minchar --out rnncourse/results/{name}.json")


def retrain(name: str = "minchar_training") -> dict:
    """Run the command recorded in a shipped record again (without writing its ``--out``);
    return the new record."""
    import shlex

    from rnncourse.cli import verb_parser

    words = shlex.split(load_training(name)["command"])
    if words[:2] != ["rnncourse", "minchar"]:
        raise ValueError(f"expected an `rnncourse minchar ...` command in {name}, got {words[:2]}")
    args = verb_parser("minchar").parse_args(words[2:])
    args.out = None
    return training_record(args)


def add_arguments(parser) -> None:
    """The options of ``rnncourse minchar``."""
    from rnncourse.cli import path_text, positive_int, non_negative_int

    parser.add_argument("--out", type=path_text, help="JSON file to write (default: write nothing)")
    parser.add_argument("--steps", type=positive_int, default=4000)
    parser.add_argument("--batch-size", type=positive_int, default=32)
    parser.add_argument("--seeds", type=non_negative_int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--settings", nargs="+", choices=sorted(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--jobs", type=positive_int, default=1, help="processes run side by side")


def training_record(args) -> dict:
    """Train every setting and seed of ``args`` (``rnncourse minchar``'s options); return the
    record, written to ``args.out`` if given."""
    from rnncourse.cli import command_line

    jobs = [(s, seed, args.steps, args.batch_size) for s in args.settings for seed in args.seeds]
    start = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            runs = list(pool.map(_run, jobs))
    else:
        runs = [_run(job) for job in jobs]
    for run in runs:
        print(f"{run['setting']:8s} seed {run['seed']}: validation loss "
              f"{run['val_loss_per_char'][-1]:.3f} nats/char ({run['seconds']} s)", flush=True)
    text = python_docs()
    result = {"command": command_line("minchar", args, leave_out=("jobs",)),
              "task": "min-char-rnn on the Python language reference (pydoc_data.topics), "
                      "first 90% for training, last 10% for validation",
              "corpus_chars": len(text), "python": sys.version.split()[0], "numpy": np.__version__,
              "settings": SETTINGS, "config": {k: v for k, v in asdict(TrainConfig()).items()
                                               if k in ("seq_length", "clip")},
              "steps": args.steps, "batch_size": args.batch_size, "seeds": args.seeds,
              "minutes": round((time.perf_counter() - start) / 60, 1), "runs": runs}
    if args.out:
        write_json(args.out, result, indent=1)
    return result


def run(args) -> int:
    """``rnncourse minchar``: the training runs notebook 4 plots (set OPENBLAS_NUM_THREADS=1)."""
    training_record(args)
    return 0
