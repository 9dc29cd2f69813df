"""Pen-stroke sequences for the handwriting model, written with a single-stroke font.

Graves' handwriting model [seeds 000, 001; Graves 2013, "Generating Sequences with
Recurrent Neural Networks", section 4] reads and writes a pen trajectory one point at a
time. Each step is ``x_t = (dx, dy, pen_lift)``: the offset from the previous pen
position, and 1 when the pen leaves the paper after this point (the end of a stroke).

The IAM online handwriting data of the paper needs a registration, so we write words
with the Hershey "script simplex" font of the ``Hershey-Fonts`` package (MIT licence;
the glyphs ship inside the wheel, so this works offline). A font writes every word the
same way; ``word_strokes`` adds a random slant, size and wobble per copy so the data
has the spread of several writers, and a model has a distribution to learn.

Arrays: a polyline is (P, 2) absolute points; an offset sequence is (T, 3).
"""

from functools import lru_cache

import numpy as np
import torch

__all__ = ["FONT", "text_polylines", "polylines_to_offsets", "offsets_to_polylines",
           "word_strokes", "pad_strokes"]

FONT = "scripts"  # Hershey script simplex: joined-up single-stroke letters


@lru_cache(maxsize=4)
def _font(name: str):
    from HersheyFonts import HersheyFonts

    font = HersheyFonts()
    if name not in font.default_font_names:
        raise ValueError(f"unknown Hershey font {name!r}; expected one of {font.default_font_names}")
    font.load_default_font(name)
    return font


def text_polylines(text: str, font: str = FONT) -> list[np.ndarray]:
    """The strokes of ``text`` in a Hershey font, as absolute (P, 2) polylines, y upwards.

    The font draws a joined-up word as several polylines that meet end to start; those
    are merged, so one polyline is one pen-down stroke.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"expected a non-empty text, got {text!r}")
    polylines: list[np.ndarray] = []
    for stroke in _font(font).strokes_for_text(text):
        points = np.asarray(stroke, dtype=np.float64) * (1.0, -1.0)  # the font's y points down
        if polylines and np.array_equal(polylines[-1][-1], points[0]):
            polylines[-1] = np.concatenate([polylines[-1], points[1:]])
        else:
            polylines.append(points)
    return polylines


def polylines_to_offsets(polylines: list[np.ndarray]) -> np.ndarray:
    """Absolute polylines -> (T, 3) steps ``(dx, dy, pen_lift)``.

    The first step is the first point itself (an offset from the origin); ``pen_lift``
    is 1 on the last point of every polyline.
    """
    if not polylines:
        raise ValueError("expected at least one polyline, got none")
    points, lifts = [], []
    for line in polylines:
        line = np.asarray(line, dtype=np.float64)
        if line.ndim != 2 or line.shape[1] != 2 or len(line) == 0:
            raise ValueError(f"expected polylines of shape (P, 2), got {line.shape}")
        lift = np.zeros(len(line))
        lift[-1] = 1.0
        points.append(line)
        lifts.append(lift)
    points = np.concatenate(points)  # (T, 2)
    offsets = np.diff(points, axis=0, prepend=np.zeros((1, 2)))
    return np.column_stack([offsets, np.concatenate(lifts)])


def offsets_to_polylines(offsets) -> list[np.ndarray]:
    """(T, 3) steps ``(dx, dy, pen_lift)`` -> absolute (P, 2) polylines (the inverse)."""
    offsets = np.asarray(offsets.detach().cpu() if isinstance(offsets, torch.Tensor) else offsets,
                         dtype=np.float64)
    if offsets.ndim != 2 or offsets.shape[1] != 3:
        raise ValueError(f"expected offsets of shape (T, 3), got {offsets.shape}")
    points = np.cumsum(offsets[:, :2], axis=0)
    ends = np.flatnonzero(offsets[:, 2] > 0.5) + 1
    return [line for line in np.split(points, ends) if len(line)]


def _jitter(polylines, rng: np.random.Generator, amount: float):
    """One writer's copy: a random slant, width, height and a small smooth wobble."""
    slant = rng.normal(0.0, 0.15 * amount)
    sx, sy = np.exp(rng.normal(0.0, 0.08 * amount, size=2))
    A = np.array([[sx, slant], [0.0, sy]])  # shear then scale; applied to row vectors as p @ A.T
    out = []
    for line in polylines:
        wobble = np.cumsum(rng.normal(0.0, 0.12 * amount, size=line.shape), axis=0)
        wobble -= wobble.mean(axis=0)
        out.append(line @ A.T + wobble)
    return out


def word_strokes(words, copies: int = 1, scale: float = 4.0, jitter: float = 1.0,
                 seed: int = 0, font: str = FONT) -> list[np.ndarray]:
    """Offset sequences (T_i, 3), float32, for every word, ``copies`` jittered copies each.

    Offsets are divided by ``scale`` (font units; about the size of one pen step) so the
    network sees numbers near 1. ``jitter=0`` gives the font's exact strokes.
    """
    if isinstance(words, str):
        words = [words]
    if copies < 1 or scale <= 0 or jitter < 0:
        raise ValueError(f"expected copies >= 1, scale > 0, jitter >= 0; "
                         f"got {copies}, {scale}, {jitter}")
    rng = np.random.default_rng(seed)
    sequences = []
    for word in words:
        lines = text_polylines(word, font)
        start = lines[0][0].copy()
        lines = [line - start for line in lines]  # every word starts at the origin
        for _ in range(copies):
            copy = _jitter(lines, rng, jitter) if jitter else lines
            steps = polylines_to_offsets(copy)
            steps[:, :2] /= scale
            sequences.append(steps.astype(np.float32))
    return sequences


def pad_strokes(sequences, length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack (T_i, 3) sequences into ``x`` (N, T, 3) and a mask (N, T) of real steps.

    Shorter sequences are padded with zeros (and mask 0); longer ones are cut to
    ``length`` (default: the longest sequence).
    """
    if not len(sequences):
        raise ValueError("expected at least one sequence, got none")
    length = length or max(len(s) for s in sequences)
    x = torch.zeros(len(sequences), length, 3)
    mask = torch.zeros(len(sequences), length)
    for n, seq in enumerate(sequences):
        seq = torch.as_tensor(np.asarray(seq), dtype=torch.float32)[:length]
        if seq.ndim != 2 or seq.shape[1] != 3:
            raise ValueError(f"expected sequences of shape (T, 3), got {tuple(seq.shape)}")
        x[n, :len(seq)] = seq
        mask[n, :len(seq)] = 1.0
    return x, mask
