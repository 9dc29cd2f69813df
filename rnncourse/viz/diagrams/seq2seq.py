"""The encoder-decoder, with or without attention (notebook 10).

``seq2seq_diagram(source, output, alpha)`` draws the encoder's annotations h_j (one box
per source symbol x_j, joined by the recurrence) along the bottom and the decoder's
states s_i (one box per output symbol y_i) along the top. With attention weights
``alpha`` (T, S), taken from a real model's output, every h_j is joined to every s_i by
a line whose width is proportional to alpha_ij (lines under ``min_alpha`` are left out
so that the picture stays readable). Without ``alpha`` it draws the fixed-context model:
the encoder's last state becomes one vector c that every decoder step reads.
"""

import numpy as np

from rnncourse.viz.diagrams._base import PALETTE, canvas

__all__ = ["seq2seq_diagram", "symbol_label"]

STEP = 0.8  # data units between neighbouring symbols


def symbol_label(symbol: str) -> str:
    """How a symbol is printed in a box (a space would be invisible; $ would start math)."""
    return {" ": "␣", "$": r"\$"}.get(symbol, symbol)


def _xs(n: int, width: float) -> np.ndarray:
    return (width - (n - 1) * STEP) / 2 + STEP * np.arange(n)


def seq2seq_diagram(source, output, alpha=None, max_width: float = 7.0,
                    min_alpha: float = 0.05, title: str | None = None):
    """Encoder-decoder for ``source`` -> ``output`` (strings or lists of symbols).

    ``alpha``: ``None`` (no attention: one context vector c), or the weights ``(T, S)``
    with ``T = len(output)`` (or ``len(output) + 1`` with the row of ``</s>``, which is
    then drawn as the last decoder box) and ``S = len(source)``. The line from h_j to s_i
    has width ``max_width * alpha_ij``.
    """
    source, output = list(source), list(output)
    if not source or not output:
        raise ValueError("seq2seq_diagram needs a non-empty source and output")
    outputs = list(output)
    if alpha is not None:
        alpha = np.asarray(alpha, dtype=float)
        if alpha.ndim != 2 or alpha.shape[1] != len(source) or alpha.shape[0] not in (
                len(output), len(output) + 1):
            raise ValueError(f"expected alpha of shape ({len(output)} or {len(output) + 1}, "
                             f"{len(source)}) for this source and output, got {alpha.shape}")
        if alpha.shape[0] == len(output) + 1:
            outputs.append("</s>")
    width = STEP * (max(len(source), len(outputs)) + 1) + 1.6
    c = canvas((-1.6, width), (-1.0, 4.4), scale=0.62, title=title)
    xs_src, xs_out = _xs(len(source), width), _xs(len(outputs), width)
    y_enc, y_dec = 0.0, 3.2
    c.text((-0.9, y_enc), "encoder\n$h_j$", fontsize=9)
    c.text((-0.9, y_dec), "decoder\n$s_i$", fontsize=9)
    for j, (x, symbol) in enumerate(zip(xs_src, source)):
        c.box((x, y_enc), symbol_label(symbol), width=0.6, height=0.5, fontsize=9)
        c.text((x, y_enc - 0.65), f"$x_{{{j + 1}}}$", fontsize=7, color=PALETTE["dim"])
        if j:
            c.arrow((xs_src[j - 1] + 0.3, y_enc), (x - 0.3, y_enc), shrink=0, width=1.0)
    for i, (x, symbol) in enumerate(zip(xs_out, outputs)):
        c.box((x, y_dec), symbol_label(symbol), width=0.6 if symbol != "</s>" else 0.75,
              height=0.5, fontsize=9 if symbol != "</s>" else 7)
        c.text((x, y_dec + 0.6), f"$y_{{{i + 1}}}$", fontsize=7, color=PALETTE["dim"])
        if i:
            c.arrow((xs_out[i - 1] + 0.3, y_dec), (x - 0.3, y_dec), shrink=0, width=1.0)
    if alpha is None:
        centre = (width - 0.6, (y_enc + y_dec) / 2)
        c.box(centre, "$c$", width=0.6, height=0.5, color=PALETTE["highlight"],
              fill=PALETTE["fill_highlight"])
        c.arrow((xs_src[-1], y_enc + 0.25), (centre[0], centre[1] - 0.25),
                color=PALETTE["highlight"], shrink=0, width=1.5)
        for x in xs_out:
            c.arrow((centre[0] - 0.3, centre[1] + 0.1), (x, y_dec - 0.25),
                    color=PALETTE["highlight"], shrink=0, width=0.8)
        c.text((width / 2, -0.95), "no attention: every decoder step reads the same "
               "context $c$, the encoder's last state", fontsize=8)
    else:
        for i, x_out in enumerate(xs_out):
            for j, x_src in enumerate(xs_src):
                if alpha[i, j] >= min_alpha:
                    c.line([(x_src, y_enc + 0.25), (x_out, y_dec - 0.25)],
                           color=PALETTE["highlight"], width=max_width * alpha[i, j])
        c.text((width / 2, -0.95), r"line from $h_j$ to $s_i$: width $\propto \alpha_{ij}$ "
               f"(weights under {min_alpha:g} not drawn)", fontsize=8)
    return c.fig
