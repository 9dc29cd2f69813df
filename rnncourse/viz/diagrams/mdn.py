"""The mixture density output head of Graves' handwriting model (2013, section 4.1).

``mdn_head_diagram()`` draws h_t -> y_hat_t = b_y + W_hy h_t, the split of y_hat_t into
(e_hat, pi_hat, mu_hat, sigma_hat, rho_hat), the squashing function that puts each
into its range, and the mixture density Pr(x_{t+1} | y_t) they define.
"""

from rnncourse.viz.diagrams._base import PALETTE, canvas

__all__ = ["MDN_PARTS", "mdn_head_diagram"]

# raw output -> (squashing, constrained parameter, range), in the order of rnncourse.mdn
MDN_PARTS = [
    (r"$\hat e_t$", r"$1/(1+e^{\hat e})$", r"$e_t \in (0,1)$"),
    (r"$\hat\pi_t^j$", "softmax", r"$\pi_t^j,\ \sum_j \pi_t^j = 1$"),
    (r"$\hat\mu_t^j$", "identity", r"$\mu_t^j \in \mathbb{R}^2$"),
    (r"$\hat\sigma_t^j$", "exp", r"$\sigma_t^j > 0$"),
    (r"$\hat\rho_t^j$", "tanh", r"$\rho_t^j \in (-1,1)$"),
]


def mdn_head_diagram(M: int = 20, highlight: str | None = None):
    """The output head with ``M`` components; ``highlight`` names one raw output
    (``"e"``, ``"pi"``, ``"mu"``, ``"sigma"``, ``"rho"``) to draw in the highlight colour."""
    keys = ["e", "pi", "mu", "sigma", "rho"]
    if highlight is not None and highlight not in keys:
        raise ValueError(f"highlight must be one of {keys} or None, got {highlight!r}")
    c = canvas((0, 13), (-1.3, 6.2), scale=0.75,
               title=f"mixture density output: 1 + 6M = {1 + 6 * M} numbers per step (M = {M})")
    c.box((0.9, 2.8), "$h_t$", width=1.0, height=0.8)
    c.box((3.0, 2.8), r"$\hat y_t = b_y + W_{hy} h_t$", width=2.6, height=0.8, fontsize=10)
    c.arrow((1.4, 2.8), (1.7, 2.8), shrink=0)
    for row, (key, (raw, squash, result)) in enumerate(zip(keys, MDN_PARTS)):
        y = 5.4 - 1.3 * row
        colour = PALETTE["highlight"] if key == highlight else None
        fill = PALETTE["fill_highlight"] if key == highlight else None
        c.arrow((4.3, 2.8), (5.5, y), color=colour, shrink=2)
        c.box((6.0, y), raw, width=1.0, height=0.7, color=colour, fill=fill)
        c.box((8.0, y), squash, width=1.8, height=0.7, color=colour, fill=fill, fontsize=9)
        c.arrow((6.5, y), (7.1, y), color=colour, shrink=0)
        c.arrow((8.9, y), (9.5, y), color=colour, shrink=0)
        c.text((11.1, y), result, color=colour, fontsize=11)
    c.text((7.0, -0.95), r"$\Pr(x_{t+1}\mid y_t) = \sum_j \pi^j_t\,\mathcal{N}(\cdot\mid\mu^j_t,"
                          r"\sigma^j_t,\rho^j_t)\,\cdot\,\mathrm{Bern}(e_t)$", fontsize=10)
    return c.fig
