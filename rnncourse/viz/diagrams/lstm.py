"""The LSTM cell drawn in the style of Colah's "Understanding LSTM Networks", with the
lecture's symbols (gates i, f, g, o in PyTorch's order; c_t the memory, h_t the output).

``lstm_cell(highlight=...)`` draws the cell with one part in focus: a gate (``"i"``,
``"f"``, ``"g"``, ``"o"``) or the memory path (``"c"``), the rest dimmed, and the
equation of that part under the picture (notebook 06, one figure per derivation step).
``lstm_cell(variant=...)`` draws the variants of Greff et al. 2015 ("LSTM: a search space
odyssey": V, NIG, NFG, NOG, NIAF, NOAF, NP, CIFG, FGR) as edits of the same picture:
removed parts faint and dashed, changed parts in the highlight colour.
``gru_cell(highlight=...)`` draws the GRU (PyTorch's convention, gates r, z, n) as an
edit of the LSTM: the memory line carries h itself, z takes the forget gate's place,
``1 - z`` the input gate's (as in CIFG), the output gate and tanh are gone.
"""

from matplotlib.patches import FancyBboxPatch

from rnncourse.viz.diagrams._base import PALETTE, canvas

__all__ = ["LSTM_PARTS", "LSTM_VARIANTS", "GRU_PARTS", "lstm_cell", "gru_cell"]

LSTM_PARTS = ("i", "f", "g", "o", "c")
GRU_PARTS = ("r", "z", "n", "h")
LSTM_VARIANTS = ("V", "NIG", "NFG", "NOG", "NIAF", "NOAF", "NP", "CIFG", "FGR")

TOP, BUS, GATE_Y = 5.0, 1.0, 2.3  # memory line, input bus, centre of the gate boxes
X_F, X_I, X_G, X_O, X_OUT = 2.5, 4.2, 5.6, 7.6, 9.0  # columns of the parts

LSTM_EQUATIONS = {
    "f": r"$f_t = \sigma(W_{xf}\,x_t + W_{hf}\,h_{t-1} + b_f)$: how much of $c_{t-1}$ to keep",
    "i": r"$i_t = \sigma(W_{xi}\,x_t + W_{hi}\,h_{t-1} + b_i)$: how much of $g_t$ to write",
    "g": r"$g_t = \tanh(W_{xg}\,x_t + W_{hg}\,h_{t-1} + b_g)$: the candidate to write",
    "o": r"$o_t = \sigma(W_{xo}\,x_t + W_{ho}\,h_{t-1} + b_o)$,  $h_t = o_t \odot \tanh(c_t)$",
    "c": r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t$: a gated sum, no matrix on the way",
}
GRU_EQUATIONS = {
    "r": r"$r_t = \sigma(W_{ir}\,x_t + W_{hr}\,h_{t-1} + b_r)$: how much of $h_{t-1}$ the candidate sees",
    "z": r"$z_t = \sigma(W_{iz}\,x_t + W_{hz}\,h_{t-1} + b_z)$: keep ($z_t$) or replace ($1 - z_t$)",
    "n": r"$n_t = \tanh(W_{in}\,x_t + b_{in} + r_t \odot (W_{hn}\,h_{t-1} + b_{hn}))$",
    "h": r"$h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$",
}
VARIANT_NOTES = {
    "V": "V, the vanilla LSTM of the odyssey: peepholes $p_i, p_f$ see $c_{t-1}$, $p_o$ sees $c_t$",
    "NIG": "NIG: no input gate, $i_t = 1$",
    "NFG": "NFG: no forget gate, $f_t = 1$ (version 0 of [001])",
    "NOG": "NOG: no output gate, $o_t = 1$",
    "NIAF": "NIAF: no input activation, $g_t$ is linear",
    "NOAF": r"NOAF: no output activation, $h_t = o_t \odot c_t$",
    "NP": "NP: no peepholes (PyTorch's LSTM)",
    "CIFG": "CIFG: coupled gates, $f_t = 1 - i_t$",
    "FGR": "FGR: every gate also sees $i, f, o$ of step $t-1$",
}


class _Style:
    """Colour of each part: in focus, dimmed, or normal."""

    def __init__(self, focus, parts):
        self.focus = focus
        self.parts = parts

    def color(self, part):
        if self.focus is None:
            return PALETTE["state"] if part == "c" else PALETTE["ink"]
        if part == self.focus:
            return PALETTE["state"] if part in ("c", "h") else PALETTE["highlight"]
        return PALETTE["dim"]

    def fill(self, part):
        return PALETTE["fill_highlight"] if part == self.focus else PALETTE["fill"]

    def width(self, part):
        return 3.0 if part == self.focus else 1.5


