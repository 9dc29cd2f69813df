"""Draw pen-stroke sequences ``(dx, dy, pen_lift)`` as handwriting (see rnncourse.data.strokes)."""

import matplotlib.pyplot as plt

from rnncourse.data.strokes import offsets_to_polylines

__all__ = ["plot_strokes"]


def plot_strokes(offsets, ax=None, title: str | None = None, color: str = "k", lw: float = 1.5,
                 **line_kw):
    """Plot a (T, 3) offset sequence: one line per pen-down stroke, equal axes, no ticks."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 1.6))
    for line in offsets_to_polylines(offsets):
        ax.plot(line[:, 0], line[:, 1], color=color, lw=lw, **line_kw)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10, loc="left")
    return ax
