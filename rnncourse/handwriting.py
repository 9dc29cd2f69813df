"""An LSTM with a mixture density output that writes pen strokes (Graves 2013, section 4).

The model reads x_t = (dx, dy, pen_lift) and outputs the raw mixture parameters y_hat_t
of the next step (see rnncourse.mdn); training minimises the mixture's negative
log-likelihood, and writing samples one step at a time, feeding each sample back in.
Graves stacks three LSTM layers with skip connections; one small layer is enough for
the font-written words of rnncourse.data.strokes.

Reproduce the shipped model ``handwriting_lstm`` with the command in its record,
``rnncourse handwriting --steps 1500 --hidden-size 64 --seed 0 ...`` (one CPU thread,
about 6 minutes on a busy 2-core machine).
"""

import argparse
import hashlib
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from rnncourse.cli import (command_line, non_negative_float, non_negative_int, positive_float,
                           positive_int)
from rnncourse.data.strokes import pad_strokes, word_strokes
from rnncourse.mdn import mdn_nll, n_outputs, sample, split_outputs
from rnncourse.runtime import isolated_rng, threads
from rnncourse.training import LoopConfig, fit

__all__ = ["WORDS", "HandwritingLSTM", "TrainConfig", "handwriting_data", "train_handwriting",
           "add_arguments", "run"]

WORDS = ("a an and are as at be but by can do for from go had has he her him his how if in "
         "is it its me my no not of on one or our out see she so the them then they this "
         "to up us was we what when who will with you your hello world write pen ink "
         "minimum cursive letters online quill").split()


class HandwritingLSTM(nn.Module):
    """LSTM (input 3 -> H) followed by a linear MDN head (H -> 1 + 6M).

    forward: x (N, T, 3) -> y_hat (N, T, 1 + 6M), state (h, c) each (1, N, H).
    """

    def __init__(self, hidden_size: int = 64, n_components: int = 10):
        super().__init__()
        self.hidden_size, self.n_components = hidden_size, n_components
        self.lstm = nn.LSTM(3, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, n_outputs(n_components))

    def forward(self, x: torch.Tensor, state=None):
        if x.ndim != 3 or x.shape[-1] != 3:
            raise ValueError(f"expected x of shape (N, T, 3), got {tuple(x.shape)}")
        out, state = self.lstm(x, state)  # (N, T, H)
        return self.head(out), state

    @torch.no_grad()
    def write(self, steps: int, bias: float = 0.0, n: int = 1, seed: int = 0) -> torch.Tensor:
        """Sample ``n`` stroke sequences of ``steps`` steps: (n, steps, 3), on the CPU.

        Starts from a pen-up zero step; ``bias`` b sharpens every step's mixture.
        The same seed gives the same strokes.
        """
        generator = torch.Generator(device="cpu").manual_seed(seed)
        device = next(self.parameters()).device
        x = torch.zeros(n, 1, 3, device=device)
        x[..., 2] = 1.0
        state, written = None, []
        for _ in range(steps):
            y_hat, state = self(x, state)
            params = split_outputs(y_hat.cpu(), bias=bias)
            x = sample(params, generator=generator)  # (n, 1, 3)
            written.append(x)
            x = x.to(device)
        return torch.cat(written, dim=1)


@dataclass
class TrainConfig:
    """The handwriting recipe: the model, the data, and the loop (``rnncourse.training``)."""

    hidden_size: int = 64
    n_components: int = 10
    steps: int = 1500
    max_minutes: float = 0.0  # stop early after this much wall time (0: never)
    batch_size: int = 32
    lr: float = 3e-3
    copies: int = 8          # jittered copies of every word
    clip: float = 10.0       # gradient norm clipping
    seed: int = 0


def handwriting_data(words=WORDS, copies: int = 8, seed: int = 0):
    """Inputs, targets and mask for next-step prediction: x (N, T, 3), y (N, T, 3), mask (N, T).

    Every sequence gets a pen-up zero step in front, so the first target is the first point.
    """
    sequences = word_strokes(list(words), copies=copies, seed=seed)
    start = np.array([[0.0, 0.0, 1.0]], dtype=np.float32)
    padded, mask = pad_strokes([np.concatenate([start, s]) for s in sequences])
    return padded[:, :-1], padded[:, 1:], mask[:, 1:]


