"""Run recurrent cells over whole sequences: layers, masks, recorded internals,
and conversion to and from ``torch.nn.LSTM`` / ``GRU`` / ``RNN``.

``SequenceLayer`` stacks cells of ``rnncourse.cells`` and runs them over
batch-first input ``(N, T, D)``. Three paths give the same numbers:

* the **loop**: a plain Python loop over time with the cell's own ``step``, which
  every cell and variant can run, recording (``record=True``) every gate, the
  candidate and the cell state. It computes the input terms of all steps at once and
  splits time with ``unbind``: indexing ``x[:, t]`` inside the loop makes the backward
  pass quadratic in T;
* the **fast path** through ``torch.nn``'s fused kernels (cuDNN on a GPU), taken when
  every cell has a ``torch.nn`` equivalent and the mask (if any) only pads the ends
  of sequences;
* **recording by replay** for those same cells: the fused kernel gives every h_t,
  then each cell recomputes its internals for all steps in one batch (``replay``);
  gradients flow through both, so a loss may use the internals.

Masks ``(N, T)`` are True where a step is real. At a masked step the state is carried
over unchanged, and the outputs (and recorded internals) are zero, as with
``pack_padded_sequence``. States use PyTorch's layout: ``h (L, N, H)``, and for the
LSTM the pair ``(h, c)``.
"""

import warnings

import torch
from torch import nn
from torch.func import functional_call
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncourse.cells import Cell, GRUCell, LSTMCell, RNNCell

__all__ = ["SequenceLayer", "from_torch", "to_torch"]

_TORCH_CLASSES = {"LSTM": nn.LSTM, "GRU": nn.GRU, "RNN_TANH": nn.RNN, "RNN_RELU": nn.RNN}


