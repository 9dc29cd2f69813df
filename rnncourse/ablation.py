"""Small training runs that compare recurrent cells on one task that needs memory
and forgetting: the LSTM versions 0/1 of [001], the odyssey variants of [000]
(Greff et al. 2015), MUT1-3 of [003] and RNN vs LSTM vs GRU (the empirical
comparison slides of [000]).

The main task, *segment sum*: an endless stream of values ``v_t`` with reset marks
``r_t``; at every step the target is the sum of the values since the last reset
(the reset step included). The cell must add (a memory) and, at a reset, throw the
memory away (a forget gate). Inputs ``(N, T, 2) = [v_t, r_t]``, targets ``(N, T, 1)``.
A second task, *recall*, needs a long memory and no forgetting: one value early in
the sequence is marked, and the target at the last step is that value.

``rnncourse ablation --out rnncourse/results/odyssey_ablation.json`` runs the
odyssey ablation and writes its results with the command, seeds and settings.
"""

import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from torch import nn

from rnncourse._io import write_json
from rnncourse.cli import command_line, non_negative_int, positive_float, positive_int
from rnncourse.cells import ODYSSEY_VARIANTS, GRUCell, LSTMCell, LSTMOptions, MUTCell, RNNCell
from rnncourse.results import RESULTS_DIR, load as load_shipped
from rnncourse.runtime import isolated_rng, threads
from rnncourse.sequence import SequenceLayer
from rnncourse.training import fit

__all__ = ["TrainConfig", "CELL_KINDS", "segment_sum_batch", "recall_batch", "make_batch",
           "make_cell", "Regressor",
           "train", "run_ablation", "run_lr_sweep", "RESULTS_DIR", "load_results"]

CELL_KINDS = ("rnn", "gru", "lstm", "lstm0", "MUT1", "MUT2", "MUT3") + ODYSSEY_VARIANTS


@dataclass
class TrainConfig:
    """Settings of one run (the defaults take a few seconds on a laptop CPU)."""

    steps: int = 150          # updates
    batch_size: int = 32      # N
    length: int = 40          # T
    hidden_size: int = 16     # H
    reset_prob: float = 0.15  # chance of a reset mark at each step
    lr: float = 1e-2          # Adam
    clip: float = 1.0         # gradient norm clipping
    forget_bias: float = 0.0  # added to b_f of LSTM cells that have a forget gate
    seed: int = 0
    val_batch_size: int = 256
    task: str = "segment_sum"  # or "recall"


def segment_sum_batch(N: int, T: int, reset_prob: float, generator: torch.Generator):
    """Inputs ``(N, T, 2) = [v_t, r_t]`` and targets ``(N, T, 1)``: sum of v since the
    last reset mark. Values are uniform in [-1, 1]; the first step always resets."""
    v = torch.rand(N, T, generator=generator) * 2 - 1
    r = (torch.rand(N, T, generator=generator) < reset_prob).float()
    r[:, 0] = 1.0
    total, targets = torch.zeros(N), []
    for v_t, r_t in zip(v.unbind(1), r.unbind(1)):
        total = total * (1 - r_t) + v_t
        targets.append(total)
    return torch.stack([v, r], dim=2), torch.stack(targets, dim=1).unsqueeze(2)


