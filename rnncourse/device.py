"""Pick the device the course runs on: CUDA, then Apple MPS, then the CPU.

Set the environment variable ``RNNCOURSE_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``,
``mps``) to force one; asking for a device this machine lacks is an error, not a
silent fallback, so a run never pretends to use a GPU it does not have.
"""

import os

import torch

__all__ = ["ENV_VAR", "get_device", "available_devices"]

ENV_VAR = "RNNCOURSE_DEVICE"
_KINDS = ("cpu", "cuda", "mps")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[str]:
    """Device kinds usable here, best first (always ends with ``"cpu"``)."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    if _mps_available():
        found.append("mps")
    return found + ["cpu"]


def _check(name: str) -> torch.device:
    kind, _, index = name.partition(":")
    if kind not in _KINDS or (index and not index.isdigit()):
        raise ValueError(
            f"unknown device {name!r}: expected one of 'cpu', 'cuda', 'cuda:N', 'mps'"
        )
    if kind not in available_devices():
        raise RuntimeError(
            f"device {name!r} was requested but is not available on this machine "
            f"(available: {', '.join(available_devices())})"
        )
    if kind == "cuda" and index and int(index) >= torch.cuda.device_count():
        raise RuntimeError(
            f"device {name!r} was requested but only {torch.cuda.device_count()} "
            "CUDA device(s) exist"
        )
    return torch.device(name)


def get_device(name: str | None = None) -> torch.device:
    """Return the device to use.

    Order of precedence: the ``name`` argument, then ``$RNNCOURSE_DEVICE``, then the
    best available device (CUDA, then MPS, then CPU).
    """
    requested = name or os.environ.get(ENV_VAR, "").strip()
    if requested:
        return _check(requested.lower())
    return torch.device(available_devices()[0])
