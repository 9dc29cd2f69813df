"""Process-wide torch settings as context managers that put everything back.

Training and sampling need a few global switches (CPU threads, deterministic kernels,
PyTorch's oneDNN path) and their own random numbers; wrapping them here means a call
to ``train()`` or ``sample()`` leaves the notebook's state as it found it:

    with threads(1), deterministic(), isolated_rng():
        ...

(The device is chosen by ``rnncourse.device.get_device``; a notebook seeds every
generator once with ``rnncourse.seeding.seed_everything``.)
"""

import contextlib
import random

import numpy as np
import torch

__all__ = ["threads", "deterministic", "onednn", "isolated_rng"]


@contextlib.contextmanager
def threads(n: int | None):
    """Use ``n`` torch CPU threads inside the block (``None``: leave as is)."""
    before = torch.get_num_threads()
    if n is not None:
        if n < 1:
            raise ValueError(f"threads must be >= 1, got {n}")
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


@contextlib.contextmanager
def deterministic(enabled: bool = True, warn_only: bool = True):
    """Ask torch for deterministic kernels inside the block (slower on a GPU; the CPU
    kernels the course uses are deterministic already)."""
    before = (torch.are_deterministic_algorithms_enabled(),
              torch.is_deterministic_algorithms_warn_only_enabled())
    torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])


@contextlib.contextmanager
def onednn(enabled: bool):
    """Switch PyTorch's oneDNN (mkldnn) CPU kernels on or off inside the block."""
    before = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = enabled
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = before


@contextlib.contextmanager
def isolated_rng():
    """Random numbers drawn (or seeds set) inside the block do not change Python's,
    NumPy's or torch's global generators outside it."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
    with torch.random.fork_rng(devices=list(range(torch.cuda.device_count())) if cuda else []):
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)
