"""Recurrent cells written from scratch in PyTorch: vanilla RNN, LSTM (with the
variants of "LSTM: a search space odyssey"), GRU and the MUT1-3 cells.

Equations follow the slides: the vanilla RNN and the LSTM derivation of [000],
LSTM versions 0/1 and the forget bias of [001], peepholes of [000, 002], GRU and
MUT1-3 of [003] (Cho et al. 2014; Greff et al. 2015; Jozefowicz et al. 2015).

Every cell splits one time step in two parts so that a sequence runs fast:

* ``project(x)`` computes the input terms ``W_x x + b`` for all steps at once,
  ``(N, T, D) -> (N, T, G*H)``, where G is the number of stacked blocks;
* ``step(xp_t, state)`` adds the recurrent terms and returns
  ``(state, values)``: the new state tuple (``state[0]`` is always ``h_t``) and a
  dict of the step's internals (gates, candidate, cell state), each ``(N, H)``.

Weights of the gates are stacked in one matrix, in the order given by
``cell.gate_order``. For cells that equal a ``torch.nn`` module, that order is
PyTorch's: ``i, f, g, o`` for the LSTM and ``r, z, n`` for the GRU, and
``torch_weights()`` / ``load_torch_weights()`` convert to and from PyTorch's
``(weight_ih, weight_hh, bias_ih, bias_hh)``. We keep a single input bias ``b``
per block (PyTorch's ``bias_ih + bias_hh``); only the GRU keeps ``b_hn`` apart,
because PyTorch multiplies it by the reset gate.
"""

from dataclasses import dataclass, fields, replace

import torch
from torch import nn

__all__ = [
    "Cell",
    "RNNCell",
    "LSTMOptions",
    "ODYSSEY_VARIANTS",
    "odyssey_options",
    "LSTMCell",
    "GRUCell",
    "MUTCell",
]


