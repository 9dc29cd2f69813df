"""The JSB chorales as piano rolls over the 88 piano keys, with the papers' split.

Boulanger-Lewandowski, Bengio and Vincent (ICML 2012) published 382 Bach chorales on a
quarter-note grid, split 229 / 76 / 77 into train / valid / test; Chung et al. (2014,
"Empirical Evaluation of Gated Recurrent Neural Networks on Sequence Modeling", the
tanh / GRU / LSTM comparison of deck [000]) used the same files. The package ships that
file gzipped (``assets/jsb/``, 44 KB, see its SOURCE.md for provenance and licence) and
checks the sha256 of the decompressed bytes against the upstream file's, so the numbers
computed here are on the papers' data, offline.

A piano roll of a sequence is an array ``(T, 88)`` of 0/1: ``roll[t, k] = 1`` when key
``k`` (MIDI pitch ``21 + k``, from A0 to C8) sounds in frame ``t``.
"""

import gzip
import hashlib
import json
import zlib
from pathlib import Path

import numpy as np
import torch

__all__ = ["JSB_FILE", "JSB_SHA256", "SPLITS", "SPLIT_SIZES", "MIDI_LOW", "N_KEYS",
           "load_jsb", "pitches_to_roll", "roll_to_pitches", "pad_rolls"]

JSB_FILE = Path(__file__).parent / "assets" / "jsb" / "jsb-chorales-quarter.json.gz"
# sha256 of the decompressed jsb-chorales-quarter.json (czhuang/JSB-Chorales-dataset@9a7f733)
JSB_SHA256 = "2db9329f1881a1d3f49703ec556bf1d6f84b4f6c1d702c156536e93cf31e1c91"
SPLITS = ("train", "valid", "test")
SPLIT_SIZES = {"train": 229, "valid": 76, "test": 77}
MIDI_LOW, N_KEYS = 21, 88  # keys 0..87 are MIDI pitches 21 (A0) .. 108 (C8)


def pitches_to_roll(frames) -> np.ndarray:
    """A list of T frames, each a list of MIDI pitches, -> piano roll ``(T, 88)`` uint8."""
    roll = np.zeros((len(frames), N_KEYS), dtype=np.uint8)
    for t, frame in enumerate(frames):
        for pitch in frame:
            k = int(pitch) - MIDI_LOW
            if not 0 <= k < N_KEYS:
                raise ValueError(f"expected MIDI pitches in 21..108, got {pitch} in frame {t}")
            roll[t, k] = 1
    return roll


def roll_to_pitches(roll) -> list[list[int]]:
    """Piano roll ``(T, 88)`` -> list of T frames of sounding MIDI pitches (ascending)."""
    roll = np.asarray(roll)
    if roll.ndim != 2 or roll.shape[1] != N_KEYS:
        raise ValueError(f"expected a piano roll of shape (T, {N_KEYS}), got {roll.shape}")
    return [[MIDI_LOW + int(k) for k in np.flatnonzero(frame)] for frame in roll]


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise FileNotFoundError(f"JSB chorales file not found: {path} (expected the gzipped "
                                f"jsb-chorales-quarter.json shipped in rnncourse/data/assets/jsb/)")
    raw = path.read_bytes()
    if path.suffix != ".gz":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"JSB chorales file {path} is corrupt: not a valid gzip file "
                         f"({err})") from None


def load_jsb(path=None, verify: bool = True) -> dict[str, list[np.ndarray]]:
    """The JSB chorales: ``{"train": [...229], "valid": [...76], "test": [...77]}``.

    Each entry is a piano roll ``(T, 88)`` uint8. ``path`` defaults to the shipped
    ``JSB_FILE``; a plain ``.json`` (e.g. ``../shared/data/jsb/jsb-chorales-quarter.json``)
    works too. With ``verify`` the sha256 of the JSON bytes must equal ``JSB_SHA256``;
    a missing, truncated or altered file raises one clear error.
    """
    path = Path(JSB_FILE if path is None else path)
    data = _read_bytes(path)
    if verify:
        digest = hashlib.sha256(data).hexdigest()
        if digest != JSB_SHA256:
            raise ValueError(f"JSB chorales file {path} is corrupt or not the papers' file: "
                             f"sha256 of its JSON is {digest}, expected {JSB_SHA256}")
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"JSB chorales file {path} is not valid JSON ({err})") from None
    if not isinstance(raw, dict) or set(raw) != set(SPLITS):
        raise ValueError(f"expected JSON with keys {SPLITS}, got "
                         f"{sorted(raw) if isinstance(raw, dict) else type(raw).__name__}")
    return {split: [pitches_to_roll(seq) for seq in raw[split]] for split in SPLITS}


def pad_rolls(rolls, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack piano rolls of different lengths: ``x (N, T, 88)`` float32 padded with
    zeros, and ``mask (N, T)`` bool, True where a frame is real."""
    if len(rolls) == 0:
        raise ValueError("pad_rolls needs at least one piano roll")
    T = max(len(r) for r in rolls)
    x = torch.zeros(len(rolls), T, N_KEYS)
    mask = torch.zeros(len(rolls), T, dtype=torch.bool)
    for n, roll in enumerate(rolls):
        x[n, :len(roll)] = torch.as_tensor(np.asarray(roll), dtype=torch.float32)
        mask[n, :len(roll)] = True
    return x.to(device), mask.to(device)