class SequenceLayer(nn.Module):
    """Cells stacked in layers and run over batch-first sequences.

    ``forward(x, state=None, mask=None, record=False)`` takes ``x (N, T, D)`` and
    returns ``(outputs (N, T, H), final_state, internals)``: ``final_state`` in
    PyTorch's layout (``h (L, N, H)``, or a tuple ``(h, c)`` for the LSTM), and
    ``internals`` None unless ``record=True``, then a list over layers of dicts
    mapping names (``cell.internal_names``) to ``(N, T, H)`` tensors.
    Dropout (training only) acts on the outputs of every layer but the last.
    ``layer.fast = False`` makes every call take the Python loop.
    """

    def __init__(self, cells, dropout: float = 0.0):
        super().__init__()
        cells = list(cells)
        if not cells or not all(isinstance(c, Cell) for c in cells):
            raise ValueError("expected a non-empty list of rnncourse.cells cells")
        for below, above in zip(cells, cells[1:]):
            if above.input_size != below.hidden_size:
                raise ValueError(f"layer input D={above.input_size} does not match the "
                                 f"hidden size H={below.hidden_size} of the layer below")
            if (above.hidden_size, above.state_names) != (below.hidden_size, below.state_names):
                raise ValueError("all layers need one hidden size and one kind of state "
                                 "(states are stacked as (L, N, H))")
        self.cells = nn.ModuleList(cells)
        self.dropout = dropout
        self.fast = True  # False: always the Python loop
        self._template = {}  # torch.nn modules lent to the fast path, never trained

    @classmethod
    def stack(cls, cell_class, input_size: int, hidden_size: int, num_layers: int = 1,
              dropout: float = 0.0, **options) -> "SequenceLayer":
        """``num_layers`` cells of one class, e.g. ``stack(LSTMCell, D, H, 2)``."""
        sizes = [input_size] + [hidden_size] * (num_layers - 1)
        return cls([cell_class(D, hidden_size, **options) for D in sizes], dropout)

    @property
    def num_layers(self) -> int:
        return len(self.cells)

    def forward(self, x, state=None, mask=None, record: bool = False):
        D = self.cells[0].input_size
        if x.dim() != 3 or x.shape[2] != D:
            raise ValueError(f"expected x of shape (N, T, D) with D={D}, got {tuple(x.shape)}")
        N, T, _ = x.shape
        if mask is not None:
            if tuple(mask.shape) != (N, T):
                raise ValueError(f"expected mask of shape (N, T) = {(N, T)}, "
                                 f"got {tuple(mask.shape)}")
            mask = mask.to(device=x.device, dtype=torch.bool)
        states = self._split_state(state, N, x)
        if self.fast and self._fast_mode(mask) is not None:
            if record:
                return self._forward_replay(x, states, mask)
            return self._forward_torch(x, states, mask)
        return self._forward_loop(x, states, mask, record)

    # ---- the recording path -------------------------------------------------
    def _forward_loop(self, x, states, mask, record):
        steps = mask.unsqueeze(-1).unbind(1) if mask is not None else None  # T x (N, 1)
        layer_input, finals, internals = x, [], []
        for depth, (cell, state) in enumerate(zip(self.cells, states)):
            if depth > 0 and self.dropout and self.training:
                layer_input = nn.functional.dropout(layer_input, self.dropout, True)
            xp = cell.project(layer_input)  # (N, T, G*H), every step at once
            outputs, kept = [], {name: [] for name in cell.internal_names} if record else None
            for t, xp_t in enumerate(xp.unbind(1)):
                new, values = cell.step(xp_t, state)
                if steps is None:
                    state, h_t = new, new[0]
                else:
                    m = steps[t]
                    state = tuple(torch.where(m, s_new, s_old) for s_new, s_old in zip(new, state))
                    h_t = new[0] * m
                    if record:
                        values = {k: v * m for k, v in values.items()}
                outputs.append(h_t)
                if record:
                    for name in kept:
                        kept[name].append(values[name])
            layer_input = torch.stack(outputs, dim=1)  # (N, T, H)
            finals.append(state)
            if record:
                internals.append({k: torch.stack(v, dim=1) for k, v in kept.items()})
        return layer_input, self._join_state(finals), internals if record else None

    # ---- the fast path ------------------------------------------------------
    def _fast_mode(self, mask):
        modes = {cell.torch_mode for cell in self.cells}
        if len(modes) != 1 or None in modes:
            return None
        if mask is not None and not _is_padding(mask):
            return None
        return modes.pop()

    def _torch_module(self, mode, D, num_layers):
        """A ``torch.nn`` module of the right shape for ``functional_call``: its own
        weights are never used."""
        W = self.cells[0].W_x
        key = (mode, D, num_layers, str(W.device), W.dtype)
        if key not in self._template:
            self._template[key] = _new_torch_module(
                mode, D, self.cells[0].hidden_size, num_layers, self.dropout).to(W.device, W.dtype)
        return self._template[key]

    def _run_torch(self, cells, x, states, mask):
        """Run ``cells`` (all layers, or one) through the fused kernel; torch's outputs."""
        mode = cells[0].torch_mode
        module = self._torch_module(mode, x.shape[2], len(cells))
        module.train(self.training)
        weights = {}
        for k, cell in enumerate(cells):
            for name, w in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
                               cell.torch_weights()):
                weights[f"{name}_l{k}"] = w
        hx = tuple(torch.stack(part) for part in zip(*states))  # each (L, N, H)
        hx = hx if mode == "LSTM" else hx[0]
        inputs = x
        if mask is not None:
            inputs = pack_padded_sequence(x, mask.sum(1).cpu(), batch_first=True,
                                          enforce_sorted=False)
        with warnings.catch_warnings():  # cuDNN asks for one flat weight buffer
            warnings.filterwarnings("ignore", message=".*contiguous chunk of memory.*")
            outputs, final = functional_call(module, weights, (inputs, hx))
        if mask is not None:
            outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=x.shape[1])
        return outputs, final

    def _forward_torch(self, x, states, mask):
        outputs, final = self._run_torch(list(self.cells), x, states, mask)
        return outputs, final, None

    def _forward_replay(self, x, states, mask):
        """Record by replay: the fused kernel gives h_t of every step, then the cell
        recomputes its gates for all steps at once from (x_t, h_{t-1})."""
        layer_input, finals, internals = x, [], []
        for depth, (cell, state) in enumerate(zip(self.cells, states)):
            if depth > 0 and self.dropout and self.training:
                layer_input = nn.functional.dropout(layer_input, self.dropout, True)
            outputs, final = self._run_torch([cell], layer_input, [state], mask)
            h_prev = torch.cat([state[0].unsqueeze(1), outputs[:, :-1]], dim=1)  # (N, T, H)
            values = cell.replay(cell.project(layer_input), h_prev, state)
            if mask is not None:
                values = {k: v * mask.unsqueeze(-1) for k, v in values.items()}
            internals.append(values)
            finals.append(tuple(part[0] for part in (final if isinstance(final, tuple) else (final,))))
            layer_input = outputs
        return layer_input, self._join_state(finals), internals

    # ---- states in PyTorch's layout -------------------------------------------
    def _split_state(self, state, N, x):
        """PyTorch-layout state (or None) -> one tuple of ``(N, H)`` tensors per layer."""
        if state is None:
            return [cell.init_state(N, x) for cell in self.cells]
        parts = (state,) if torch.is_tensor(state) else tuple(state)
        names = self.cells[0].state_names
        if len(parts) != len(names):
            raise ValueError(f"expected a state with {len(names)} part(s) {names}, "
                             f"got {len(parts)}")
        for name, part in zip(names, parts):
            expected = (self.num_layers, N, part.shape[-1] if name == "gates"
                        else self.cells[0].hidden_size)
            if tuple(part.shape) != expected:
                raise ValueError(f"expected state {name} of shape (L, N, H) = {expected}, "
                                 f"got {tuple(part.shape)}")
        return [tuple(part[k] for part in parts) for k in range(self.num_layers)]

    def _join_state(self, finals):
        joined = tuple(torch.stack(part) for part in zip(*finals))  # each (L, N, H)
        return joined[0] if len(joined) == 1 else joined


