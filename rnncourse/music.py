"""Polyphonic music as sequences of binary vectors: the tanh RNN / GRU / LSTM comparison
of Chung et al. (2014) on the JSB chorales (deck [000], "empirical evaluation of gated
recurrent units"; data and split of Boulanger-Lewandowski et al. 2012).

The model reads the piano roll one frame at a time and, at every step, gives 88
independent Bernoulli probabilities for the keys of the *next* frame:

    h_t = cell(x_{t-1}, h_{t-1})          x_0 = 0 (no frame before the first)
    p(x_t | x_<t) = prod_k sigmoid(a_tk)^x_tk (1 - sigmoid(a_tk))^(1 - x_tk),  a_t = V h_t + c

The cells are ``rnncourse.cells`` run by ``rnncourse.sequence.SequenceLayer`` (fused
``torch.nn`` kernels). The NLL per time step, as the papers report it, is
``-log p(x_t | x_<t)`` summed over the 88 keys, averaged over every frame of a split
(``evaluate``); frame-level accuracy is Bay et al.'s ``TP / (TP + FP + FN)`` summed over
frames, its expectation under the model as Boulanger-Lewandowski et al. report it.

``rnncourse music --cell gru --seed 0`` trains one run with early stopping on
the validation NLL and writes ``results/jsb_gru_seed0.json`` (curves against updates and
seconds, test metrics, the command); ``--ship`` also writes ``pretrained/jsb_gru``.
Shapes: N batch, T time, H hidden units, K = 88 keys.
"""

import argparse
import hashlib
import json
import math
import platform
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rnncourse._io import write_json
from rnncourse.cells import GRUCell, LSTMCell, RNNCell
from rnncourse.data.jsb import JSB_FILE, MIDI_LOW, N_KEYS, load_jsb, pad_rolls
from rnncourse.device import get_device
from rnncourse.runtime import threads
from rnncourse.sequence import SequenceLayer
from rnncourse.training import LoopConfig, fit

__all__ = ["CELLS", "HIDDEN_SIZES", "PAPER", "PianoRollRNN", "frame_nll", "frame_accuracy",
           "evaluate", "TrainConfig", "train", "command_line", "run_name", "RESULTS_DIR",
           "shipped_training", "shipped_metrics",
           "load_run", "load_runs", "sample", "synthesize", "add_arguments", "run"]

CELLS = ("tanh", "gru", "lstm")
_CELL_CLASSES = {"tanh": RNNCell, "gru": GRUCell, "lstm": LSTMCell}
# Hidden sizes giving ~20k parameters each with our layout (one bias per gate, an
# 88 -> H input, an H -> 88 output): tanh 20,312, GRU 20,332, LSTM 20,528.
HIDDEN_SIZES = {"tanh": 79, "gru": 42, "lstm": 35}
# Chung et al. 2014: Table 1 (units, "~20k parameters") and Table 2 (JSB Chorales,
# average negative log-probability per time step, nats).
PAPER = {
    "units": {"tanh": 100, "gru": 46, "lstm": 36},
    "params": {"tanh": 20100, "gru": 20200, "lstm": 19800},
    "train_nll": {"tanh": 8.82, "gru": 6.94, "lstm": 8.15},
    "test_nll": {"tanh": 9.10, "gru": 8.54, "lstm": 8.67},
}
RESULTS_DIR = Path(__file__).parent / "results"


