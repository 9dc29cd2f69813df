"""The CTC alignment lattice with its most likely path (Graves et al. 2006, Fig. 3).

Columns are frames t, rows the extended label sequence l' = (blank, y_1, blank, ...,
y_U, blank) read top to bottom. Each node is one (t, s) state of the alpha recursion;
its grey level shows p_t(l'_s), the network's probability of that label at that frame
(white: near 0, black: near 1). Thin lines are the moves CTC allows (stay, advance one,
or skip a blank between two different labels); the highlighted path is the most probable
alignment (``rnncourse.ctc.best_alignment``), which starts in one of the first two rows
and ends in one of the last two.
"""

import numpy as np
import torch
from matplotlib.patches import Circle

from rnncourse.ctc import BLANK, best_alignment
from rnncourse.viz.diagrams._base import PALETTE, canvas

__all__ = ["ctc_lattice"]


def ctc_lattice(log_probs: torch.Tensor, target, labels=None, max_frames: int = 60,
                show_moves: bool = True, title: str | None = None):
    """Draw the lattice of ``target`` (U labels in 1..V-1) over ``log_probs`` (T, V).

    ``labels`` names the V labels (index 0 is the blank, drawn as ∅); at most
    ``max_frames`` frames are drawn (a longer input raises ValueError, so the picture
    stays readable). Returns the matplotlib Figure.
    """
    log_probs = torch.as_tensor(log_probs).detach().double().cpu()
    T, V = log_probs.shape
    if T > max_frames:
        raise ValueError(f"expected at most max_frames={max_frames} frames, got {T}")
    labels = list(labels) if labels is not None else [str(k) for k in range(V)]
    names = ["∅" if k == BLANK else labels[k] for k in range(V)]
    ext = [BLANK]
    for label in target:
        ext += [int(label), BLANK]
    S = len(ext)
    path, _ = best_alignment(log_probs, target)
    probs = log_probs.exp().numpy()[:, ext]                              # (T, S)

    dx, dy = 0.5, 0.5
    x = lambda t: 1.0 + t * dx
    y = lambda s: (S - 1 - s) * dy
    c = canvas((-0.2, x(T - 1) + 0.5), (-0.9, y(0) + 0.6), scale=0.45 / dx,
               title=title or "CTC lattice: frames t (columns) × extended labels l′ (rows)")
    radius = 0.13
    if show_moves:
        for t in range(T - 1):
            for s in range(S):
                nxt = [s, s + 1] + ([s + 2] if s + 2 < S and ext[s + 2] != BLANK
                                    and ext[s + 2] != ext[s] else [])
                for j in nxt:
                    if j < S:
                        c.line([(x(t), y(s)), (x(t + 1), y(j))], color=PALETTE["dim"], width=0.5)
    for t in range(T):
        for s in range(S):
            grey = 1.0 - float(probs[t, s])
            c.node((x(t), y(s)), "", radius=radius, color=PALETTE["dim"],
                   fill=(grey, grey, grey))
    points = [(x(t), y(s)) for t, s in enumerate(path)]
    c.line(points, color=PALETTE["highlight"], width=2.5)
    for px, py in points:
        c.ax.add_patch(Circle((px, py), radius, fill=False, edgecolor=PALETTE["highlight"],
                              linewidth=2, zorder=4))
    for s, k in enumerate(ext):
        c.text((0.35, y(s)), names[k], fontsize=10)
    step = max(1, int(np.ceil(T / 15)))
    for t in range(0, T, step):
        c.text((x(t), -0.45), str(t + 1), fontsize=8)
    c.text((x(0) - 0.5, -0.45), "t", fontsize=9)
    c.text((x(T - 1) / 2 + 0.5, -0.8), "orange: most likely alignment; darker node: larger p_t(l′_s)",
           fontsize=9)
    return c.fig