def _frame(title):
    cv = canvas((-0.8, 11.4), (-1.3, 6.9), scale=0.62, title=title)
    cv.ax.add_patch(FancyBboxPatch((0.5, 0.3), 9.8, 5.5, boxstyle="round,pad=0,rounding_size=0.4",
                                   linewidth=1.0, edgecolor=PALETTE["dim"], facecolor="#fbfbfb",
                                   zorder=0))
    return cv


def _gate_box(cv, x, text, color, fill, removed=False, label=None):
    if removed:
        cv.ax.add_patch(FancyBboxPatch((x - 0.42, GATE_Y - 0.3), 0.84, 0.6,
                                       boxstyle="round,pad=0.02", linewidth=1.2, linestyle="--",
                                       edgecolor=PALETTE["dim"], facecolor="white", zorder=2))
        cv.text((x, GATE_Y), label or "removed", color=PALETTE["backward"], fontsize=9)
        return
    cv.box((x, GATE_Y), text, width=0.84, height=0.6, color=color, fill=fill, fontsize=11)


def _bus(cv, columns, color, h_label=r"$h_{t-1}$", from_top=False):
    """The input bus: h_{t-1} and x_t joined, one branch up into each gate column."""
    right = max(columns)
    if from_top:  # GRU: h_{t-1} is the state line itself
        cv.line([(0.9, TOP), (0.9, BUS), (right, BUS)], color=color)
    else:
        cv.line([(-0.4, BUS), (right, BUS)], color=color)
        cv.text((-0.4, BUS + 0.3), h_label, color=color, fontsize=12)
    cv.line([(1.4, -0.7), (1.4, BUS)], color=color)
    cv.text((1.4, -1.0), "$x_t$", color=color, fontsize=12)
    for x in columns:
        cv.line([(x, BUS), (x, GATE_Y - 0.3)], color=color)