def train_handwriting(config: TrainConfig, device=None, log_every: int = 0, words=WORDS):
    """Train a HandwritingLSTM with Adam at a constant learning rate, gradients clipped
    (``rnncourse.training.fit``); returns (model, losses per step, validation NLL).

    The validation set is fresh jittered copies of the same words (seed + 1).
    """
    device = device or torch.device("cpu")
    with isolated_rng():
        torch.manual_seed(config.seed)
        x, y, mask = (t.to(device) for t in handwriting_data(words, config.copies, config.seed))
        vx, vy, vmask = (t.to(device) for t in handwriting_data(words, 1, config.seed + 1))
        model = HandwritingLSTM(config.hidden_size, config.n_components).to(device)
    generator = torch.Generator().manual_seed(config.seed)
    lengths = mask.sum(1).long().cpu()
    by_length = torch.argsort(lengths)  # batches of similar length waste little on padding

    def next_loss(step):
        first = torch.randint(len(x) - config.batch_size + 1, (1,), generator=generator).item()
        batch = by_length[first:first + config.batch_size]
        T = int(lengths[batch].max())
        batch = batch.to(device)
        y_hat, _ = model(x[batch, :T])
        return mdn_nll(split_outputs(y_hat), y[batch, :T], mask[batch, :T])

    loop = LoopConfig(steps=config.steps, lr=config.lr, clip=config.clip,
                      max_minutes=config.max_minutes or None, log_every=log_every)
    losses = fit(model, next_loss, loop, name="handwriting")
    with torch.no_grad():
        val = mdn_nll(split_outputs(model.eval()(vx)[0]), vy, vmask).item()
    return model, losses, val


_CHECKS = {"hidden_size": positive_int, "n_components": positive_int, "steps": positive_int,
           "max_minutes": non_negative_float, "batch_size": positive_int, "lr": positive_float,
           "copies": positive_int, "clip": positive_float, "seed": non_negative_int}


def add_arguments(parser) -> None:
    """``rnncourse handwriting``: one option per ``TrainConfig`` field."""
    for field, value in asdict(TrainConfig()).items():
        parser.add_argument(f"--{field.replace('_', '-')}", type=_CHECKS[field], default=value,
                            help=f"default: {value}")
    parser.add_argument("--name", default="handwriting_lstm", help="name of the shipped model")
    parser.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads")


def run(args) -> int:
    from rnncourse.pretrained import Record, save

    config = TrainConfig(**{f: getattr(args, f) for f in asdict(TrainConfig())})
    began = time.time()
    with threads(args.threads):
        model, losses, val = train_handwriting(config, log_every=100)
    seconds = time.time() - began
    x, _, _ = handwriting_data(WORDS, config.copies, config.seed)
    done = argparse.Namespace(**{**vars(args), "steps": len(losses), "max_minutes": 0.0})
    save(args.name, model.cpu(), Record(
        builder="rnncourse.handwriting:HandwritingLSTM",
        config={"hidden_size": config.hidden_size, "n_components": config.n_components},
        training={
            "command": command_line("handwriting", done, leave_out=("threads",)),
            "seed": config.seed, "steps": len(losses), "hyperparameters": asdict(config),
            "data": {"description": "rnncourse.handwriting.handwriting_data(WORDS, copies, "
                                    "seed): Hershey 'scripts' font, offsets in units of 4 "
                                    "font units",
                     "sha256": hashlib.sha256(x.numpy().tobytes()).hexdigest()},
            "device": "cpu", "torch": torch.__version__, "wall_time_s": round(seconds, 1),
            "threads": args.threads},
        metrics={"train_last_100_nll_nats_per_step": round(float(np.mean(losses[-100:])), 4),
                 "val_nll_nats_per_step": round(val, 4)}))
    print(f"saved {args.name}: {len(losses)} steps, validation NLL {val:.3f} nats/step "
          f"in {seconds:.0f} s")
    return 0