class PianoRollRNN(nn.Module):
    """One recurrent layer over 88-dim binary frames, 88 Bernoulli logits out.

    ``cell`` is ``"tanh"``, ``"gru"`` or ``"lstm"``; ``hidden_size`` defaults to
    ``HIDDEN_SIZES[cell]`` (about 20k parameters). ``forward(x, mask=None, state=None)``
    takes the frames ``x (N, T, 88)`` and returns ``(logits (N, T, 88), state)`` where
    ``logits[:, t]`` predict frame ``t`` from frames ``< t``.
    """

    def __init__(self, cell: str = "gru", hidden_size: int | None = None):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        self.config = {"cell": cell, "hidden_size": hidden_size or HIDDEN_SIZES[cell]}
        self.rnn = SequenceLayer.stack(_CELL_CLASSES[cell], N_KEYS, self.config["hidden_size"])
        self.out = nn.Linear(self.config["hidden_size"], N_KEYS)

    @torch.no_grad()
    def init_output_bias(self, rolls) -> None:
        """Set ``c`` to the log-odds of each key's frequency in ``rolls`` (add-half
        smoothing), so training starts from the best frame-independent model instead
        of p = 1/2 for every key (88 log 2 = 61 nats per frame)."""
        on = sum(np.asarray(r, dtype=np.float64).sum(0) for r in rolls)  # (88,)
        frames = sum(len(r) for r in rolls)
        freq = (on + 0.5) / (frames + 1.0)
        self.out.bias.copy_(torch.as_tensor(np.log(freq / (1 - freq)), dtype=torch.float32))

    def step_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """The inputs ``x_{t-1}``: frames shifted one step right, zeros first. ``(N, T, 88)``."""
        return torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)

    def forward(self, x, mask=None, state=None, shift: bool = True):
        if x.dim() != 3 or x.shape[2] != N_KEYS:
            raise ValueError(f"expected frames x of shape (N, T, {N_KEYS}), got {tuple(x.shape)}")
        inputs = self.step_inputs(x) if shift else x
        h, state, _ = self.rnn(inputs, state=state, mask=mask)  # (N, T, H)
        return self.out(h), state  # (N, T, 88)