def lstm_cell(highlight=None, variant=None, title=None, equation=True):
    """The LSTM cell; ``highlight`` one of ``LSTM_PARTS`` (or None), ``variant`` one of
    ``LSTM_VARIANTS`` (or None for PyTorch's LSTM, which is NP). Returns the Figure."""
    if highlight is not None and highlight not in LSTM_PARTS:
        raise ValueError(f"highlight must be one of {LSTM_PARTS} or None, got {highlight!r}")
    if variant is not None and variant not in LSTM_VARIANTS:
        raise ValueError(f"variant must be one of {LSTM_VARIANTS} or None, got {variant!r}")
    v = variant or "NP"
    no_i, no_f, no_o = v == "NIG", v == "NFG", v == "NOG"
    peep = v not in ("NP",)
    changed = {"NIAF": "g", "NOAF": "out", "CIFG": "f", "FGR": "fgr", "V": "peep"}.get(v)
    st = _Style(highlight, LSTM_PARTS)
    ink = PALETTE["ink"]
    cv = _frame(title or (f"LSTM variant {v}" if variant else "The LSTM cell"))
    edit = PALETTE["highlight"]

    # memory line: c_{t-1} -> x(f) -> +(write) -> c_t
    cc = st.color("c")
    cv.arrow((-0.6, TOP), (11.2, TOP), color=cc, width=st.width("c"), shrink=0)
    cv.text((-0.4, TOP + 0.35), "$c_{t-1}$", color=cc, fontsize=12)
    cv.text((10.9, TOP + 0.35), "$c_t$", color=cc, fontsize=12)
    if not no_f:
        cv.node((X_F, TOP), "×", color=st.color("f") if highlight == "f" else cc)
    cv.node((X_G, TOP), "+", color=cc)

    fed = [x for x, gone in ((X_F, no_f or v == "CIFG"), (X_I, no_i), (X_G, False), (X_O, no_o))
           if not gone]  # a removed or coupled gate has no weights of its own
    _bus(cv, fed, ink if highlight is None else PALETTE["dim"])

    # forget gate
    fc = st.color("f")
    if no_f:
        _gate_box(cv, X_F, "", fc, None, removed=True, label="$f_t = 1$")
    elif v == "CIFG":
        cv.node((X_F, GATE_Y), "1−", color=edit, radius=0.3)
        cv.arrow((X_I - 0.42, GATE_Y + 0.15), (X_F + 0.3, GATE_Y + 0.15), color=edit, shrink=2,
                 curve=0.3)
        cv.arrow((X_F, GATE_Y + 0.3), (X_F, TOP - 0.22), color=edit, shrink=0)
        cv.text((X_F - 0.55, 3.6), "$f_t$", color=edit, fontsize=12)
    else:
        _gate_box(cv, X_F, "σ", fc, st.fill("f"))
        cv.arrow((X_F, GATE_Y + 0.3), (X_F, TOP - 0.22), color=fc, width=st.width("f"), shrink=0)
        cv.text((X_F - 0.4, 3.6), "$f_t$", color=fc, fontsize=12)

    # input gate and candidate, multiplied, then added to the memory
    ic, gc = st.color("i"), st.color("g")
    write = st.color("c") if highlight == "c" else ink if highlight is None else PALETTE["dim"]
    if no_i:
        _gate_box(cv, X_I, "", ic, None, removed=True, label="$i_t = 1$")
        cv.arrow((X_G, GATE_Y + 0.3), (X_G, TOP - 0.22), color=gc, width=st.width("g"), shrink=0)
    else:
        _gate_box(cv, X_I, "σ", ic, st.fill("i"))
        cv.node((X_G, 3.6), "×", color=write)
        cv.line([(X_I, GATE_Y + 0.3), (X_I, 3.6), (X_G - 0.22, 3.6)], color=ic, width=st.width("i"))
        cv.text((X_I + 0.3, 3.2), "$i_t$", color=ic, fontsize=12)
        cv.arrow((X_G, GATE_Y + 0.3), (X_G, 3.6 - 0.22), color=gc, width=st.width("g"), shrink=0)
        cv.arrow((X_G, 3.6 + 0.22), (X_G, TOP - 0.22), color=write, shrink=0)
    g_text = "id" if v == "NIAF" else "tanh"
    _gate_box(cv, X_G, g_text, edit if changed == "g" else gc, st.fill("g"))
    cv.text((X_G + 0.35, 2.95), "$g_t$", color=gc, fontsize=12)

    # output gate and the shown memory
    oc = st.color("o")
    out = edit if changed == "out" else oc
    cv.line([(X_OUT, TOP), (X_OUT, 4.3)], color=st.color("c") if highlight == "c" else oc)
    if v == "NOAF":
        cv.text((X_OUT, 4.0), "no tanh", color=PALETTE["backward"], fontsize=9)
    else:
        cv.node((X_OUT, 4.0), "tanh", radius=0.32, color=out, fontsize=9)
    if no_o:
        _gate_box(cv, X_O, "", oc, None, removed=True, label="$o_t = 1$")
        cv.line([(X_OUT, 3.7), (X_OUT, BUS + 0.3)], color=oc)
    else:
        _gate_box(cv, X_O, "σ", oc, st.fill("o"))
        cv.node((X_OUT, GATE_Y), "×", color=oc)
        cv.line([(X_O + 0.42, GATE_Y), (X_OUT - 0.22, GATE_Y)], color=oc, width=st.width("o"))
        cv.text((8.2, GATE_Y + 0.3), "$o_t$", color=oc, fontsize=12)
        cv.line([(X_OUT, 3.68), (X_OUT, GATE_Y + 0.22)], color=oc, width=st.width("o"))
        cv.line([(X_OUT, GATE_Y - 0.22), (X_OUT, BUS + 0.3)], color=oc)
    cv.line([(X_OUT, BUS + 0.3), (10.6, BUS + 0.3)], color=oc)
    cv.arrow((10.6, BUS + 0.3), (10.6, 6.6), color=oc, shrink=0)
    cv.text((11.05, 6.4), "$h_t$", color=oc, fontsize=12)
    cv.arrow((10.6, BUS + 0.3), (11.3, BUS + 0.3), color=oc, shrink=0)

    if peep:  # peepholes: p_i, p_f look at c_{t-1}, p_o at c_t
        pc = edit if changed == "peep" else PALETTE["dim"] if highlight else ink
        for x, label in ((X_F, "$p_f$"), (X_I, "$p_i$")):
            if (x == X_F and (no_f or v == "CIFG")) or (x == X_I and no_i):
                continue
            cv.arrow((1.3 if x == X_F else x - 0.8, TOP - 0.05), (x - 0.3, GATE_Y + 0.32),
                     color=pc, dashed=True, width=1.0, shrink=2)
            cv.text((x - 0.75 if x == X_F else x - 0.95, 3.95), label, color=pc, fontsize=10)
        if not no_o:
            cv.arrow((9.6, TOP - 0.05), (X_O + 0.35, GATE_Y + 0.32), color=pc, dashed=True,
                     width=1.0, shrink=2)
            cv.text((9.55, 3.3), "$p_o$", color=pc, fontsize=10)
    if changed == "fgr":
        cv.arrow((0.6, -0.6), (X_F - 0.2, BUS), color=edit, dashed=True, shrink=2)
        cv.text((4.4, -0.3), "$[i, f, o]_{t-1}$ into every gate", color=edit, fontsize=10)

    if highlight and equation:
        cv.text((5.3, 6.35), LSTM_EQUATIONS[highlight], fontsize=10, color=ink)
    if variant:
        cv.text((2.0, -0.95), VARIANT_NOTES[variant], fontsize=10, color=ink, ha="left")
    return cv.fig


