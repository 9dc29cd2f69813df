"""Train a character LSTM with truncated BPTT: the training function and
``rnncourse train``.

The loop of [003] made practical: contiguous batch rows (``TBPTTBatcher``), the LSTM
state carried from window to window and detached so gradients flow back only
``seq_len`` steps, gradient clipping by global norm, Adam with a cosine learning-rate
decay, mixed precision on CUDA, a validation loss and a sample now and then, and
checkpoints written atomically that a later run resumes from. On the CPU a run is
deterministic under its seed, resumed or not.

    rnncourse train --corpus shakespeare --hidden-size 256 --steps 2000 \\
        --checkpoint runs/shakespeare.pt --save-pretrained char_lstm_shakespeare

(``rnncourse train --help`` lists every option; the default corpus, the Python
standard library, ships inside the package.)
"""

import argparse
import dataclasses
import platform
import sys
import time
from dataclasses import dataclass, field
from typing import ClassVar
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from rnncourse._io import atomic_path
from rnncourse.char_model import CharLSTM, evaluate_loss, sample
from rnncourse.data.batching import TBPTTBatcher
from rnncourse.cli import command_line as cli_command_line
from rnncourse.cli import (device_name, fraction, non_negative_float, non_negative_int,
                           path_text, positive_float, positive_int)
from rnncourse.data.corpora import CORPORA, load_corpus, sha256_text
from rnncourse.data.vocab import Vocab
from rnncourse.device import get_device
from rnncourse.runtime import isolated_rng, threads
from rnncourse.seeding import seed_everything
from rnncourse.training import amp_settings, fit, lr_at

__all__ = ["TrainConfig", "TrainResult", "train", "lr_at", "command_line", "ship", "add_arguments", "run"]

# Fields that change where or how fast a run happens, not what it computes.
_RUNTIME_FIELDS = ("device", "threads", "checkpoint", "checkpoint_every", "data_path",
                   "max_minutes", "progress")


def _option(default, check, help: str):
    """A config field with its command-line checker and help (``rnncourse train --help``)."""
    return field(default=default, metadata={"check": check, "help": help})


@dataclass
class TrainConfig:
    """Everything a training run depends on (the record stores all of it). The loop
    settings (steps, lr, clip, warmup, min_lr_ratio, max_minutes) carry the names of
    ``rnncourse.training.LoopConfig``; the schedule is cosine with warm-up."""

    schedule: ClassVar[str] = "cosine"

    corpus: str = _option("python", None, "text to train on: " + ", ".join(CORPORA))
    data_path: str | None = _option(None, path_text, "the Tiny Shakespeare file, if it is "
                                    "not in $RNNCOURSE_DATA_DIR")
    embed_dim: int = _option(64, positive_int, "character embedding size E")
    hidden_size: int = _option(256, positive_int, "LSTM hidden size H")
    num_layers: int = _option(2, positive_int, "stacked LSTM layers")
    dropout: float = _option(0.0, fraction, "dropout between layers and before the output")
    batch_size: int = _option(32, positive_int, "N parallel streams of text")
    seq_len: int = _option(128, positive_int, "T, the truncation length of BPTT")
    lr: float = _option(2e-3, positive_float, "peak learning rate (Adam)")
    min_lr_ratio: float = _option(0.1, fraction, "cosine decay from lr to lr * min_lr_ratio")
    warmup: int = _option(50, non_negative_int, "linear warm-up steps")
    clip: float = _option(1.0, non_negative_float, "max global gradient norm (0: no clipping)")
    steps: int = _option(1000, positive_int, "optimiser steps")
    eval_every: int = _option(250, positive_int, "steps between validation losses")
    eval_chars: int = _option(20000, non_negative_int, "validation characters per periodic "
                              "check (0: all)")
    sample_every: int = _option(500, positive_int, "steps between samples")
    sample_chars: int = _option(200, non_negative_int, "characters per sample")
    seed: int = _option(0, non_negative_int, "random seed")
    device: str | None = _option(None, device_name, "cpu, cuda, cuda:N or mps (default: the "
                                 "best available)")
    threads: int | None = _option(None, positive_int, "torch CPU threads during the run "
                                  "(default: torch's)")
    checkpoint: str | None = _option(None, path_text, "resumable checkpoint file")
    checkpoint_every: int = _option(250, positive_int, "steps between checkpoints")
    max_minutes: float | None = _option(None, positive_float, "stop (checkpointed) after this "
                                        "long; resume later")
    progress: bool = _option(True, None, "show a progress bar")


