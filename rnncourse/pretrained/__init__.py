"""Pretrained models shipped inside the package, loaded offline in a second.

Each model is two files in this folder: ``<name>.safetensors`` (tensors only, so
loading never unpickles code) and ``<name>.json``, its ``Record`` (one schema for every
model, as a model card):

    {"builder": "rnncourse.module:Class",        # the class
     "config": {...},                            # its keyword arguments
     "training": {"command": "rnncourse VERB ...",   # reproduces the model
                  "seed": 0, "steps": 1500, "hyperparameters": {...},
                  "data": {"description": "...", "sha256": "..." or {split: "..."}},
                  "device": "cpu", "torch": "2.x", "wall_time_s": 812.0, ...},
     "metrics": {"test_exact_match_fraction": 0.97, ...},   # <split>_<what>_<unit>
     "history": {...}, "samples": [...]}         # optional

``record(name)`` returns that dict.
"""

import dataclasses
import importlib
import json
import re
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from rnncourse._io import atomic_path, write_json
from rnncourse.device import get_device

__all__ = ["MODEL_DIR", "Record", "RecordError", "METRIC_UNITS", "available",
           "record", "load", "save"]

MODEL_DIR = Path(__file__).parent


METRIC_UNITS = ("nats_per_char", "nats_per_word", "nats_per_step", "nats_per_caption",
                "nats_per_question", "fraction", "mse")
_METRIC = re.compile(r"^(train|val|test)_[a-z0-9_]+_(" + "|".join(METRIC_UNITS) + ")$")
_TRAINING_KEYS = {"command": str, "seed": int, "steps": int, "hyperparameters": dict,
                  "data": dict, "device": str, "torch": str, "wall_time_s": (int, float)}

class RecordError(ValueError):
    """A pretrained record that does not follow the schema."""


@dataclasses.dataclass
class Record:
    """How a shipped model was built and made (see the module docstring)."""

    builder: str
    config: dict
    training: dict
    metrics: dict
    history: dict | None = None
    samples: list | None = None

    def __post_init__(self):
        problems = []
        module, _, attr = self.builder.partition(":")
        if not module.startswith("rnncourse.") or not attr:
            problems.append(f"builder must look like 'rnncourse.module:Class', got {self.builder!r}")
        if not isinstance(self.config, dict):
            problems.append("config must be a dict of keyword arguments")
        for key, kind in _TRAINING_KEYS.items():
            if not isinstance(self.training.get(key), kind) or isinstance(self.training.get(key), bool):
                problems.append(f"training.{key} is missing or not {getattr(kind, '__name__', kind)}")
        if not str(self.training.get("command", "")).startswith("rnncourse "):
            problems.append("training.command must be an `rnncourse VERB ...` command")
        data = self.training.get("data", {})
        digest = data.get("sha256") if isinstance(data, dict) else None
        digests = list(digest.values()) if isinstance(digest, dict) else [digest]
        if not digests or not all(isinstance(d, str) and re.fullmatch(r"[0-9a-f]{64}", d)
                                  for d in digests):
            problems.append("training.data.sha256 must be a sha256 (or one per split)")
        if not isinstance(data, dict) or not isinstance(data.get("description"), str):
            problems.append("training.data.description must say what the data is")
        if not self.metrics:
            problems.append("metrics is empty")
        for name, value in self.metrics.items():
            if not _METRIC.match(name):
                problems.append(f"metric {name!r} must be named <split>_<what>_<unit> with split "
                                f"train/val/test and unit one of {METRIC_UNITS}")
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                problems.append(f"metric {name!r} must be a number")
        if problems:
            raise RecordError("; ".join(problems))

    @classmethod
    def from_dict(cls, meta: dict) -> "Record":
        unknown = set(meta) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise RecordError(f"unknown top-level keys {sorted(unknown)}")
        return cls(**{f.name: meta[f.name] for f in dataclasses.fields(cls) if f.name in meta})

    def to_dict(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


def available() -> list[str]:
    """Names of the shipped models."""
    return sorted(p.stem for p in MODEL_DIR.glob("*.json"))


def record(name: str) -> dict:
    """The record of a shipped model, as a dict (the schema's keys)."""
    path = MODEL_DIR / f"{name}.json"
    if not path.exists():
        raise KeyError(f"no pretrained model {name!r}; available: {available()}")
    return json.loads(path.read_text(encoding="utf-8"))


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


def save(name: str, model: torch.nn.Module, meta: "Record | dict", half: bool = True,
         directory: Path = MODEL_DIR) -> None:
    """Write ``model`` (weights in float16 if ``half``) and its record ``meta``, which must
    follow the ``Record`` schema; both files are written atomically, mode 0644."""
    meta = meta if isinstance(meta, Record) else Record.from_dict(meta)
    _builder(meta.builder)  # fail now, not at load time
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
             for k, v in model.state_dict().items()}
    directory = Path(directory)
    with atomic_path(directory / f"{name}.safetensors") as tmp:
        save_file(state, str(tmp))
    write_json(directory / f"{name}.json", meta.to_dict())
