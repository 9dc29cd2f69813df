"""Orthogonal recurrent weights, and how far a gradient travels back through time.

The bound of [seed 001, "Orthogonal and unitary matrices"]: with h_{k+1} = phi(W h_k + ...),

    || dF/dh_t || <= || dF/dh_T || * prod_{k=t}^{T-1} || D_k W ||,    D_k = diag(phi'(...)),

so an orthogonal W (||W v|| = ||v||, every eigenvalue on the unit circle) leaves only the
nonlinearity's D_k to shrink the gradient, and none at all without one. Saxe et al. (2014)
and Le et al. (2015) start from orthogonal or identity weights; Arjovsky, Shah and Bengio
(2016, the uRNN) keep a complex W unitary during training as a product of cheap factors.
Here W_hh stays exactly orthogonal through training by construction:
``torch.nn.utils.parametrizations.orthogonal`` writes it as the matrix exponential of a
skew-symmetric matrix (or a Cayley transform / Householder product).

Shapes: x (T, N, D) time first, h (N, H).
"""

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import orthogonal

__all__ = ["OrthogonalRNNCell", "run_cell", "gradient_norms_through_time"]

_PHI = {"tanh": torch.tanh, "relu": torch.relu, "identity": lambda a: a}


class OrthogonalRNNCell(nn.Module):
    """h_t = phi(W_hh h_prev + W_xh x_t + b_h) with W_hh orthogonal at every step of training.

    ``nonlinearity`` is "tanh", "relu" or "identity"; b_h starts at zero. Called like
    ``nn.RNNCell``:
    ``cell(x_t, h_prev)`` with x_t (N, D), h_prev (N, H) -> h_t (N, H).
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh"):
        super().__init__()
        if nonlinearity not in _PHI:
            raise ValueError(f"expected nonlinearity in {sorted(_PHI)}, got {nonlinearity!r}")
        self.nonlinearity, self.hidden_size = nonlinearity, hidden_size
        self.hh = orthogonal(nn.Linear(hidden_size, hidden_size, bias=False))
        self.xh = nn.Linear(input_size, hidden_size)
        nn.init.zeros_(self.xh.bias)  # a constant push each step would drive tanh into saturation

    @property
    def W_hh(self) -> torch.Tensor:
        """The orthogonal recurrent matrix (H, H)."""
        return self.hh.weight

    def forward(self, x_t: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
        return _PHI[self.nonlinearity](self.hh(h_prev) + self.xh(x_t))


def run_cell(cell: nn.Module, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
    """All hidden states of ``cell`` (this module's or ``nn.RNNCell``) over x (T, N, D).

    Returns (T, N, H): h_1 ... h_T, starting from h0 (N, H), zeros by default.
    """
    if x.ndim != 3:
        raise ValueError(f"expected x of shape (T, N, D), got {tuple(x.shape)}")
    h = h0 if h0 is not None else x.new_zeros(x.shape[1], cell.hidden_size)
    states = []
    with parametrize.cached():  # build the orthogonal W_hh once, not at every step
        for x_t in x:
            h = cell(x_t, h)
            states.append(h)
    return torch.stack(states)


def gradient_norms_through_time(cell: nn.Module, x: torch.Tensor, h0: torch.Tensor,
                                direction: torch.Tensor | None = None) -> torch.Tensor:
    """|| dL/dh_{T-k} || for k = 0 .. T-1, with L = <direction, h_T> (one unit vector, (H,)).

    x (T, N, D), h0 (N, H); norms are averaged over the N sequences. Entry k is the gradient
    k steps back from the end, so a flat curve means nothing vanishes or explodes.
    """
    states, h = [], h0
    with parametrize.cached():
        for x_t in x:
            h = cell(x_t, h)
            h.retain_grad()
            states.append(h)
    if direction is None:
        direction = torch.ones(h.shape[-1], dtype=h.dtype, device=h.device)
    direction = direction / direction.norm()
    (h * direction).sum().backward()
    norms = torch.stack([s.grad.norm(dim=-1).mean() for s in states])  # (T,) oldest first
    return norms.flip(0).detach()