@dataclass
class TrainResult:
    model: CharLSTM
    config: TrainConfig
    history: dict = field(default_factory=dict)
    steps: int = 0
    wall_time_s: float = 0.0
    cpu_time_s: float = 0.0
    device: str = "cpu"


def _semantic(config: TrainConfig) -> dict:
    d = dataclasses.asdict(config)
    return {k: v for k, v in d.items() if k not in _RUNTIME_FIELDS}


def _save_checkpoint(path: Path, payload: dict) -> None:
    with atomic_path(path) as tmp:  # a crash leaves the old checkpoint or the new one
        torch.save(payload, tmp)


def train(config: TrainConfig, train_text: str | None = None, val_text: str | None = None,
          resume: bool = True, stop_after: int | None = None) -> TrainResult:
    """Train a ``CharLSTM`` as ``config`` says; returns the model and its history.

    ``train_text``/``val_text`` override the corpus (tests use small strings). With
    ``config.checkpoint`` set, a checkpoint is written every ``checkpoint_every``
    steps and at the end; ``resume=True`` continues from it if it exists.
    ``stop_after`` ends this call after that many steps (checkpointed), as if the run
    had been interrupted; ``config.max_minutes`` does the same after a wall time.
    Torch's thread count and the global random generators are as before afterwards.
    """
    with threads(config.threads), isolated_rng():  # leaves the caller's torch state alone
        return _train(config, train_text, val_text, resume, stop_after)


