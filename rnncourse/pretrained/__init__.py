"""Pretrained models shipped inside the package, loaded offline in a second.

Each model is two files in this folder: ``<name>.safetensors`` (tensors only, so
loading never unpickles code) and ``<name>.json``, a record with the model's
class (``"builder": "rnncourse.module:Class"``), its ``config`` (keyword arguments
of the class), and how it was made: training command, data sha256, seed,
hyperparameters, steps, wall time, device, validation loss in nats/char.
"""

import importlib
import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from rnncourse._io import atomic_path, write_json
from rnncourse.device import get_device

__all__ = ["MODEL_DIR", "available", "record", "load", "save"]

MODEL_DIR = Path(__file__).parent


def available() -> list[str]:
    """Names of the shipped models."""
    return sorted(p.stem for p in MODEL_DIR.glob("*.json"))


def record(name: str) -> dict:
    """The metadata record of a shipped model."""
    path = MODEL_DIR / f"{name}.json"
    if not path.exists():
        raise KeyError(f"no pretrained model {name!r}; available: {available()}")
    return json.loads(path.read_text())


def _builder(spec: str):
    module, _, attr = spec.partition(":")
    if not module.startswith("rnncourse.") or not attr:
        raise ValueError(f"builder must look like 'rnncourse.module:Class', got {spec!r}")
    return getattr(importlib.import_module(module), attr)


def load(name: str, device: str | torch.device | None = None) -> torch.nn.Module:
    """Build a shipped model, load its weights, and put it on ``device``.

    ``device=None`` picks the best device (see ``rnncourse.device.get_device``).
    The model is returned in eval mode, in float32.
    """
    meta = record(name)
    model = _builder(meta["builder"])(**meta["config"])
    state = load_file(str(MODEL_DIR / f"{name}.safetensors"))
    model.load_state_dict({k: v.float() for k, v in state.items()})
    target = device if isinstance(device, torch.device) else get_device(device)
    return model.to(target).eval()


def save(name: str, model: torch.nn.Module, meta: dict, half: bool = True,
         directory: Path = MODEL_DIR) -> None:
    """Write ``model`` and its record ``meta`` atomically (weights in float16 if ``half``).

    ``meta`` must hold ``builder`` and ``config``; the rest is provenance.
    """
    missing = {"builder", "config"} - meta.keys()
    if missing:
        raise ValueError(f"meta is missing {sorted(missing)}")
    _builder(meta["builder"])  # fail now, not at load time
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
             for k, v in model.state_dict().items()}
    directory = Path(directory)
    with atomic_path(directory / f"{name}.safetensors") as tmp:
        save_file(state, str(tmp))
    write_json(directory / f"{name}.json", meta)