class Cell(nn.Module):
    """Base class: one recurrent step, split into ``project`` and ``step``.

    Subclasses set ``gate_order`` (names of the stacked blocks of ``W_x``),
    ``state_names`` (``("h",)`` or ``("h", "c")``), ``internal_names`` and
    ``torch_mode`` (``"LSTM"``, ``"GRU"``, ``"RNN_TANH"``, ``"RNN_RELU"`` when the
    cell computes exactly what that ``torch.nn`` module computes, else ``None``).
    """

    gate_order: tuple = ()
    state_names: tuple = ("h",)
    internal_names: tuple = ()
    torch_mode = None

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"sizes must be positive, got D={input_size}, H={hidden_size}")
        self.input_size = input_size
        self.hidden_size = hidden_size

    def _stacked(self, blocks: int, recurrent: bool = True) -> None:
        """Create ``W_x (G*H, D)``, ``W_h (G*H, H)`` and ``b (G*H,)``, PyTorch's init."""
        H, D = self.hidden_size, self.input_size
        self.W_x = nn.Parameter(torch.empty(blocks * H, D))
        if recurrent:
            self.W_h = nn.Parameter(torch.empty(blocks * H, H))
        self.b = nn.Parameter(torch.empty(blocks * H))

    def reset_parameters(self) -> None:
        """Uniform in +-1/sqrt(H) for every parameter, as ``torch.nn`` does."""
        bound = self.hidden_size ** -0.5
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """Input terms of every block: ``(..., D) -> (..., G*H)``."""
        return nn.functional.linear(x, self.W_x, self.b)

    def init_state(self, N: int, like: torch.Tensor) -> tuple:
        """Zero state, a tuple with one ``(N, H)`` tensor per name in ``state_names``."""
        zeros = like.new_zeros(N, self.hidden_size)
        return tuple(zeros for _ in self.state_names)

    def step(self, xp_t: torch.Tensor, state: tuple) -> tuple:
        """One step from the projected input ``xp_t (N, G*H)``: ``(state, values)``."""
        raise NotImplementedError

    def replay(self, xp: torch.Tensor, h_prev: torch.Tensor, state: tuple) -> dict:
        """Internals of all steps at once, when a fused kernel already gave every h_t.

        ``xp (N, T, G*H)`` is ``project(x)``, ``h_prev (N, T, H)`` holds h_{t-1} of every
        step and ``state`` the initial state. Cells whose state is ``h`` alone run
        ``step`` once on the N*T steps folded into one batch.
        """
        if self.state_names != ("h",):
            raise NotImplementedError(f"{type(self).__name__} cannot replay its state")
        N, T, H = h_prev.shape
        _, values = self.step(xp.reshape(N * T, -1), (h_prev.reshape(N * T, H),))
        return {k: v.reshape(N, T, H) for k, v in values.items()}

    def forward(self, x_t: torch.Tensor, state: tuple | None = None) -> tuple:
        """One step from a raw input ``x_t (N, D)``: returns ``(h_t, state)``."""
        if x_t.dim() != 2 or x_t.shape[1] != self.input_size:
            raise ValueError(
                f"expected x_t of shape (N, D) with D={self.input_size}, got {tuple(x_t.shape)}"
            )
        if state is None:
            state = self.init_state(x_t.shape[0], x_t)
        state, _ = self.step(self.project(x_t), state)
        return state[0], state

    def gate(self, name: str) -> tuple:
        """Views ``(W_x block (H, D), W_h block (H, H), b block (H,))`` of one gate."""
        if name not in self.gate_order:
            raise KeyError(f"no gate {name!r}: this cell stacks {self.gate_order}")
        rows = slice(self.gate_order.index(name) * self.hidden_size,
                     (self.gate_order.index(name) + 1) * self.hidden_size)
        W_h = self.W_h[rows] if hasattr(self, "W_h") else None
        return self.W_x[rows], W_h, self.b[rows]

    def torch_weights(self) -> tuple:
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` in PyTorch's layout (differentiable)."""
        self._require_torch_mode()
        return self.W_x, self.W_h, self.b, torch.zeros_like(self.b)

    @torch.no_grad()
    def load_torch_weights(self, W_ih, W_hh, b_ih=None, b_hh=None) -> None:
        """Copy weights given in PyTorch's layout (biases may be None)."""
        self._require_torch_mode()
        self.W_x.copy_(W_ih)
        self.W_h.copy_(W_hh)
        self.b.zero_()
        for bias in (b_ih, b_hh):
            if bias is not None:
                self.b.add_(bias)

    def _require_torch_mode(self) -> None:
        if self.torch_mode is None:
            raise ValueError(f"{self!r} has no torch.nn equivalent (a variant or option is set)")

    def extra_repr(self) -> str:
        return f"D={self.input_size}, H={self.hidden_size}"


class RNNCell(Cell):
    """Vanilla RNN [000]: ``h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h)``.

    ``W_x`` is the lecture's ``W_xh = U`` (H, D), ``W_h`` is ``W_hh = W`` (H, H),
    ``b`` is ``b_h``. ``nonlinearity="relu"`` gives the ReLU RNN. Equal to
    ``torch.nn.RNN`` with the same weights.
    """

    gate_order = ("h",)
    internal_names = ("h",)

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh"):
        super().__init__(input_size, hidden_size)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.torch_mode = "RNN_" + nonlinearity.upper()
        self._stacked(1)
        self.reset_parameters()

    def step(self, xp_t, state):
        (h_prev,) = state
        a_t = xp_t + h_prev @ self.W_h.T  # (N, H)
        h_t = torch.tanh(a_t) if self.nonlinearity == "tanh" else torch.relu(a_t)
        return (h_t,), {"h": h_t}


@dataclass(frozen=True)
class LSTMOptions:
    """Which parts of the LSTM are present; the defaults equal ``torch.nn.LSTM``.

    The odyssey's "vanilla" LSTM is ``LSTMOptions(peepholes=True)``; each of its
    eight variants switches one thing (see ``odyssey_options``).
    """

    input_gate: bool = True         # False: i_t = 1 (NIG)
    forget_gate: bool = True        # False: f_t = 1, "version 0" of [001] (NFG)
    output_gate: bool = True        # False: o_t = 1 (NOG)
    input_activation: bool = True   # False: g_t is linear, no tanh (NIAF)
    output_activation: bool = True  # False: h_t = o_t * c_t, no tanh (NOAF)
    peepholes: bool = False         # p_i, p_f look at c_{t-1}; p_o at c_t
    coupled: bool = False           # f_t = 1 - i_t (CIFG)
    full_gate_recurrence: bool = False  # gates also see all gates of t-1 (FGR)

    def __post_init__(self):
        if self.coupled and not (self.input_gate and self.forget_gate):
            raise ValueError("coupled input and forget gate needs both gates present")

    def is_torch(self) -> bool:
        return self == LSTMOptions()


ODYSSEY_VARIANTS = ("V", "NIG", "NFG", "NOG", "NIAF", "NOAF", "NP", "CIFG", "FGR")
_VARIANT_CHANGE = {
    "V": {},
    "NIG": {"input_gate": False},
    "NFG": {"forget_gate": False},
    "NOG": {"output_gate": False},
    "NIAF": {"input_activation": False},
    "NOAF": {"output_activation": False},
    "NP": {"peepholes": False},
    "CIFG": {"coupled": True},
    "FGR": {"full_gate_recurrence": True},
}


def odyssey_options(name: str) -> LSTMOptions:
    """Options of a variant of Greff et al.: the peephole LSTM "V" with one change."""
    if name not in _VARIANT_CHANGE:
        raise ValueError(f"unknown variant {name!r}: expected one of {ODYSSEY_VARIANTS}")
    return replace(LSTMOptions(peepholes=True), **_VARIANT_CHANGE[name])


class LSTMCell(Cell):
    """LSTM with a forget gate [000, 001, 003]; gate order i, f, g, o (PyTorch's):

        i_t = sigmoid(W_xi x_t + W_hi h_{t-1} + b_i)      input gate
        f_t = sigmoid(W_xf x_t + W_hf h_{t-1} + b_f)      forget gate
        g_t = tanh(W_xg x_t + W_hg h_{t-1} + b_g)         candidate (block input z of [000])
        o_t = sigmoid(W_xo x_t + W_ho h_{t-1} + b_o)      output gate
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)

    ``W_x`` (G*H, D) stacks ``W_xi, W_xf, W_xg, W_xo`` (only the gates present,
    see ``gate_order``); ``W_h`` (G*H, H) likewise. ``options`` switches parts on and
    off (``LSTMOptions``); ``forget_bias`` is added to ``b_f`` at initialisation.
    Peepholes add ``p_i * c_{t-1}``, ``p_f * c_{t-1}`` and ``p_o * c_t`` to the gates;
    full gate recurrence adds ``R_gates @ [i, f, o]_{t-1}`` (state gets a third entry).
    """

    state_names = ("h", "c")

    def __init__(self, input_size: int, hidden_size: int,
                 options: LSTMOptions | str | None = None, forget_bias: float = 0.0):
        super().__init__(input_size, hidden_size)
        if isinstance(options, str):
            options = odyssey_options(options)
        self.options = options = options or LSTMOptions()
        has_f = options.forget_gate and not options.coupled
        self.gate_order = tuple(name for name, present in (
            ("i", options.input_gate), ("f", has_f), ("g", True), ("o", options.output_gate)
        ) if present)
        # sigmoid gates that exist (computed or coupled), in order
        self.sigmoid_gates = tuple(n for n in ("i", "f", "o")
                                   if n in self.gate_order or (n == "f" and options.coupled))
        self.internal_names = tuple(n for n in ("i", "f", "g", "o", "c", "h")
                                    if n in self.sigmoid_gates or n in ("g", "c", "h"))
        self.torch_mode = "LSTM" if options.is_torch() else None
        H = hidden_size
        self._stacked(len(self.gate_order))
        if options.peepholes:
            self.p = nn.ParameterDict({n: nn.Parameter(torch.empty(H))
                                       for n in ("i", "f", "o") if n in self.gate_order})
        if options.full_gate_recurrence:
            self.state_names = ("h", "c", "gates")
            fed = [n for n in ("i", "f", "o") if n in self.gate_order]
            self.R_gates = nn.Parameter(torch.empty(len(fed) * H, len(self.sigmoid_gates) * H))
        self.reset_parameters()
        if "f" in self.gate_order:
            with torch.no_grad():
                self.gate("f")[2].add_(forget_bias)
        elif forget_bias:
            raise ValueError("forget_bias needs a forget gate of its own")

    def init_state(self, N, like):
        zeros = like.new_zeros(N, self.hidden_size)
        if self.options.full_gate_recurrence:
            return zeros, zeros, like.new_zeros(N, len(self.sigmoid_gates) * self.hidden_size)
        return zeros, zeros

    def step(self, xp_t, state):
        opt, H = self.options, self.hidden_size
        h_prev, c_prev = state[0], state[1]
        a = xp_t + h_prev @ self.W_h.T  # (N, G*H) pre-activations of all gates
        pre = dict(zip(self.gate_order, a.split(H, dim=1)))
        if opt.full_gate_recurrence:
            fed = [n for n in ("i", "f", "o") if n in pre]
            extra = (state[2] @ self.R_gates.T).split(H, dim=1)
            pre.update({n: pre[n] + e for n, e in zip(fed, extra)})
        if opt.peepholes:
            for n in ("i", "f"):
                if n in pre:
                    pre[n] = pre[n] + self.p[n] * c_prev
        values = {}
        if "i" in pre:
            values["i"] = torch.sigmoid(pre["i"])
        if "f" in pre:
            values["f"] = torch.sigmoid(pre["f"])
        elif opt.coupled:
            values["f"] = 1 - values["i"]
        values["g"] = torch.tanh(pre["g"]) if opt.input_activation else pre["g"]
        write = values["i"] * values["g"] if "i" in values else values["g"]
        c_t = values["f"] * c_prev + write if "f" in values else c_prev + write
        if "o" in pre:
            if opt.peepholes:
                pre["o"] = pre["o"] + self.p["o"] * c_t
            values["o"] = torch.sigmoid(pre["o"])
        shown = torch.tanh(c_t) if opt.output_activation else c_t
        h_t = values["o"] * shown if "o" in values else shown
        values["c"], values["h"] = c_t, h_t
        if opt.full_gate_recurrence:
            gates = torch.cat([values[n] for n in self.sigmoid_gates], dim=1)
            return (h_t, c_t, gates), values
        return (h_t, c_t), values

    def replay(self, xp, h_prev, state):
        """Internals of all steps from every h_{t-1} (PyTorch's LSTM only, see ``Cell``):
        the gates in one batch, then only ``c_t = f_t c_{t-1} + i_t g_t`` loops over time."""
        self._require_torch_mode()
        a = xp + h_prev @ self.W_h.T  # (N, T, 4H)
        i, f, g, o = a.chunk(4, dim=2)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c_t, cs = state[1], []
        for f_t, write_t in zip(f.unbind(1), (i * g).unbind(1)):
            c_t = torch.addcmul(write_t, f_t, c_t)
            cs.append(c_t)
        c = torch.stack(cs, dim=1)  # (N, T, H)
        return {"i": i, "f": f, "g": g, "o": o, "c": c, "h": o * torch.tanh(c)}

    def extra_repr(self):
        changed = {f.name: getattr(self.options, f.name) for f in fields(LSTMOptions)
                   if getattr(self.options, f.name) != f.default}
        return super().extra_repr() + f", gates={''.join(self.gate_order)}, options={changed}"


class GRUCell(Cell):
    """GRU [003, Cho et al. 2014] in PyTorch's convention; gate order r, z, n:

        r_t = sigmoid(W_xr x_t + W_hr h_{t-1} + b_r)        reset gate
        z_t = sigmoid(W_xz x_t + W_hz h_{t-1} + b_z)        update gate
        n_t = tanh(W_xn x_t + r_t * (W_hn h_{t-1} + b_hn) + b_n)   candidate (h~_t)
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    So ``z_t`` near 1 KEEPS the old state ([003] and PyTorch); slides [002, 004]
    write ``h_t = (1 - z_t) h_{t-1} + z_t h~_t``, the same model with ``z -> 1 - z``.
    ``reset_after=False`` gives Cho et al.'s original candidate
    ``n_t = tanh(W_xn x_t + W_hn (r_t * h_{t-1}) + b_n)`` (no torch.nn equivalent).
    """

    gate_order = ("r", "z", "n")
    internal_names = ("r", "z", "n", "h")

    def __init__(self, input_size: int, hidden_size: int, reset_after: bool = True):
        super().__init__(input_size, hidden_size)
        self.reset_after = reset_after
        self.torch_mode = "GRU" if reset_after else None
        self._stacked(3)
        if reset_after:
            self.b_hn = nn.Parameter(torch.empty(hidden_size))
        self.reset_parameters()

    def step(self, xp_t, state):
        (h_prev,) = state
        H = self.hidden_size
        x_r, x_z, x_n = xp_t.split(H, dim=1)
        W_hrz, W_hn = self.W_h[: 2 * H], self.W_h[2 * H:]
        h_r, h_z = (h_prev @ W_hrz.T).split(H, dim=1)
        r_t = torch.sigmoid(x_r + h_r)
        z_t = torch.sigmoid(x_z + h_z)
        if self.reset_after:
            n_t = torch.tanh(x_n + r_t * (h_prev @ W_hn.T + self.b_hn))
        else:
            n_t = torch.tanh(x_n + (r_t * h_prev) @ W_hn.T)
        h_t = (1 - z_t) * n_t + z_t * h_prev
        return (h_t,), {"r": r_t, "z": z_t, "n": n_t, "h": h_t}

    def torch_weights(self):
        self._require_torch_mode()
        b_hh = torch.cat([torch.zeros_like(self.b[: 2 * self.hidden_size]), self.b_hn])
        return self.W_x, self.W_h, self.b, b_hh

    @torch.no_grad()
    def load_torch_weights(self, W_ih, W_hh, b_ih=None, b_hh=None):
        H = self.hidden_size
        super().load_torch_weights(W_ih, W_hh, b_ih, None)
        self.b_hn.zero_()
        if b_hh is not None:
            self.b[: 2 * H].add_(b_hh[: 2 * H])  # r and z add both biases; n keeps b_hn apart
            self.b_hn.copy_(b_hh[2 * H:])


class MUTCell(Cell):
    """MUT1, MUT2, MUT3 of Jozefowicz et al. (2015), as on [003] (state h, update z):

        MUT1: z = sigm(W_xz x + b_z);              r = sigm(W_xr x + W_hr h + b_r)
              h' = tanh(W_hh (r * h) + tanh(x) + b_h) * z + h * (1 - z)
        MUT2: z = sigm(W_xz x + W_hz h + b_z);      r = sigm(x + W_hr h + b_r)
              h' = tanh(W_hh (r * h) + W_xh x + b_h) * z + h * (1 - z)
        MUT3: z = sigm(W_xz x + W_hz tanh(h) + b_z); r = sigm(W_xr x + W_hr h + b_r)
              h' = tanh(W_hh (r * h) + W_xh x + b_h) * z + h * (1 - z)

    (The slide's MUT2 writes ``W_hx`` for ``W_hz``.) MUT1 and MUT2 add ``x`` to a
    hidden-size vector, so they need D == H. Blocks of ``W_x``: z, r, n (the
    candidate inside tanh); a block that uses ``x`` without weights is absent.
    """

    internal_names = ("z", "r", "n", "h")

    def __init__(self, input_size: int, hidden_size: int, variant: int = 1):
        super().__init__(input_size, hidden_size)
        if variant not in (1, 2, 3):
            raise ValueError(f"variant must be 1, 2 or 3, got {variant!r}")
        if variant in (1, 2) and input_size != hidden_size:
            raise ValueError(f"MUT{variant} adds x_t to h-sized vectors: needs D == H, "
                             f"got D={input_size}, H={hidden_size}")
        self.variant = variant
        self.gate_order = {1: ("z", "r"), 2: ("z", "n"), 3: ("z", "r", "n")}[variant]
        H = hidden_size
        self.W_x = nn.Parameter(torch.empty(len(self.gate_order) * H, input_size))
        self.b = nn.Parameter(torch.empty(3 * H))  # b_z, b_r, b_h
        self.W_hr = nn.Parameter(torch.empty(H, H))
        self.W_hh = nn.Parameter(torch.empty(H, H))
        if variant != 1:
            self.W_hz = nn.Parameter(torch.empty(H, H))
        self.reset_parameters()

    def project(self, x):
        """Input terms ``[z, r, n]`` of every step: ``(..., D) -> (..., 3H)``."""
        wx = dict(zip(self.gate_order, (x @ self.W_x.T).split(self.hidden_size, dim=-1)))
        wx.setdefault("r", x)              # MUT2: r gets x itself
        wx.setdefault("n", torch.tanh(x))  # MUT1: candidate gets tanh(x)
        return torch.cat([wx["z"], wx["r"], wx["n"]], dim=-1) + self.b

    def step(self, xp_t, state):
        (h_prev,) = state
        x_z, x_r, x_n = xp_t.split(self.hidden_size, dim=1)
        if self.variant == 1:
            z = torch.sigmoid(x_z)
        elif self.variant == 2:
            z = torch.sigmoid(x_z + h_prev @ self.W_hz.T)
        else:
            z = torch.sigmoid(x_z + torch.tanh(h_prev) @ self.W_hz.T)
        r = torch.sigmoid(x_r + h_prev @ self.W_hr.T)
        n = torch.tanh((r * h_prev) @ self.W_hh.T + x_n)
        h_t = n * z + h_prev * (1 - z)
        return (h_t,), {"z": z, "r": r, "n": n, "h": h_t}

    def gate(self, name):
        raise TypeError("MUT cells keep one matrix per term: use W_x blocks, W_hr, W_hh, W_hz")

    def extra_repr(self):
        return super().extra_repr() + f", MUT{self.variant}"
