"""The image captioner: CNN features -> an RNN that writes the caption (notebook 11).

``captioning_diagram(convention)`` draws the image going through the CNN into the
feature vector v, and the RNN unrolled over the words of a caption (inputs x_t: the
previous word, from ``<START>``; outputs: the next word, up to ``<END>``). Where v enters
is the one thing that changes between the two conventions:

- ``"first"``: deck 000 (Karpathy and Fei-Fei): v enters once, at the first step,
  h_0 = max(0, W_xh x_0 + W_ih v);
- ``"every"``: v enters every step through W_ih, h_t = tanh(W_xh x_t + W_hh h_{t-1} + W_ih v).
"""

from rnncourse.viz.diagrams._base import PALETTE, canvas

__all__ = ["CONVENTIONS", "EQUATIONS", "captioning_diagram"]

CONVENTIONS = ("first", "every")
EQUATIONS = {
    "first": r"$h_0 = \max(0,\ W_{xh} x_0 + W_{ih} v)$, then $h_t = f(W_{xh} x_t + W_{hh} h_{t-1})$",
    "every": r"$h_t = \tanh(W_{xh} x_t + W_{hh} h_{t-1} + W_{ih} v)$ at every step",
}
TITLES = {"first": "the image enters at the first step only (deck 000)",
          "every": "the image enters at every step"}


def captioning_diagram(convention: str = "first", caption=("a", "red", "circle")):
    """The captioner for ``caption`` (a few words), with v entering as ``convention`` says."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    words = list(caption)
    if not words:
        raise ValueError("caption needs at least one word")
    inputs, outputs = ["<START>"] + words, words + ["<END>"]
    T = len(inputs)
    x0, step = 5.2, 1.6
    c = canvas((-0.4, x0 + step * T), (-1.6, 4.3), scale=0.75, title=TITLES[convention])
    # image -> CNN -> v
    c.box((0.5, 1.5), "image", width=1.1, height=0.9, fill="#dbe9f6")
    c.box((2.0, 1.5), "CNN", width=0.9, height=0.7)
    c.box((3.5, 1.5), "$v$", width=0.7, height=0.6, color=PALETTE["highlight"],
          fill=PALETTE["fill_highlight"])
    c.arrow((1.05, 1.5), (1.55, 1.5), shrink=0)
    c.arrow((2.45, 1.5), (3.15, 1.5), shrink=0)
    for t in range(T):
        x = x0 + step * t
        c.box((x, 1.5), f"$h_{{{t}}}$", width=0.8, height=0.6)
        c.box((x, -0.3), inputs[t], width=1.3, height=0.5, fontsize=9)
        c.box((x, 3.3), outputs[t], width=1.3, height=0.5, fontsize=9, fill="white")
        c.arrow((x, -0.05), (x, 1.2), shrink=0, label="$W_{xh}$" if t == 0 else None,
                label_offset=(0.35, 0.0), fontsize=8)
        c.arrow((x, 1.8), (x, 3.05), shrink=0)
        if t:
            c.arrow((x - step + 0.4, 1.5), (x - 0.4, 1.5), shrink=0,
                    label="$W_{hh}$" if t == 1 else None, label_offset=(0.0, 0.2), fontsize=8)
        if t == 0:
            c.arrow((3.85, 1.5), (x - 0.4, 1.5), color=PALETTE["highlight"], shrink=0, width=1.5)
        elif convention == "every":
            c.arrow((3.5, 1.2), (x - 0.3, 1.2), color=PALETTE["highlight"], shrink=0,
                    curve=0.3, width=1.5)
    c.text((4.1, 1.75), "$W_{ih}$", color=PALETTE["highlight"], fontsize=9)
    c.text(((x0 + x0 + step * (T - 1)) / 2, -1.3), EQUATIONS[convention], fontsize=10)
    return c.fig
