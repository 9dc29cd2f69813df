"""The vanilla RNN unrolled in time, with its forward and backward (BPTT) paths.

Follows the flow graph of deck [000] (``a_t = b + W h_{t-1} + U x_t``,
``h_t = tanh(a_t)``, ``o_t = c + V h_t``) and the backpropagation-through-time
argument of [004]: the gradient reaching ``h_t`` is the sum of two paths, one down
from this step's output ``y_t`` (through ``V^T``) and one back from the next state
``h_{t+1}`` (through ``W^T diag(1 - h_{t+1}^2)``). ``highlight=`` draws those paths
in the highlight colour so the picture can sit right above the equation.
"""

import re

from rnncourse.viz.diagrams._base import PALETTE, canvas

__all__ = ["SYMBOLS", "HIGHLIGHTS", "unrolled_rnn"]

#: the lecture's symbols; pass ``symbols={"W": "W_hh", ...}`` to use another naming
SYMBOLS = {"W": "W", "U": "U", "V": "V", "b": "b", "c": "c", "h": "h", "x": "x", "y": "y",
           "L": "L"}
#: what ``highlight=`` accepts: both gradient paths into h_t, or one of them
HIGHLIGHTS = (None, "gradient", "output", "recurrent")


def _math(symbol: str, sub: str | None = None) -> str:
    """``W_hh`` -> ``$W_{hh}$``; ``h`` with ``t+1`` -> ``$h_{t+1}$``."""
    base, _, own = symbol.partition("_")
    parts = [p for p in (own, sub) if p]
    return f"${base}_{{{','.join(parts)}}}$" if parts else f"${base}$"


def _time_label(column: int, focus: int) -> str:
    offset = column - focus
    return "t" if offset == 0 else f"t{offset:+d}"