def _train(config: TrainConfig, train_text: str | None, val_text: str | None, resume: bool,
           stop_after: int | None) -> TrainResult:
    if train_text is None:
        train_text = load_corpus(config.corpus, "train", config.data_path)
    if val_text is None:
        val_text = load_corpus(config.corpus, "val", config.data_path)
    device = get_device(config.device)
    seed_everything(config.seed)
    vocab = Vocab.from_text(train_text)
    model = CharLSTM(vocab.to_string(), config.embed_dim, config.hidden_size,
                     config.num_layers, config.dropout).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scaler = torch.amp.GradScaler("cuda", enabled=amp_settings(device)[1])
    batcher = TBPTTBatcher(vocab.encode(train_text), config.batch_size, config.seq_len)
    eval_text = val_text[: config.eval_chars] if config.eval_chars else val_text
    history = {"step": [], "train_loss": [], "val_loss": [], "samples": [], "chars_per_s": []}
    step, state, wall_before, cpu_before = 0, None, 0.0, 0.0  # time spent by earlier calls

    ckpt = Path(config.checkpoint) if config.checkpoint else None
    if resume and ckpt is not None and ckpt.exists():
        saved = torch.load(ckpt, map_location=device, weights_only=True)
        if saved["config"] != _semantic(config):
            raise ValueError(f"{ckpt} was written by a different configuration: "
                             f"{saved['config']} vs {_semantic(config)}")
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scaler.load_state_dict(saved["scaler"])
        step, history, state = saved["step"], saved["history"], saved["state"]
        wall_before, cpu_before = saved["wall_time_s"], saved["cpu_time_s"]
        torch.set_rng_state(saved["rng"].cpu())

    start_step, started, cpu0 = step, time.perf_counter(), time.process_time()

    def wall_time() -> float:
        return wall_before + time.perf_counter() - started

    def cpu_time() -> float:
        return cpu_before + time.process_time() - cpu0

    def checkpoint(done: int) -> None:
        if ckpt is not None:
            _save_checkpoint(ckpt, {
                "config": _semantic(config), "model": model.state_dict(),
                "optimizer": optimizer.state_dict(), "scaler": scaler.state_dict(),
                "step": done, "history": history, "wall_time_s": wall_time(),
                "cpu_time_s": cpu_time(), "state": state, "rng": torch.get_rng_state()})

    def next_loss(k: int) -> torch.Tensor:
        """The recipe: the next window of the text, the state carried (TBPTT)."""
        nonlocal state
        if k % len(batcher) == 0:
            state = None  # a new pass over the text starts from a fresh state
        x, y = (t.to(device) for t in batcher.window(k % len(batcher)))
        logits, state = model(x, state)  # (N, T, V)
        state = tuple(s.detach() for s in state)  # truncate BPTT here
        return nn.functional.cross_entropy(logits.float().flatten(0, 1), y.flatten())

    bar = tqdm(total=config.steps, initial=step, disable=not config.progress, desc="train")
    window = {"loss": 0.0, "steps": 0, "t0": time.perf_counter()}  # since the last evaluation
    chars_per_step = config.batch_size * config.seq_len

    def on_step(done: int, loss: float) -> bool:
        """Evaluate, sample and checkpoint on schedule; stop at the time or step limit."""
        window["loss"] += loss
        window["steps"] += 1
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}")
        out_of_time = (config.max_minutes is not None
                       and time.perf_counter() - started > 60 * config.max_minutes)
        stopped = out_of_time or (stop_after is not None and done - start_step >= stop_after)
        last = done == config.steps
        if done % config.eval_every == 0 or last:
            seconds = time.perf_counter() - window["t0"]
            history["step"].append(done)
            history["train_loss"].append(window["loss"] / window["steps"])
            history["chars_per_s"].append(window["steps"] * chars_per_step / max(seconds, 1e-9))
            history["val_loss"].append(evaluate_loss(model, eval_text))
            bar.set_postfix(loss=f"{history['train_loss'][-1]:.3f}",
                            val=f"{history['val_loss'][-1]:.3f}")
            if not config.progress:
                print(f"step {done}: train {history['train_loss'][-1]:.4f}, val "
                      f"{history['val_loss'][-1]:.4f} nats/char, "
                      f"{history['chars_per_s'][-1]:.0f} chars/s", flush=True)
            window.update(loss=0.0, steps=0, t0=time.perf_counter())
        if done % config.sample_every == 0 or last:
            g = torch.Generator().manual_seed(config.seed + done)  # leaves the global RNG alone
            text = sample(model, "\n", config.sample_chars, temperature=0.8, generator=g)
            history["samples"].append({"step": done, "text": text})
            if config.progress:
                tqdm.write(f"--- sample at step {done} ---\n{text}")
        if done % config.checkpoint_every == 0 or last or stopped:
            checkpoint(done)
        return stopped

    # the time limit is on_step's (it checkpoints before stopping), not the loop's
    losses = fit(model, next_loss, dataclasses.replace(config, max_minutes=None),
                 optimizer=optimizer, start_step=step, scaler=scaler, on_step=on_step)
    bar.close()
    return TrainResult(model.eval(), config, history, start_step + len(losses), wall_time(),
                       cpu_time(), str(device))


# --- rnncourse train -----------------------------------------------------------------

def add_arguments(parser) -> None:
    """One ``--flag`` per ``TrainConfig`` field, plus where to ship the result."""
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        text = f.metadata["help"]
        if f.type is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default,
                                help=text)
        elif f.name == "corpus":
            parser.add_argument(flag, choices=CORPORA, default=f.default,
                                help=f"{text} (default: {f.default})")
        else:
            shown = "" if f.default is None else f" (default: {f.default})"
            parser.add_argument(flag, type=f.metadata["check"], default=f.default,
                                metavar=f.name.upper(), help=text + shown)
    parser.add_argument("--stop-after", type=positive_int, default=None, metavar="STEPS",
                        help="end this call after STEPS steps (checkpointed; resume later)")
    parser.add_argument("--no-resume", action="store_true",
                        help="ignore an existing checkpoint and start over")
    parser.add_argument("--save-pretrained", metavar="NAME",
                        help="write the model and its record to rnncourse/pretrained/NAME")
    parser.add_argument("--pretrained-dir", type=path_text, default=None, metavar="FOLDER",
                        help="folder for --save-pretrained (default: the package's)")


