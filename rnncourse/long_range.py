"""The adding problem: a long-range dependency that a vanilla RNN fails and an LSTM learns.

Each input step carries two numbers: a value drawn uniformly from [0, 1] and a marker
that is 1 at exactly two steps (one in each half of the sequence) and 0 elsewhere. The
target, read after the last step, is the sum of the two marked values (Hochreiter and
Schmidhuber 1997; Le, Jaitly and Hinton 2015 for the IRNN). Predicting the constant 1
scores a mean squared error of Var(u1 + u2) = 1/6: a model below that line has learned
to carry the marked values across the whole sequence.

Models: a tanh RNN with PyTorch's default initialisation, the same RNN with an
orthogonal recurrent matrix, the IRNN (ReLU, W_hh = I, b = 0) and an LSTM. The learning
curves shown in notebook 05 are precomputed by

    rnncourse adding --out rnncourse/results/adding_curves.json

(settings and seed are recorded in the JSON) and read back with ``load_curves``.
"""

import time
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from rnncourse._io import write_json
from rnncourse.cli import command_line, non_negative_int, path_text, positive_float, positive_int
from rnncourse.results import load as load_shipped
from rnncourse.runtime import isolated_rng, threads
from rnncourse.training import fit

__all__ = ["BASELINE_MSE", "KINDS", "adding_problem", "SequenceRegressor", "AddingConfig",
           "train_adding", "run_all", "load_curves", "add_arguments", "run"]

BASELINE_MSE = 1.0 / 6.0
KINDS = ("lstm", "rnn", "rnn_orthogonal", "irnn")


def adding_problem(n: int, T: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` adding-problem sequences of length ``T``: x (N, T, 2) and y (N,)."""
    if T < 2:
        raise ValueError(f"expected a sequence length T >= 2, got {T}")
    values = torch.rand(n, T, generator=generator)
    first = torch.randint(0, T // 2, (n,), generator=generator)
    second = torch.randint(T // 2, T, (n,), generator=generator)
    markers = torch.zeros(n, T)
    rows = torch.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = torch.stack([values, markers], dim=-1)  # (N, T, 2)
    y = values[rows, first] + values[rows, second]  # (N,)
    return x, y


class SequenceRegressor(nn.Module):
    """A recurrent layer (``kind`` in KINDS) read out by a linear layer after the last step."""

    def __init__(self, kind: str, hidden_size: int = 64, input_size: int = 2):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"expected kind in {KINDS}, got {kind!r}")
        self.kind = kind
        if kind == "lstm":
            self.rnn = nn.LSTM(input_size, hidden_size, batch_first=True)
        else:
            nonlinearity = "relu" if kind == "irnn" else "tanh"
            self.rnn = nn.RNN(input_size, hidden_size, nonlinearity=nonlinearity, batch_first=True)
        with torch.no_grad():
            if kind == "irnn":
                self.rnn.weight_hh_l0.copy_(torch.eye(hidden_size))
                self.rnn.bias_hh_l0.zero_()
                self.rnn.bias_ih_l0.zero_()
                nn.init.normal_(self.rnn.weight_ih_l0, std=0.001)
            elif kind == "rnn_orthogonal":
                nn.init.orthogonal_(self.rnn.weight_hh_l0)
        self.readout = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, T, D) -> predictions (N,)."""
        out, _ = self.rnn(x)  # (N, T, H)
        return self.readout(out[:, -1]).squeeze(-1)


@dataclass
class AddingConfig:
    """Settings of one training run on the adding problem."""

    T: int = 50
    hidden_size: int = 32
    batch_size: int = 32
    steps: int = 1500
    lr: float = 3e-3
    clip: float = 1.0
    eval_every: int = 50
    eval_size: int = 500
    seed: int = 0
    kinds: list = field(default_factory=lambda: list(KINDS))


def train_adding(kind: str, config: AddingConfig, device: str = "cpu", on_eval=None) -> dict:
    """Train one model with Adam and clipping by norm (``rnncourse.training.fit``); return
    its learning curve.

    The curve is the mean squared error on a fixed evaluation set, every
    ``eval_every`` steps (step 0 included); ``on_eval(kind, step, mse)`` sees each point.
    """
    g_data = torch.Generator().manual_seed(config.seed + 1)
    g_eval = torch.Generator().manual_seed(config.seed + 2)
    x_eval, y_eval = (t.to(device) for t in adding_problem(config.eval_size, config.T, g_eval))
    with isolated_rng():
        torch.manual_seed(config.seed)
        model = SequenceRegressor(kind, config.hidden_size).to(device)
    steps, mse = [], []

    def evaluate(step, loss=None):
        if step % config.eval_every == 0:
            with torch.no_grad():
                steps.append(step)
                mse.append(float(((model(x_eval) - y_eval) ** 2).mean()))
            if on_eval:
                on_eval(kind, step, mse[-1])

    def next_loss(step):
        x, y = (t.to(device) for t in adding_problem(config.batch_size, config.T, g_data))
        return ((model(x) - y) ** 2).mean()

    start = time.perf_counter()
    evaluate(0)
    fit(model, next_loss, config, on_step=evaluate)
    return {"steps": steps, "mse": mse, "seconds": round(time.perf_counter() - start, 1)}


def run_all(config: AddingConfig, device: str = "cpu", on_eval=None) -> dict:
    """Curves of every kind in ``config.kinds``, with the settings that made them."""
    curves = {kind: train_adding(kind, config, device, on_eval) for kind in config.kinds}
    return {"task": "adding problem", "baseline_mse": BASELINE_MSE, "config": asdict(config),
            "torch": torch.__version__, "curves": curves}


def load_curves(name: str = "adding_curves") -> dict:
    """The precomputed curves shipped in ``rnncourse/results/<name>.json``."""
    return load_shipped(name, f"rnncourse adding --out rnncourse/results/{name}.json")


def add_arguments(parser) -> None:
    """``rnncourse adding``: precompute the adding-problem learning curves."""
    parser.add_argument("--out", type=path_text, required=True, help="JSON file to write")
    defaults = AddingConfig()
    parser.add_argument("--T", type=positive_int, default=defaults.T, help="sequence length")
    for name in ("hidden_size", "batch_size", "steps"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=positive_int,
                            default=getattr(defaults, name))
    parser.add_argument("--seed", type=non_negative_int, default=defaults.seed)
    parser.add_argument("--lr", type=positive_float, default=defaults.lr)
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=defaults.kinds)
    parser.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads")


def run(args) -> int:
    config = AddingConfig(T=args.T, hidden_size=args.hidden_size, batch_size=args.batch_size,
                          steps=args.steps, seed=args.seed, lr=args.lr, kinds=args.kinds)

    def progress(kind, step, mse):
        print(f"{kind:15s} step {step:5d}  mse {mse:.4f}", flush=True)

    with threads(args.threads):
        result = {"command": command_line("adding", args, leave_out=("threads",)),
                  **run_all(config, on_eval=progress)}
    write_json(args.out, result, indent=1)
    for kind, curve in result["curves"].items():
        print(f"{kind:15s} final mse {curve['mse'][-1]:.4f}  ({curve['seconds']} s)")
    return 0
