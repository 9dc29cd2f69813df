"""The course's one training loop (as minGPT has one ``Trainer``): every recipe (the
character LM, seq2seq, the captioner and VQA, handwriting, the cell ablation, the
adding problem) says only what differs, a function giving the loss of the next batch,
and hands it to ``fit``, which does the rest the same way for all:

    for step in range(start_step, config.steps):
        lr = lr_at(step, config)                  # a pure function of the step
        loss = next_loss(step)                    # under autocast on CUDA (AMP)
        zero grads; backward; clip the global norm to config.clip; optimiser step
        on_step(step + 1, loss) may ask to stop   # evaluate, sample, checkpoint

It stops after ``config.steps`` updates or ``config.max_minutes`` of wall time, prints
the mean loss every ``config.log_every`` steps, and leaves torch's thread count and
global random generators as they were (``rnncourse.runtime``). Since the learning rate
depends on the step alone, a run resumed from a checkpoint (``start_step`` and a
restored optimiser) continues exactly as if it had never stopped.
"""

import math
import time
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["LoopConfig", "SCHEDULES", "lr_at", "amp_settings", "fit"]

SCHEDULES = ("constant", "cosine", "one-cycle")


@dataclass
class LoopConfig:
    """What the loop needs to know; recipes' configs carry these same names."""

    steps: int = 1000                # optimiser updates
    lr: float = 1e-3                 # peak learning rate (Adam)
    clip: float | None = 1.0         # max global gradient norm (None or 0: no clipping)
    schedule: str = "constant"       # see SCHEDULES
    warmup: int = 0                  # cosine: linear warm-up steps
    min_lr_ratio: float = 0.1        # cosine: decay from lr to lr * min_lr_ratio
    max_minutes: float | None = None # stop after this much wall time (None: never)
    log_every: int = 0               # print the mean loss every so many steps (0: never)


def _setting(config, name: str):
    """``config.name``, or the ``LoopConfig`` default when a recipe's config lacks it."""
    return getattr(config, name, getattr(LoopConfig, name))


def lr_at(step: int, config) -> float:
    """Learning rate of ``step`` (0-based) under ``config.schedule``.

    ``constant``: ``lr``. ``cosine``: linear warm-up over ``warmup`` steps, then cosine
    decay to ``lr * min_lr_ratio`` at the last step. ``one-cycle`` is PyTorch's
    ``OneCycleLR`` (10% warm-up; it also cycles Adam's beta1) and is set by ``fit``.
    """
    schedule, warmup = _setting(config, "schedule"), _setting(config, "warmup")
    if schedule == "constant":
        return config.lr
    if schedule != "cosine":
        raise ValueError(f"lr_at has no formula for schedule {schedule!r}")
    if step < warmup:
        return config.lr * (step + 1) / warmup
    low = _setting(config, "min_lr_ratio")
    progress = (step - warmup) / max(1, config.steps - warmup)
    return config.lr * (low + (1 - low) * 0.5 * (1 + math.cos(math.pi * progress)))


def amp_settings(device: torch.device) -> tuple[torch.dtype | None, bool]:
    """Autocast dtype and whether a GradScaler is needed: mixed precision on CUDA only
    (bfloat16 where supported, else float16 with loss scaling)."""
    if device.type != "cuda":
        return None, False
    if torch.cuda.is_bf16_supported():
        return torch.bfloat16, False
    return torch.float16, True


def fit(model: nn.Module, next_loss, config, optimizer: torch.optim.Optimizer | None = None,
        start_step: int = 0, scaler: torch.amp.GradScaler | None = None, on_step=None,
        name: str = "train") -> list[float]:
    """Train ``model`` on ``next_loss(step) -> loss`` as ``config`` (a ``LoopConfig`` or a
    recipe config with the same field names; a missing field takes ``LoopConfig``'s
    default) says; returns the loss of every step run.

    ``optimizer`` defaults to Adam at ``config.lr``; pass one (with ``start_step`` and a
    ``scaler``) to resume. ``on_step(steps_done, loss) -> bool`` runs after every update
    and ends training by returning True.
    """
    schedule, clip = _setting(config, "schedule"), _setting(config, "clip")
    max_minutes, log_every = _setting(config, "max_minutes"), _setting(config, "log_every")
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}: expected one of {SCHEDULES}")
    device = next(model.parameters()).device
    amp_dtype, needs_scaler = amp_settings(device)
    scaler = scaler or torch.amp.GradScaler("cuda", enabled=needs_scaler)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=config.lr)
    one_cycle = (torch.optim.lr_scheduler.OneCycleLR(optimizer, config.lr, total_steps=config.steps,
                                                     pct_start=0.1)
                 if schedule == "one-cycle" else None)
    losses, began = [], time.time()
    for step in range(start_step, config.steps):
        if max_minutes and time.time() - began > 60 * max_minutes:
            break
        if one_cycle is None:
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, config)
        model.train()
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            loss = next_loss(step)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if clip:
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        scaler.step(optimizer)
        scaler.update()
        if one_cycle is not None:
            one_cycle.step()
        losses.append(loss.item())
        done = step + 1
        if log_every and done % log_every == 0:
            recent = losses[-log_every:]
            print(f"{name} step {done}/{config.steps}: loss {sum(recent) / len(recent):.4f} "
                  f"({time.time() - began:.0f} s)", flush=True)
        if on_step is not None and on_step(done, loss.item()):
            break
    model.eval()
    return losses