# options that say where or how fast a run happens, left out of a record's command
LEAVE_OUT = ("device", "threads", "progress", "max_minutes", "no_resume", "pretrained_dir")


def command_line(config: TrainConfig, stop_after: int | None = None,
                 save_pretrained: str | None = None) -> str:
    """The ``rnncourse train`` command that reproduces ``config`` (every option spelled
    out; ``rnncourse.cli.command_line``)."""
    args = argparse.Namespace(**dataclasses.asdict(config), stop_after=stop_after,
                              save_pretrained=save_pretrained)
    return cli_command_line("train", args, leave_out=LEAVE_OUT)


def ship(result: TrainResult, name: str, command: str, directory=None) -> dict:
    """Save ``result.model`` in float16 with its record; the record's losses are measured
    on the saved (rounded) weights, so ``pretrained.load`` reproduces them."""
    from rnncourse import pretrained

    config = result.config
    train_text = load_corpus(config.corpus, "train", config.data_path)
    val_text = load_corpus(config.corpus, "val", config.data_path)
    model = CharLSTM(**result.model.config)
    model.load_state_dict({k: v.detach().cpu().half().float()
                           for k, v in result.model.state_dict().items()})
    slice_chars = 20000
    meta = pretrained.Record(
        builder="rnncourse.char_model:CharLSTM",
        config=model.config,
        training={
            "command": command,
            "corpus": config.corpus,
            "data": {"description": f"rnncourse.data.corpora.load_corpus({config.corpus!r}, "
                                    "split) for the train and val splits",
                     "sha256": {"train": sha256_text(train_text), "val": sha256_text(val_text)}},
            "seed": config.seed,
            "hyperparameters": _semantic(config),
            "steps": result.steps,
            "wall_time_s": round(result.wall_time_s, 1),
            "cpu_time_s": round(result.cpu_time_s, 1),
            "device": result.device,
            "cpu": platform.processor() or platform.machine(),
            "threads": config.threads or torch.get_num_threads(),
            "torch": torch.__version__,
            "parameters": sum(p.numel() for p in model.parameters()),
        },
        metrics={
            "val_loss_nats_per_char": evaluate_loss(model, val_text),
            f"val_first_{slice_chars}_chars_loss_nats_per_char":
                evaluate_loss(model, val_text[:slice_chars]),
        },
        history={k: v for k, v in result.history.items() if k != "samples"},
        samples=result.history["samples"],
    )
    kwargs = {"directory": Path(directory)} if directory else {}
    pretrained.save(name, model, meta, half=True, **kwargs)
    return meta.to_dict()


def run(args) -> int:
    config = TrainConfig(**{f.name: getattr(args, f.name)
                            for f in dataclasses.fields(TrainConfig)})
    try:
        train_text = load_corpus(config.corpus, "train", config.data_path)
        val_text = load_corpus(config.corpus, "val", config.data_path)
    except (FileNotFoundError, ValueError) as exc:
        hint = " (pass --data-path FILE)" if config.corpus == "shakespeare" else ""
        print(f"rnncourse train: error: {exc}{hint}", file=sys.stderr)
        return 1
    result = train(config, train_text, val_text, resume=not args.no_resume,
                   stop_after=args.stop_after)
    losses = result.history["val_loss"]
    print(f"trained {result.steps} steps in {result.wall_time_s:.0f} s on {result.device}"
          + (f"; last val loss {losses[-1]:.4f} nats/char" if losses else ""))
    if args.save_pretrained:
        # A run cut short (time limit, --stop-after) is reproduced from scratch by
        # stopping at the same step: training is deterministic across resumes.
        cut = result.steps if result.steps < config.steps else None
        command = command_line(config, cut, args.save_pretrained)
        meta = ship(result, args.save_pretrained, command, args.pretrained_dir)
        print(f"saved {args.save_pretrained}: val loss "
              f"{meta['metrics']['val_loss_nats_per_char']:.4f} nats/char")
    return 0