def frame_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``-log p(x_t)`` of every frame under 88 independent Bernoullis: ``(..., 88) -> (...)``.

    Summed over the keys, computed from logits without ever forming ``log(sigmoid)``:
    ``softplus(a) - x a`` (what ``binary_cross_entropy_with_logits`` computes).
    """
    return nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)


def _float64(a) -> torch.Tensor:
    """A float64 tensor copy of a tensor or array (broadcast views are not writable)."""
    return a.detach().double() if torch.is_tensor(a) else torch.from_numpy(np.array(a, np.float64))


def frame_accuracy(pred, x, mask=None) -> float:
    """Frame-level accuracy (Bay et al. 2009): ``sum TP / (sum TP + sum FP + sum FN)``.

    ``pred (..., 88)`` is a 0/1 prediction, or probabilities, which gives the expected
    counts (``TP = sum p x``, ``FP = sum p (1 - x)``, ``FN = sum (1 - p) x``): the accuracy
    expected under the model's independent Bernoullis (exact for many frames).
    ``mask (...)`` excludes padding frames.
    """
    pred, x = _float64(pred), _float64(x)
    if mask is not None:
        keep = _float64(mask).unsqueeze(-1)
        pred, x = pred * keep, x * keep
    tp = (pred * x).sum()
    fp = (pred * (1 - x)).sum()
    fn = ((1 - pred) * x).sum()
    return float(tp / (tp + fp + fn))


@torch.no_grad()
def evaluate(model: PianoRollRNN, rolls, batch_size: int = 128) -> dict:
    """Metrics of ``model`` on a list of piano rolls.

    ``nll``: total NLL / number of frames (nats per time step, the papers' metric);
    ``nll_seq_mean``: the per-sequence average NLL averaged over sequences (the other
    reading of "per time step"); ``acc_expected`` and ``acc_threshold`` (p > 0.5):
    frame-level accuracy; ``frames``: number of frames.
    """
    model.eval()
    device = next(model.parameters()).device
    total, frames, seq_means, tp_e, fp_e, fn_e, tp, fp, fn = 0.0, 0, [], 0.0, 0.0, 0.0, 0, 0, 0
    for start in range(0, len(rolls), batch_size):
        x, mask = pad_rolls(rolls[start:start + batch_size], device)
        logits, _ = model(x, mask)
        nll = frame_nll(logits, x) * mask  # (N, T)
        total += nll.sum().item()
        frames += int(mask.sum())
        seq_means += (nll.sum(1) / mask.sum(1)).tolist()
        p = torch.sigmoid(logits) * mask.unsqueeze(-1)
        m = mask.unsqueeze(-1).float()
        tp_e += (p * x).sum().item()
        fp_e += (p * (1 - x) * m).sum().item()
        fn_e += ((1 - p) * x).sum().item()
        hard = (p > 0.5).float()
        tp += int((hard * x).sum())
        fp += int((hard * (1 - x)).sum())
        fn += int(((1 - hard) * x).sum())
    return {"nll": total / frames, "nll_seq_mean": float(np.mean(seq_means)),
            "acc_expected": tp_e / (tp_e + fp_e + fn_e), "acc_threshold": tp / (tp + fp + fn),
            "frames": frames}


@dataclass
class TrainConfig:
    """One training run: Adam on minibatches of whole chorales, gradient norm clipping,
    early stopping on the validation NLL (the best epoch's weights are kept)."""

    cell: str = "gru"
    hidden_size: int = 0      # 0: HIDDEN_SIZES[cell]
    seed: int = 0
    lr: float = 1e-2
    batch_size: int = 16      # chorales per update
    clip: float = 1.0         # gradient norm
    max_epochs: int = 200
    patience: int = 20        # epochs without a better validation NLL before stopping
    device: str = "cpu"


def run_name(config: TrainConfig) -> str:
    return f"jsb_{config.cell}_seed{config.seed}"


def command_line(config: TrainConfig, ship: bool = False) -> str:
    """The ``rnncourse music ...`` command that reproduces ``config`` (every option spelled out)."""
    from rnncourse.cli import command_line as verb_command

    args = argparse.Namespace(**asdict(config), out_dir=None, ship=ship, threads=1, quiet=False)
    return verb_command("music", args, leave_out=("threads", "quiet"))


def _data_sha256(path=None) -> str:
    return hashlib.sha256(Path(JSB_FILE if path is None else path).read_bytes()).hexdigest()


def train(config: TrainConfig, data=None, log=None, max_updates: int | None = None) -> dict:
    """Train one model with ``rnncourse.training.fit``, an epoch being one pass over the
    shuffled training chorales; returns ``{"model", "curve", "first_losses", "best_epoch", ...}``.

    ``curve`` has one entry per epoch: ``update`` (updates so far), ``seconds`` (training
    wall-clock time so far, evaluation excluded), ``train_nll`` (mean over the epoch's
    minibatches, per frame) and ``valid_nll``. ``first_losses`` are the losses of the
    first 20 updates (a cheap fingerprint for reproduction). ``max_updates`` stops early
    (used by tests to replay the start of a run).
    """
    data = load_jsb() if data is None else data
    device = get_device(config.device) if config.device != "cpu" else torch.device("cpu")
    torch.manual_seed(config.seed)
    model = PianoRollRNN(config.cell, config.hidden_size or None)
    model.init_output_bias(data["train"])
    model.to(device)
    order = torch.Generator().manual_seed(config.seed)
    train_rolls = data["train"]
    per_epoch = math.ceil(len(train_rolls) / config.batch_size)
    loop = LoopConfig(steps=config.max_epochs * per_epoch, lr=config.lr, clip=config.clip)
    # the state of the epoch under way, and of the run
    epoch = {"perm": [], "start": 0.0, "nll": 0.0, "frames": 0}
    run = {"curve": [], "first_losses": [], "seconds": 0.0, "best": float("inf"), "best_state": None,
           "best_epoch": 0, "waited": 0}

    def next_loss(step):
        b = (step % per_epoch) * config.batch_size
        if b == 0:
            epoch.update(perm=torch.randperm(len(train_rolls), generator=order).tolist(),
                         start=time.perf_counter(), nll=0.0, frames=0)
        x, mask = pad_rolls([train_rolls[i] for i in epoch["perm"][b:b + config.batch_size]], device)
        logits, _ = model(x, mask)
        nll = (frame_nll(logits.float(), x) * mask).sum()
        epoch["nll"] += nll.item()
        epoch["frames"] += int(mask.sum())
        return nll / mask.sum()  # nats per frame

    def on_step(updates, loss):
        if len(run["first_losses"]) < 20:
            run["first_losses"].append(loss)
        if max_updates is not None and updates >= max_updates:
            return True
        if updates % per_epoch:
            return False
        run["seconds"] += time.perf_counter() - epoch["start"]
        n, seconds, train_nll = updates // per_epoch, run["seconds"], epoch["nll"] / epoch["frames"]
        valid = evaluate(model, data["valid"])["nll"]
        run["curve"].append({"epoch": n, "update": updates, "seconds": round(seconds, 3),
                             "train_nll": train_nll, "valid_nll": valid})
        if log:
            log(f"{config.cell} seed {config.seed} epoch {n:3d} update {updates:5d} "
                f"{seconds:6.1f}s train {train_nll:.3f} valid {valid:.3f}")
        if valid < run["best"]:
            run.update(best=valid, best_epoch=n, waited=0,
                       best_state={k: v.detach().clone() for k, v in model.state_dict().items()})
            return False
        run["waited"] += 1
        return run["waited"] >= config.patience

    updates = len(fit(model, next_loss, loop, on_step=on_step, name=f"jsb {config.cell}"))
    if max_updates is not None and updates >= max_updates:
        return {"model": model, "first_losses": run["first_losses"], "updates": updates}
    model.load_state_dict(run["best_state"])
    return {"model": model, "curve": run["curve"], "first_losses": run["first_losses"],
            "updates": updates, "best_epoch": run["best_epoch"], "train_seconds": run["seconds"]}


def load_run(name: str, directory=RESULTS_DIR) -> dict:
    """A shipped results file ``<name>.json`` (e.g. ``"jsb_gru_seed0"``)."""
    path = Path(directory) / f"{name}.json"
    if not path.exists():
        raise KeyError(f"no results {name!r} in {directory}")
    return json.loads(path.read_text())


def load_runs(directory=RESULTS_DIR) -> dict:
    """Every shipped JSB run: ``{cell: [record per seed, by seed]}``."""
    runs = {cell: [] for cell in CELLS}
    for path in sorted(Path(directory).glob("jsb_*_seed*.json")):
        record = json.loads(path.read_text())
        runs[record["config"]["cell"]].append(record)
    for cell in runs:
        runs[cell].sort(key=lambda r: r["config"]["seed"])
    return runs


@torch.no_grad()
def sample(model: PianoRollRNN, T: int, n: int = 1, generator=None, prime=None) -> torch.Tensor:
    """Draw ``n`` piano rolls of ``T`` frames, frame by frame from the model's Bernoullis.

    ``prime (T0, 88)``, if given, is fed first (and kept as the first T0 frames).
    Returns ``(n, T, 88)`` float 0/1 on the CPU.
    """
    model.eval()
    device = next(model.parameters()).device
    frames, state = [], None
    x_prev = torch.zeros(n, 1, N_KEYS, device=device)
    primed = [] if prime is None else torch.as_tensor(np.asarray(prime), dtype=torch.float32)
    for t in range(T):
        logits, state = model(x_prev, state=state, shift=False)  # (n, 1, 88)
        if t < len(primed):
            x_t = primed[t].to(device).expand(n, 1, N_KEYS)
        else:
            p = torch.sigmoid(logits).cpu()
            x_t = torch.bernoulli(p, generator=generator).to(device)
        frames.append(x_t)
        x_prev = x_t
    return torch.cat(frames, dim=1).cpu()


def synthesize(roll, sample_rate: int = 16000, frame_seconds: float = 0.3,
               harmonics=(1.0, 0.5, 0.3, 0.15), attack: float = 0.01,
               release: float = 0.06) -> np.ndarray:
    """A piano roll ``(T, 88)`` -> mono audio, float32 in [-1, 1], by additive synthesis.

    Each key sounding over consecutive frames is one note (the data cannot tell a held
    note from a repeated one): a sum of ``harmonics`` (amplitudes of partials 1, 2, ...)
    of the key's equal-tempered frequency ``440 * 2 ** ((midi - 69) / 12)``, shaped by a
    linear attack, an exponential decay and a linear release so notes do not click.
    """
    roll = np.asarray(roll)
    if roll.ndim != 2 or roll.shape[1] != N_KEYS:
        raise ValueError(f"expected a piano roll of shape (T, {N_KEYS}), got {roll.shape}")
    hop = int(round(frame_seconds * sample_rate))
    tail = int(round(release * sample_rate))
    audio = np.zeros(roll.shape[0] * hop + tail)
    padded = np.vstack([np.zeros((1, N_KEYS)), roll > 0, np.zeros((1, N_KEYS))]).astype(int)
    for k in range(N_KEYS):
        edges = np.diff(padded[:, k])
        for on, off in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            n = (off - on) * hop + tail
            t = np.arange(n) / sample_rate
            f0 = 440.0 * 2 ** ((MIDI_LOW + k - 69) / 12)
            tone = sum(a * np.sin(2 * np.pi * f0 * (j + 1) * t)
                       for j, a in enumerate(harmonics) if f0 * (j + 1) < sample_rate / 2)
            env = np.minimum(1.0, t / attack) * np.exp(-1.5 * t)
            env[-tail:] *= np.linspace(1.0, 0.0, tail)
            audio[on * hop:on * hop + n] += tone * env
    peak = np.abs(audio).max()
    return (audio / peak * 0.9 if peak > 0 else audio).astype(np.float32)


def _parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def add_arguments(parser) -> None:
    """The options of ``rnncourse music`` (one per field of ``TrainConfig``)."""
    from rnncourse import cli

    checks = {"cell": str, "hidden_size": cli.non_negative_int, "seed": cli.non_negative_int,
              "lr": cli.positive_float, "batch_size": cli.positive_int, "clip": cli.positive_float,
              "max_epochs": cli.positive_int, "patience": cli.positive_int, "device": cli.device_name}
    for f in fields(TrainConfig):
        parser.add_argument("--" + f.name.replace("_", "-"), type=checks[f.name],
                            default=f.default, choices=CELLS if f.name == "cell" else None)
    parser.add_argument("--out-dir", type=cli.path_text, default=None,
                        help="where the results JSON goes (default: the package's results folder)")
    parser.add_argument("--ship", action="store_true",
                        help="also save the model as rnncourse/pretrained/jsb_<cell>")
    parser.add_argument("--threads", type=cli.positive_int, default=1, help="torch CPU threads")
    parser.add_argument("--quiet", action="store_true")


def run(args) -> int:
    """``rnncourse music``: train one run on ``--threads`` torch threads (restored after),
    write its results file and, with ``--ship``, the model."""
    with threads(args.threads):
        return _run(args)


def _run(args) -> int:
    config = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
    data = load_jsb()
    wall = time.perf_counter()
    result = train(config, data, log=None if args.quiet else print)
    model = result["model"]
    metrics = {split: evaluate(model, data[split]) for split in ("train", "valid", "test")}
    command = command_line(config, ship=args.ship)
    record = {
        "command": command,
        "config": asdict(config) | {"hidden_size": model.config["hidden_size"]},
        "parameters": _parameter_count(model),
        "data": {"file": JSB_FILE.name, "sha256": _data_sha256()},
        "seed": config.seed,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "device": str(next(model.parameters()).device),
        "cpu": platform.processor() or platform.machine(),
        "train_seconds": round(result["train_seconds"], 1),
        "wall_seconds": round(time.perf_counter() - wall, 1),
        "updates": result["updates"],
        "best_epoch": result["best_epoch"],
        "metrics": metrics,
        "metric_units": "nll: nats per time step (sum over the 88 keys, mean over frames); "
                        "acc: frame-level accuracy TP/(TP+FP+FN)",
        "first_losses": result["first_losses"],
        "curve": result["curve"],
    }
    out = Path(args.out_dir or RESULTS_DIR) / f"{run_name(config)}.json"
    write_json(out, record, indent=1)
    print(f"wrote {out}: test NLL {metrics['test']['nll']:.3f}, "
          f"expected accuracy {metrics['test']['acc_expected']:.3f}")
    if args.ship:
        from rnncourse import pretrained

        meta = {"builder": "rnncourse.music:PianoRollRNN", "config": model.config,
                "training": shipped_training(record), "metrics": shipped_metrics(metrics)}
        pretrained.save(f"jsb_{config.cell}", model.cpu(), meta, half=False)
        print(f"saved pretrained jsb_{config.cell}")
    return 0


def shipped_training(record: dict) -> dict:
    """The ``training`` part of a shipped model's record (the pretrained schema)."""
    return {"command": record["command"], "seed": record["seed"], "steps": record["updates"],
            "hyperparameters": {k: v for k, v in record["config"].items() if k != "hidden_size"},
            "data": {"description": "JSB chorales, quarter-note piano rolls over 88 keys, the "
                                    "229/76/77 split of Boulanger-Lewandowski et al. (2012)",
                     "sha256": record["data"]["sha256"]},
            "device": record["device"], "torch": record["torch"],
            "wall_time_s": record["train_seconds"], "parameters": record["parameters"],
            "best_epoch": record["best_epoch"]}


def shipped_metrics(metrics: dict) -> dict:
    """Split metrics named as the pretrained schema wants (<split>_<what>_<unit>)."""
    return {"train_nll_nats_per_step": metrics["train"]["nll"],
            "val_nll_nats_per_step": metrics["valid"]["nll"],
            "test_nll_nats_per_step": metrics["test"]["nll"],
            "test_frame_accuracy_fraction": metrics["test"]["acc_expected"]}