def gru_cell(highlight=None, title=None, equation=True):
    """The GRU (PyTorch's convention) as an edit of the LSTM picture; ``highlight`` one of
    ``GRU_PARTS`` (``"h"``: the state line) or None. Returns the Figure."""
    if highlight is not None and highlight not in GRU_PARTS:
        raise ValueError(f"highlight must be one of {GRU_PARTS} or None, got {highlight!r}")
    st = _Style(highlight, GRU_PARTS)
    ink = PALETTE["ink"]
    cv = _frame(title or "The GRU: the LSTM with coupled gates and no separate memory")
    hc = st.color("h") if highlight == "h" else PALETTE["state"] if highlight is None else PALETTE["dim"]
    cv.arrow((-0.6, TOP), (11.2, TOP), color=hc, width=st.width("h"), shrink=0)
    cv.text((-0.4, TOP + 0.35), "$h_{t-1}$", color=hc, fontsize=12)
    cv.text((10.9, TOP + 0.35), "$h_t$", color=hc, fontsize=12)
    cv.node((X_F, TOP), "×", color=hc)
    cv.node((X_G, TOP), "+", color=hc)
    _bus(cv, [X_F, X_G, X_O], ink if highlight is None else PALETTE["dim"], from_top=True)

    zc = st.color("z")
    _gate_box(cv, X_F, "σ", zc, st.fill("z"))
    cv.arrow((X_F, GATE_Y + 0.3), (X_F, TOP - 0.22), color=zc, width=st.width("z"), shrink=0)
    cv.text((X_F - 0.4, 3.6), "$z_t$", color=zc, fontsize=12)
    cv.node((X_I, 3.6), "1−", radius=0.3, color=zc)
    cv.line([(X_F, 3.1), (X_I - 0.3, 3.1), (X_I - 0.3, 3.45)], color=zc)
    cv.line([(X_I + 0.3, 3.6), (X_G - 0.22, 3.6)], color=zc, width=st.width("z"))

    nc = st.color("n")
    write = hc if highlight in (None, "h") else PALETTE["dim"]
    _gate_box(cv, X_G, "tanh", nc, st.fill("n"))
    cv.node((X_G, 3.6), "×", color=write)
    cv.arrow((X_G, GATE_Y + 0.3), (X_G, 3.6 - 0.22), color=nc, width=st.width("n"), shrink=0)
    cv.text((X_G + 0.35, 2.95), "$n_t$", color=nc, fontsize=12)
    cv.arrow((X_G, 3.6 + 0.22), (X_G, TOP - 0.22), color=write, shrink=0)

    rc = st.color("r")
    _gate_box(cv, X_O, "σ", rc, st.fill("r"))
    cv.arrow((X_O - 0.42, GATE_Y), (X_G + 0.42, GATE_Y), color=rc, width=st.width("r"), shrink=0)
    cv.text((6.6, GATE_Y + 0.3), "$r_t$", color=rc, fontsize=12)
    cv.text((7.85, 1.55), r"$r_t \odot (W_{hn} h_{t-1} + b_{hn})$", color=rc, fontsize=8, ha="left")
    cv.text((9.4, 3.4), "no $o_t$,\nno tanh,\nno $c_t$", color=PALETTE["backward"], fontsize=9)
    cv.arrow((10.6, TOP), (10.6, 6.6), color=hc, shrink=0)
    if highlight and equation:
        cv.text((5.3, 6.35), GRU_EQUATIONS[highlight], fontsize=10, color=ink)
    return cv.fig
