"""Precomputed results that notebooks plot instead of training for minutes (no models:
those live in ``rnncourse.pretrained``). Each ``<name>.json`` records the command, seed
and settings that made it; ``load(name)`` reads one back (the module that made it wraps
that, e.g. ``rnncourse.long_range.load_curves``).
"""

import json
from pathlib import Path

__all__ = ["RESULTS_DIR", "load"]

RESULTS_DIR = Path(__file__).parent


def load(name: str, made_by: str = "") -> dict:
    """The shipped results file ``<name>.json``; a missing one is a FileNotFoundError that
    says how to make it (``made_by``: the command)."""
    path = RESULTS_DIR / f"{name}.json"
    if not path.exists():
        hint = f"; make it with {made_by}" if made_by else ""
        raise FileNotFoundError(f"no precomputed results {path}{hint}")
    return json.loads(path.read_text(encoding="utf-8"))