def unrolled_rnn(steps: int = 4, focus: int = 1, backward: bool = True, highlight=None,
                 symbols: dict | None = None, title: str | None = None):
    """Draw ``steps`` time steps of a vanilla RNN; returns the matplotlib Figure.

    ``focus`` is the column labelled ``t`` (the others are ``t-1``, ``t+1``, ...).
    ``backward`` adds the gradient arrows (red, dashed). ``highlight`` is one of
    ``HIGHLIGHTS``: ``"gradient"`` highlights both paths into ``h_t`` (through
    ``y_t`` and through ``h_{t+1}``), ``"output"`` or ``"recurrent"`` one of them.
    ``symbols`` overrides entries of ``SYMBOLS`` (e.g. ``{"W": "W_hh"}``).
    """
    if not isinstance(steps, int) or not 2 <= steps <= 8:
        raise ValueError(f"steps must be an int from 2 to 8, got {steps!r}")
    if not isinstance(focus, int) or not 0 <= focus < steps - 1:
        raise ValueError(f"focus must be a column 0 to {steps - 2} (h_t needs an h_{{t+1}}), got {focus!r}")
    if highlight not in HIGHLIGHTS:
        raise ValueError(f"highlight must be one of {HIGHLIGHTS}, got {highlight!r}")
    if highlight and not backward:
        raise ValueError("highlight draws gradient paths: it needs backward=True")
    unknown = set(symbols or {}) - set(SYMBOLS)
    if unknown:
        raise ValueError(f"unknown symbols {sorted(unknown)}: expected keys among {sorted(SYMBOLS)}")
    s = {**SYMBOLS, **(symbols or {})}
    for key, value in s.items():
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]+(_[A-Za-z0-9]+)?", value):
            raise ValueError(f"symbol {key!r} must look like 'W' or 'W_hh', got {value!r}")

    dx = 2.4
    rows = {"x": 0.0, "h": 1.6, "y": 3.2, "L": 4.5}
    c = canvas((-1.4, dx * (steps - 1) + 1.6), (-0.9, 5.2), scale=0.85, title=title)
    ink, dim = PALETTE["ink"], PALETTE["dim"]
    fwd_colour = dim if highlight else PALETTE["forward"]

    def focused(kind: str) -> bool:
        return highlight == "gradient" or highlight == kind

    for col in range(steps):
        t = _time_label(col, focus)
        x0 = dx * col
        in_focus = highlight is not None and col == focus
        c.box((x0, rows["x"]), _math(s["x"], t), width=0.95, height=0.6)
        c.box((x0, rows["h"]), _math(s["h"], t), width=0.95, height=0.6,
              color=PALETTE["highlight"] if in_focus else None,
              fill=PALETTE["fill_highlight"] if in_focus else None)
        c.box((x0, rows["y"]), _math(s["y"], t), width=0.95, height=0.6)
        c.text((x0, rows["L"]), _math(s["L"], t), fontsize=12)
        c.text((x0 + 0.72, rows["h"] - 0.42), f"+{_math(s['b'])}", color=ink, fontsize=9)
        c.text((x0 + 0.72, rows["y"] - 0.42), f"+{_math(s['c'])}", color=ink, fontsize=9)
        c.arrow((x0, rows["x"] + 0.3), (x0, rows["h"] - 0.3), color=fwd_colour, shrink=2,
                label=_math(s["U"]), label_offset=(-0.3, 0.0))
        c.arrow((x0, rows["h"] + 0.3), (x0, rows["y"] - 0.3), color=fwd_colour, shrink=2,
                label=_math(s["V"]), label_offset=(-0.3, 0.0))
        c.arrow((x0, rows["y"] + 0.3), (x0, rows["L"] - 0.25), color=fwd_colour, shrink=2)
        if col + 1 < steps:
            c.arrow((x0 + 0.48, rows["h"] + 0.1), (x0 + dx - 0.48, rows["h"] + 0.1),
                    color=fwd_colour, shrink=2, label=_math(s["W"]), label_offset=(0.0, 0.22))
        if backward:
            colour, width = PALETTE["backward"], 1.5
            if highlight:
                colour = PALETTE["highlight"] if col == focus and focused("output") else dim
                width = 3.0 if colour == PALETTE["highlight"] else 1.2
            c.arrow((x0 + 0.3, rows["L"] - 0.25), (x0 + 0.3, rows["y"] + 0.3), color=colour,
                    dashed=True, shrink=2, width=width)
            c.arrow((x0 + 0.3, rows["y"] - 0.3), (x0 + 0.3, rows["h"] + 0.3), color=colour,
                    dashed=True, shrink=2, width=width,
                    label=f"{_math(s['V'])}$^\\top$", label_offset=(0.38, 0.0))
            if col + 1 < steps:
                colour, width = PALETTE["backward"], 1.5
                if highlight:
                    colour = PALETTE["highlight"] if col == focus and focused("recurrent") else dim
                    width = 3.0 if colour == PALETTE["highlight"] else 1.2
                c.arrow((x0 + dx - 0.48, rows["h"] - 0.15), (x0 + 0.48, rows["h"] - 0.15),
                        color=colour, dashed=True, shrink=2, width=width,
                        label=f"{_math(s['W'])}$^\\top$", label_offset=(0.0, -0.28))
    # the state enters from h_0 on the left and leaves to the right
    c.arrow((-1.25, rows["h"] + 0.1), (-0.48, rows["h"] + 0.1), color=fwd_colour, shrink=2)
    c.text((-1.05, rows["h"] + 0.42), "...", fontsize=10)
    last = dx * (steps - 1)
    c.arrow((last + 0.48, rows["h"] + 0.1), (last + 1.35, rows["h"] + 0.1), color=fwd_colour, shrink=2)
    c.text((last + 1.05, rows["h"] + 0.42), "...", fontsize=10)
    legend = "forward: blue arrows"
    if backward:
        legend += ";  gradients: dashed red arrows"
    if highlight:
        paths = {"gradient": "both paths into", "output": "the path through the output into",
                 "recurrent": "the path through the next state into"}[highlight]
        legend = f"highlighted: {paths} {_math(s['h'], 't')}"
    c.text((dx * (steps - 1) / 2, -0.72), legend, fontsize=10,
           color=PALETTE["highlight"] if highlight else ink)
    return c.fig