def _is_padding(mask) -> bool:
    """True when every row is some True steps followed by False steps, at least one True."""
    lengths = mask.sum(1)
    steps = torch.arange(mask.shape[1], device=mask.device)
    return bool((lengths > 0).all()) and bool((mask == (steps < lengths[:, None])).all())


def _new_torch_module(mode, D, H, num_layers, dropout):
    options = {"nonlinearity": mode[4:].lower()} if mode.startswith("RNN") else {}
    return _TORCH_CLASSES[mode](D, H, num_layers, batch_first=True,
                                dropout=dropout if num_layers > 1 else 0.0, **options)


def from_torch(module: nn.Module) -> SequenceLayer:
    """A ``SequenceLayer`` with the weights of a ``torch.nn.LSTM``, ``GRU`` or ``RNN``.

    Works for one or more layers, unidirectional, without ``proj_size``; the copy has
    the module's dtype and device. Its outputs equal the module's (up to rounding:
    the two biases of each gate are added into one). The result always reads
    batch-first input ``(N, T, D)``, whatever the module's ``batch_first``.
    """
    if not isinstance(module, (nn.LSTM, nn.GRU, nn.RNN)):
        raise TypeError(f"expected torch.nn.LSTM, GRU or RNN, got {type(module).__name__}")
    if module.bidirectional or getattr(module, "proj_size", 0):
        raise ValueError("bidirectional modules and proj_size are not supported")
    if isinstance(module, nn.LSTM):
        make = LSTMCell
    elif isinstance(module, nn.GRU):
        make = GRUCell
    else:
        def make(D, H):
            return RNNCell(D, H, nonlinearity=module.nonlinearity)
    D, H, L = module.input_size, module.hidden_size, module.num_layers
    cells = [make(D if k == 0 else H, H) for k in range(L)]
    reference = module.weight_ih_l0
    layer = SequenceLayer(cells, module.dropout).to(reference.device, reference.dtype)
    for k, cell in enumerate(cells):
        biases = [getattr(module, f"bias_{n}_l{k}") if module.bias else None
                  for n in ("ih", "hh")]
        cell.load_torch_weights(getattr(module, f"weight_ih_l{k}"),
                                getattr(module, f"weight_hh_l{k}"), *biases)
    return layer


def to_torch(layer: SequenceLayer) -> nn.Module:
    """A batch-first ``torch.nn.LSTM``/``GRU``/``RNN`` equal to ``layer`` (weights copied)."""
    mode = layer._fast_mode(None)
    if mode is None:
        raise ValueError("only layers of plain RNNCell, LSTMCell or GRUCell cells (one "
                         "kind, no variant options) have a torch.nn equivalent")
    cell = layer.cells[0]
    module = _new_torch_module(mode, cell.input_size, cell.hidden_size, layer.num_layers,
                               layer.dropout).to(cell.W_x.device, cell.W_x.dtype)
    with torch.no_grad():
        for k, cell in enumerate(layer.cells):
            for name, w in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
                               cell.torch_weights()):
                getattr(module, f"{name}_l{k}").copy_(w)
    return module