def recall_batch(N: int, T: int, generator: torch.Generator):
    """Inputs ``(N, T, 2) = [v_t, m_t]`` with one mark ``m_t = 1`` in the first tenth
    of the sequence, and targets ``(N, 1, 1)``: the marked value, asked at step T."""
    v = torch.rand(N, T, generator=generator) * 2 - 1
    where = torch.randint(0, max(T // 10, 1), (N,), generator=generator)
    m = torch.zeros(N, T)
    m[torch.arange(N), where] = 1.0
    return torch.stack([v, m], dim=2), v[torch.arange(N), where].reshape(N, 1, 1)


def make_batch(config: "TrainConfig", N: int, generator: torch.Generator):
    """A batch of the configured task: ``(inputs (N, T, 2), targets (N, T or 1, 1))``."""
    if config.task == "recall":
        return recall_batch(N, config.length, generator)
    if config.task != "segment_sum":
        raise ValueError(f"unknown task {config.task!r}: expected 'segment_sum' or 'recall'")
    return segment_sum_batch(N, config.length, config.reset_prob, generator)


def make_cell(kind: str, D: int, H: int, forget_bias: float = 0.0):
    """A cell by name: rnn, gru, lstm (version 1, PyTorch's), lstm0 (version 0 of [001],
    no forget gate), MUT1-3, or an odyssey variant (V, NIG, ..., FGR)."""
    if kind not in CELL_KINDS:
        raise ValueError(f"unknown cell kind {kind!r}: expected one of {CELL_KINDS}")
    if kind == "rnn":
        return RNNCell(D, H)
    if kind == "gru":
        return GRUCell(D, H)
    if kind.startswith("MUT"):
        return MUTCell(D, H, int(kind[3:]))
    options = {"lstm": LSTMOptions(), "lstm0": LSTMOptions(forget_gate=False)}.get(kind, kind)
    cell = LSTMCell(D, H, options)
    if forget_bias and "f" in cell.gate_order:
        with torch.no_grad():
            cell.gate("f")[2].add_(forget_bias)
    return cell


class Regressor(nn.Module):
    """One recurrent layer and a linear read-out: ``(N, T, D) -> (N, T, 1)``.

    MUT1 and MUT2 add x_t to h-sized vectors, so their input is first mapped to H."""

    def __init__(self, kind: str, D: int, H: int, forget_bias: float = 0.0):
        super().__init__()
        self.embed = nn.Linear(D, H) if kind in ("MUT1", "MUT2") else nn.Identity()
        width = H if kind in ("MUT1", "MUT2") else D
        self.rnn = SequenceLayer([make_cell(kind, width, H, forget_bias)])
        self.head = nn.Linear(H, 1)

    def forward(self, x):
        outputs, _, _ = self.rnn(self.embed(x))
        return self.head(outputs)  # (N, T, 1)


def train(kind: str, config: TrainConfig = TrainConfig(), device="cpu") -> dict:
    """Train one model (Adam, constant learning rate, gradients clipped:
    ``rnncourse.training.fit``); returns a dict with the trained ``model``, its ``losses`` after
    each update, the cumulative wall-clock ``seconds``, and ``val_loss``, the validation
    MSE at the end (data from a fixed seed, the same for every run)."""
    with isolated_rng():
        torch.manual_seed(config.seed)
        model = Regressor(kind, 2, config.hidden_size, config.forget_bias).to(device)
    data = torch.Generator().manual_seed(config.seed)

    def next_loss(step):
        x, y = make_batch(config, config.batch_size, data)
        return nn.functional.mse_loss(model(x.to(device))[:, -y.shape[1]:], y.to(device))

    seconds, start = [], time.perf_counter()
    losses = fit(model, next_loss, config,
                 on_step=lambda done, loss: seconds.append(time.perf_counter() - start))
    x, y = make_batch(config, config.val_batch_size, torch.Generator().manual_seed(10_000))
    with torch.no_grad():
        val = nn.functional.mse_loss(model(x.to(device))[:, -y.shape[1]:], y.to(device)).item()
    return {"kind": kind, "model": model, "losses": losses, "seconds": seconds, "val_loss": val}


def run_ablation(kinds=ODYSSEY_VARIANTS, seeds=(0, 1, 2), config: TrainConfig = TrainConfig(),
                 log=None) -> dict:
    """Validation MSE of every kind for every seed: ``{kind: [val per seed]}``."""
    results = {}
    for kind in kinds:
        results[kind] = []
        for seed in seeds:
            run = train(kind, replace(config, seed=seed))
            results[kind].append(run["val_loss"])
            if log:
                log(f"{kind:5} seed {seed}: val MSE {run['val_loss']:.4f}")
    return results


def run_lr_sweep(kinds, lrs, seeds=(0, 1, 2), config: TrainConfig = TrainConfig(),
                 log=None) -> dict:
    """Validation MSE for every kind, learning rate and seed: ``{kind: {str(lr): [val per
    seed]}}``. Greff et al.'s hyperparameter analysis found the learning rate to matter
    more than any change of the architecture; this is the small version of that sweep."""
    return {kind: {str(lr): run_ablation([kind], seeds, replace(config, lr=lr), log)[kind]
                   for lr in lrs} for kind in kinds}


def load_results(name: str) -> dict:
    """A shipped results file: ``{"command", "seeds", "config", "results", ...}``."""
    return load_shipped(name, f"rnncourse ablation --out rnncourse/results/{name}.json")


def add_arguments(parser) -> None:
    parser.add_argument("--kinds", nargs="+", default=list(ODYSSEY_VARIANTS), choices=CELL_KINDS,
                        help=f"cells to compare (from {', '.join(CELL_KINDS)})")
    parser.add_argument("--seeds", nargs="+", type=non_negative_int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=positive_int, default=TrainConfig.steps)
    parser.add_argument("--hidden-size", type=positive_int, default=TrainConfig.hidden_size)
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    parser.add_argument("--lrs", nargs="+", type=positive_float, default=None,
                        help="sweep these learning rates instead; the sweep is stored under "
                             "'lr_sweep' in --out, keeping what the file already holds")


def run(args) -> int:
    with threads(1):
        return _run(args)


def _run(args) -> int:
    config = TrainConfig(steps=args.steps, hidden_size=args.hidden_size)
    start = time.perf_counter()
    if getattr(args, "lrs", None):
        return _run_lr_sweep(args, config, start)
    record = _record(args, config, start, run_ablation(args.kinds, args.seeds, config, log=print),
                     task="segment sum (rnncourse.ablation.segment_sum_batch), validation MSE")
    if args.out:
        write_json(args.out, record, indent=1)
        print("wrote", args.out)
    return 0


def _record(args, config: TrainConfig, start: float, found: dict, **about) -> dict:
    """What a results file holds: the command, what was run, settings, time, results."""
    return {"command": command_line("ablation", args), **about, "seeds": args.seeds,
            "config": asdict(config), "torch": torch.__version__,
            "wall_seconds": round(time.perf_counter() - start, 1), "results": found}


def _run_lr_sweep(args, config: TrainConfig, start: float) -> int:
    sweep = _record(args, config, start,
                    run_lr_sweep(args.kinds, args.lrs, args.seeds, config, log=print), lrs=args.lrs)
    if args.out:
        path = Path(args.out)
        record = json.loads(path.read_text()) if path.exists() else {}
        write_json(path, {**record, "lr_sweep": sweep}, indent=1)
        print("wrote the sweep into", args.out)
    return 0
