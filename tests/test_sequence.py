"""SequenceLayer: equal to torch.nn on copied weights, on both paths, with masks."""

import pytest
import torch
from torch import nn

from rnncourse.cells import GRUCell, LSTMCell, MUTCell, RNNCell
from rnncourse.sequence import SequenceLayer, from_torch, to_torch

TOL = 1e-10
SIZES = [(1, 1, 1, 1), (3, 7, 5, 4), (4, 12, 2, 9)]  # N, T, D, H


def _torch_module(kind, D, H, layers):
    torch.manual_seed(D * 100 + H * 10 + layers)
    if kind == "relu":
        return nn.RNN(D, H, layers, nonlinearity="relu", batch_first=True).double()
    return {"lstm": nn.LSTM, "gru": nn.GRU, "tanh": nn.RNN}[kind](
        D, H, layers, batch_first=True).double()


def _max_diff(a, b):
    if isinstance(a, tuple):
        return max(_max_diff(x, y) for x, y in zip(a, b))
    return (a - b).abs().max().item()


@pytest.mark.parametrize("kind", ["lstm", "gru", "tanh", "relu"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("N,T,D,H", SIZES)
def test_from_torch_equals_torch_on_both_paths(kind, layers, N, T, D, H):
    module = _torch_module(kind, D, H, layers)
    x = torch.randn(N, T, D, dtype=torch.float64)
    expected, expected_state = module(x)
    layer = from_torch(module)
    for record in (False, True):
        outputs, state, internals = layer(x, record=record)
        assert _max_diff(outputs, expected) < TOL
        assert _max_diff(state, expected_state) < TOL
        assert (internals is None) == (not record)


@pytest.mark.parametrize("kind", ["lstm", "gru", "tanh"])
def test_given_initial_state_equals_torch(kind):
    module = _torch_module(kind, 3, 5, 2)
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    h0 = torch.randn(2, 2, 5, dtype=torch.float64)
    state = (h0, torch.randn_like(h0)) if kind == "lstm" else h0
    expected, expected_state = module(x, state)
    layer = from_torch(module)
    for record in (False, True):
        outputs, final, _ = layer(x, state, record=record)
        assert _max_diff(outputs, expected) < TOL
        assert _max_diff(final, expected_state) < TOL


@pytest.mark.parametrize("kind,names", [("lstm", ["i", "f", "g", "o", "c", "h"]),
                                        ("gru", ["r", "z", "n", "h"])])
def test_recorded_internals_have_names_shapes_and_agree_with_outputs(kind, names):
    module = _torch_module(kind, 4, 6, 2)
    x = torch.randn(3, 8, 4, dtype=torch.float64)
    outputs, state, internals = from_torch(module)(x, record=True)
    assert len(internals) == 2
    for values in internals:
        assert list(values) == names
        assert all(v.shape == (3, 8, 6) for v in values.values())
    assert _max_diff(internals[1]["h"], outputs) < TOL
    h_n = state[0] if kind == "lstm" else state
    assert _max_diff(internals[0]["h"][:, -1], h_n[0]) < TOL
    if kind == "lstm":
        assert _max_diff(internals[1]["c"][:, -1], state[1][1]) < TOL


def test_recorded_lstm_gates_obey_the_cell_equations():
    module = _torch_module("lstm", 3, 5, 1)
    x = torch.randn(2, 9, 3, dtype=torch.float64)
    _, _, (v,) = from_torch(module)(x, record=True)
    for name in "ifo":
        assert ((v[name] > 0) & (v[name] < 1)).all()
    c_prev = torch.cat([torch.zeros_like(v["c"][:, :1]), v["c"][:, :-1]], dim=1)
    assert _max_diff(v["c"], v["f"] * c_prev + v["i"] * v["g"]) < TOL
    assert _max_diff(v["h"], v["o"] * torch.tanh(v["c"])) < TOL


@pytest.mark.parametrize("kind", ["lstm", "gru", "tanh"])
def test_gradients_equal_torch_on_both_paths(kind):
    module = _torch_module(kind, 3, 4, 2)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    module(x)[0].square().sum().backward()
    expected = {n: p.grad for n, p in module.named_parameters()}
    for record in (False, True):
        layer = from_torch(module)
        layer(x, record=record)[0].square().sum().backward()
        for k, cell in enumerate(layer.cells):
            assert _max_diff(cell.W_x.grad, expected[f"weight_ih_l{k}"]) < TOL
            assert _max_diff(cell.W_h.grad, expected[f"weight_hh_l{k}"]) < TOL
            # one bias b stands for bias_ih + bias_hh: both have b's gradient
            assert _max_diff(cell.b.grad, expected[f"bias_ih_l{k}"]) < TOL


@pytest.mark.parametrize("kind", ["lstm", "gru", "tanh", "relu"])
def test_to_torch_round_trip(kind):
    module = _torch_module(kind, 4, 3, 2)
    x = torch.randn(2, 5, 4, dtype=torch.float64)
    copy = to_torch(from_torch(module))
    assert type(copy) is type(module) and copy.batch_first
    assert _max_diff(copy(x), module(x)) < TOL


def test_to_torch_refuses_cells_without_equivalent():
    layer = SequenceLayer([LSTMCell(2, 3, "CIFG")])
    with pytest.raises(ValueError, match="no torch.nn equivalent|torch.nn equivalent"):
        to_torch(layer)


def test_from_torch_accepts_time_major_module_but_reads_batch_first():
    module = nn.GRU(3, 4, batch_first=False).double()
    x = torch.randn(5, 2, 3, dtype=torch.float64)  # (T, N, D)
    expected, _ = module(x)
    outputs, _, _ = from_torch(module)(x.transpose(0, 1))
    assert _max_diff(outputs.transpose(0, 1), expected) < TOL


def test_from_torch_rejects_bidirectional_and_other_modules():
    with pytest.raises(ValueError, match="bidirectional"):
        from_torch(nn.LSTM(2, 3, bidirectional=True))
    with pytest.raises(TypeError, match="expected torch.nn.LSTM"):
        from_torch(nn.Linear(2, 3))


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_padding_mask_equals_running_each_sequence_alone(kind):
    module = _torch_module(kind, 3, 4, 2)
    layer = from_torch(module)
    x = torch.randn(3, 7, 3, dtype=torch.float64)
    lengths = [7, 2, 5]
    mask = torch.arange(7)[None] < torch.tensor(lengths)[:, None]
    for record in (False, True):
        outputs, state, _ = layer(x, mask=mask, record=record)
        for n, length in enumerate(lengths):
            alone, alone_state = module(x[n:n + 1, :length])
            assert _max_diff(outputs[n, :length], alone[0]) < TOL
            assert outputs[n, length:].abs().sum().item() == 0
            h = state[0] if kind == "lstm" else state
            h_alone = alone_state[0] if kind == "lstm" else alone_state
            assert _max_diff(h[:, n], h_alone[:, 0]) < TOL


def test_mask_with_holes_carries_the_state_over_masked_steps():
    layer = SequenceLayer.stack(LSTMCell, 2, 3, num_layers=1).double()
    x = torch.randn(1, 6, 2, dtype=torch.float64)
    mask = torch.tensor([[True, True, False, False, True, True]])
    outputs, state, internals = layer(x, mask=mask, record=True)
    skipped, _, _ = layer(x[:, [0, 1, 4, 5]])
    assert _max_diff(outputs[:, [0, 1, 4, 5]], skipped) < TOL
    assert outputs[:, 2:4].abs().max().item() == 0
    assert internals[0]["g"][:, 2:4].abs().max().item() == 0
    assert _max_diff(state[0][0], skipped[:, -1]) < TOL


def test_python_loop_runs_only_for_cells_or_masks_torch_cannot_run(monkeypatch):
    calls = []
    original = SequenceLayer._forward_loop
    monkeypatch.setattr(SequenceLayer, "_forward_loop",
                        lambda self, *a: calls.append(1) or original(self, *a))
    x = torch.randn(2, 4, 3)
    SequenceLayer.stack(GRUCell, 3, 5, 2)(x)
    SequenceLayer.stack(LSTMCell, 3, 5, 2)(x, record=True)
    SequenceLayer.stack(LSTMCell, 3, 5, options="NP")(x)  # NP is PyTorch's LSTM
    assert calls == []
    SequenceLayer.stack(LSTMCell, 3, 5, options="V")(x)
    SequenceLayer.stack(GRUCell, 3, 5, reset_after=False)(x)
    SequenceLayer.stack(GRUCell, 3, 5)(x, mask=torch.tensor([[1, 0, 1, 1], [1, 1, 1, 1]]))
    assert calls == [1, 1, 1]


@pytest.mark.parametrize("kind", ["lstm", "gru", "tanh"])
@pytest.mark.parametrize("masked", [False, True])
def test_replay_records_what_the_loop_records_with_the_same_gradients(kind, masked):
    module = _torch_module(kind, 3, 4, 2)
    x = torch.randn(3, 6, 3, dtype=torch.float64)
    mask = torch.arange(6)[None] < torch.tensor([[6], [3], [1]]) if masked else None
    results = []
    for fast in (True, False):
        layer = from_torch(module)
        layer.fast = fast
        outputs, state, internals = layer(x, mask=mask, record=True)
        # a loss that reads the internals too: gradients flow through the replay
        loss = outputs.sum() + sum(v.square().sum() for layer_values in internals
                                   for v in layer_values.values())
        loss.backward()
        results.append((outputs, state, internals, [p.grad for p in layer.parameters()]))
    (o1, s1, i1, g1), (o2, s2, i2, g2) = results
    assert _max_diff(o1, o2) < TOL and _max_diff(s1, s2) < TOL
    for a, b in zip(i1, i2):
        assert a.keys() == b.keys()
        assert max(_max_diff(a[k], b[k]) for k in a) < TOL
    assert max(_max_diff(a, b) for a, b in zip(g1, g2)) < 1e-9


def test_any_cell_runs_over_a_sequence():
    x = torch.randn(2, 5, 4, dtype=torch.float64)
    for cells in ([MUTCell(4, 4, 1), MUTCell(4, 4, 3)], [LSTMCell(4, 3, "FGR")],
                  [RNNCell(4, 6), GRUCell(6, 6, reset_after=False)]):
        layer = SequenceLayer(cells).double()
        outputs, state, internals = layer(x, record=True)
        assert outputs.shape == (2, 5, cells[-1].hidden_size)
        assert [list(v) for v in internals] == [list(c.internal_names) for c in cells]


def test_bad_shapes_raise_clear_errors():
    layer = SequenceLayer.stack(LSTMCell, 3, 4, 2)
    with pytest.raises(ValueError, match=r"expected x of shape \(N, T, D\) with D=3"):
        layer(torch.randn(5, 3))
    with pytest.raises(ValueError, match="expected mask of shape"):
        layer(torch.randn(2, 5, 3), mask=torch.ones(5, 2))
    with pytest.raises(ValueError, match="expected state h of shape"):
        layer(torch.randn(2, 5, 3), (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match="does not match the hidden size"):
        SequenceLayer([LSTMCell(3, 4), LSTMCell(5, 4)])
    with pytest.raises(ValueError, match="one hidden size and one kind of state"):
        SequenceLayer([LSTMCell(3, 4), GRUCell(4, 4)])


def test_dropout_between_layers_only_in_training():
    layer = SequenceLayer.stack(GRUCell, 3, 8, 2, dropout=0.5).double()
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    layer.eval()
    fast, _, _ = layer(x)
    slow, _, _ = layer(x, record=True)
    assert _max_diff(fast, slow) < TOL
    layer.train()
    torch.manual_seed(0)
    assert _max_diff(layer(x, record=True)[0], slow) > 1e-3


def test_from_torch_keeps_float32_and_records_without_gradients():
    module = nn.LSTM(3, 5, 2, batch_first=True)
    x = torch.randn(2, 7, 3)
    layer = from_torch(module)
    with torch.no_grad():
        outputs, _, internals = layer(x, record=True)
    assert outputs.dtype == torch.float32 and internals[1]["c"].dtype == torch.float32
    assert (outputs - module(x)[0]).abs().max().item() < 1e-6
