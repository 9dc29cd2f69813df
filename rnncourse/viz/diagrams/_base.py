"""Primitives shared by every diagram: a canvas, boxes, operator nodes, arrows.

Coordinates are in data units on an equal-aspect canvas with the axes hidden.
Colours come from one palette so that a highlighted path (a gate, a gradient)
reads the same in every diagram of the course.
"""

from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

__all__ = ["PALETTE", "Canvas", "canvas", "is_diagram"]

PALETTE = {
    "ink": "#222222",        # ordinary boxes, arrows and text
    "dim": "#b8b8b8",        # parts not in focus when something is highlighted
    "forward": "#1f77b4",    # forward computation
    "backward": "#d62728",   # gradients flowing back
    "highlight": "#ff7f0e",  # the part the text is about
    "state": "#2ca02c",      # the cell state c_t / memory path
    "fill": "#f4f4f4",       # box background
    "fill_highlight": "#ffe6cc",
}

DIAGRAM_FLAG = "_rnncourse_diagram"


@dataclass
class Canvas:
    """A figure with one hidden-axes panel to draw on; ``fig`` is what to return."""

    fig: plt.Figure
    ax: plt.Axes

    def box(self, xy, text, width=1.0, height=0.6, color=None, fill=None, fontsize=11,
            rounded=True):
        """A labelled box centred at ``xy``; returns its centre."""
        x, y = xy
        style = "round,pad=0.02,rounding_size=0.08" if rounded else "square,pad=0.02"
        self.ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                         boxstyle=style, linewidth=1.5,
                                         edgecolor=color or PALETTE["ink"],
                                         facecolor=fill or PALETTE["fill"], zorder=2))
        self.text(xy, text, color=color, fontsize=fontsize)
        return xy

    def node(self, xy, text, radius=0.22, color=None, fill="white", fontsize=11):
        """A small circle holding an operator (``×``, ``+``, ``σ``, ``tanh``)."""
        self.ax.add_patch(Circle(xy, radius, linewidth=1.5, edgecolor=color or PALETTE["ink"],
                                 facecolor=fill, zorder=3))
        self.text(xy, text, color=color, fontsize=fontsize, zorder=4)
        return xy

    def arrow(self, start, end, color=None, width=1.5, style="-|>", dashed=False,
              curve=0.0, shrink=12, label=None, label_offset=(0.0, 0.15), fontsize=10):
        """An arrow from ``start`` to ``end`` (optionally curved, dashed, labelled)."""
        patch = FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=12 + 2 * width,
                                linewidth=width, color=color or PALETTE["ink"],
                                linestyle="--" if dashed else "-",
                                connectionstyle=f"arc3,rad={curve}",
                                shrinkA=shrink, shrinkB=shrink, zorder=1)
        self.ax.add_patch(patch)
        if label:
            mid = ((start[0] + end[0]) / 2 + label_offset[0], (start[1] + end[1]) / 2 + label_offset[1])
            self.text(mid, label, color=color, fontsize=fontsize)
        return patch

    def line(self, points, color=None, width=1.5, dashed=False):
        """A polyline through ``points`` (no arrow head)."""
        xs, ys = zip(*points)
        self.ax.plot(xs, ys, color=color or PALETTE["ink"], linewidth=width,
                     linestyle="--" if dashed else "-", zorder=1, solid_capstyle="round")

    def text(self, xy, text, color=None, fontsize=11, zorder=5, **kwargs):
        """Text centred at ``xy`` (mathtext such as ``$h_{t-1}$`` works)."""
        kwargs.setdefault("ha", "center")
        kwargs.setdefault("va", "center")
        return self.ax.text(xy[0], xy[1], text, color=color or PALETTE["ink"],
                            fontsize=fontsize, zorder=zorder, **kwargs)

    def title(self, text, fontsize=12):
        self.ax.set_title(text, fontsize=fontsize)


def canvas(xlim, ylim, scale=1.0, title=None) -> Canvas:
    """A blank diagram canvas spanning ``xlim`` x ``ylim`` data units.

    ``scale`` is inches per data unit; the figure is marked as a diagram so the
    figure-hygiene test does not ask it for axis labels or legends.
    """
    width, height = (xlim[1] - xlim[0]) * scale, (ylim[1] - ylim[0]) * scale
    fig, ax = plt.subplots(figsize=(max(width, 2.0), max(height, 1.5)))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    setattr(fig, DIAGRAM_FLAG, True)
    result = Canvas(fig, ax)
    if title:
        result.title(title)
    return result


def is_diagram(fig) -> bool:
    """True for figures drawn by ``canvas`` (or marked by hand as diagrams)."""
    return bool(getattr(fig, DIAGRAM_FLAG, False))
