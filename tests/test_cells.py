"""Cells: equal to torch.nn cells on copied weights, and to the slides' equations."""

import pytest
import torch
from torch import nn

from rnncourse.cells import (ODYSSEY_VARIANTS, GRUCell, LSTMCell, LSTMOptions, MUTCell,
                             RNNCell, odyssey_options)

TOL = 1e-12
SIZES = [(1, 1, 1), (3, 5, 4), (2, 2, 7)]  # N, D, H
sig, tanh = torch.sigmoid, torch.tanh


def _run(cell, xs, state=None):
    """h_t of every step for xs (T, N, D) through ``cell.forward``."""
    hs = []
    for x_t in xs:
        h_t, state = cell(x_t, state)
        hs.append(h_t)
    return torch.stack(hs), state


def _seq(T, N, D):
    return torch.randn(T, N, D, dtype=torch.float64)


@pytest.mark.parametrize("N,D,H", SIZES)
def test_lstm_cell_equals_torch_lstmcell(N, D, H):
    reference = nn.LSTMCell(D, H).double()
    cell = LSTMCell(D, H).double()
    cell.load_torch_weights(reference.weight_ih, reference.weight_hh,
                            reference.bias_ih, reference.bias_hh)
    xs = _seq(4, N, D)
    h = c = torch.zeros(N, H, dtype=torch.float64)
    for x_t in xs:
        h, c = reference(x_t, (h, c))
    _, (h_ours, c_ours) = _run(cell, xs)
    assert (h_ours - h).abs().max() < TOL and (c_ours - c).abs().max() < TOL


@pytest.mark.parametrize("N,D,H", SIZES)
def test_gru_cell_equals_torch_grucell(N, D, H):
    reference = nn.GRUCell(D, H).double()
    cell = GRUCell(D, H).double()
    cell.load_torch_weights(reference.weight_ih, reference.weight_hh,
                            reference.bias_ih, reference.bias_hh)
    xs = _seq(4, N, D)
    h = torch.zeros(N, H, dtype=torch.float64)
    for x_t in xs:
        h = reference(x_t, h)
    _, (h_ours,) = _run(cell, xs)
    assert (h_ours - h).abs().max() < TOL


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_equals_torch_rnncell(nonlinearity):
    reference = nn.RNNCell(3, 4, nonlinearity=nonlinearity).double()
    cell = RNNCell(3, 4, nonlinearity).double()
    cell.load_torch_weights(reference.weight_ih, reference.weight_hh,
                            reference.bias_ih, reference.bias_hh)
    xs = _seq(5, 2, 3)
    h = torch.zeros(2, 4, dtype=torch.float64)
    for x_t in xs:
        h = reference(x_t, h)
    _, (h_ours,) = _run(cell, xs)
    assert (h_ours - h).abs().max() < TOL


def test_gate_views_follow_torch_order_i_f_g_o():
    reference = nn.LSTMCell(3, 2)
    cell = LSTMCell(3, 2)
    cell.load_torch_weights(reference.weight_ih, reference.weight_hh)
    for k, name in enumerate("ifgo"):
        W_x, W_h, _ = cell.gate(name)
        assert torch.equal(W_x, reference.weight_ih[2 * k:2 * k + 2])
        assert torch.equal(W_h, reference.weight_hh[2 * k:2 * k + 2])


def _greff_step(cell, x, h, c, gates_prev):
    """The odyssey's equations written out gate by gate, independently of LSTMCell."""
    opt, H = cell.options, cell.hidden_size

    def pre(name):
        W_x, W_h, b = cell.gate(name)
        total = x @ W_x.T + h @ W_h.T + b
        fed = [n for n in "ifo" if n in cell.gate_order]
        if opt.full_gate_recurrence and name in fed:  # 9 extra matrices among i, f, o
            row = fed.index(name) * H
            for k in range(len(cell.sigmoid_gates)):
                R = cell.R_gates[row:row + H, k * H:(k + 1) * H]
                total = total + gates_prev[:, k * H:(k + 1) * H] @ R.T
        return total

    z = tanh(pre("g")) if opt.input_activation else pre("g")
    peep = (lambda n, state: cell.p[n] * state) if opt.peepholes else (lambda n, s: 0)
    i = sig(pre("i") + peep("i", c)) if opt.input_gate else torch.ones_like(z)
    if opt.coupled:
        f = 1 - i
    else:
        f = sig(pre("f") + peep("f", c)) if opt.forget_gate else torch.ones_like(z)
    c_t = i * z + f * c
    o = sig(pre("o") + peep("o", c_t)) if opt.output_gate else torch.ones_like(z)
    h_t = o * (tanh(c_t) if opt.output_activation else c_t)
    gates = torch.cat([g for g, n in zip((i, f, o), "ifo") if n in cell.sigmoid_gates], dim=1)
    return h_t, c_t, gates


@pytest.mark.parametrize("variant", ODYSSEY_VARIANTS)
def test_every_odyssey_variant_follows_the_greff_equations(variant):
    torch.manual_seed(3)
    cell = LSTMCell(3, 4, variant).double()
    xs = _seq(5, 2, 3)
    h = c = torch.zeros(2, 4, dtype=torch.float64)
    gates = torch.zeros(2, 4 * len(cell.sigmoid_gates), dtype=torch.float64)
    state = None
    for x_t in xs:
        h, c, gates = _greff_step(cell, x_t, h, c, gates)
        h_ours, state = cell(x_t, state)
        assert (h_ours - h).abs().max() < TOL
        assert (state[1] - c).abs().max() < TOL


@pytest.mark.parametrize("variant,order", [
    ("V", "ifgo"), ("NIG", "fgo"), ("NFG", "igo"), ("NOG", "ifg"), ("CIFG", "igo"),
    ("NP", "ifgo")])
def test_variants_stack_only_the_gates_they_have(variant, order):
    cell = LSTMCell(3, 4, variant)
    assert cell.gate_order == tuple(order)
    assert cell.W_x.shape == (4 * len(order), 3) and cell.W_h.shape == (4 * len(order), 4)
    assert hasattr(cell, "p") == (variant != "NP")


def test_only_the_plain_lstm_has_a_torch_equivalent():
    assert LSTMCell(2, 3).torch_mode == "LSTM"
    assert LSTMCell(2, 3, "NP").torch_mode == "LSTM"  # NP is PyTorch's LSTM
    for variant in ODYSSEY_VARIANTS:
        if variant != "NP":
            assert LSTMCell(2, 3, variant).torch_mode is None
    with pytest.raises(ValueError, match="no torch.nn equivalent"):
        LSTMCell(2, 3, "CIFG").torch_weights()


def test_cifg_forget_gate_is_one_minus_input_gate():
    layer_cell = LSTMCell(2, 3, "CIFG").double()
    _, values = layer_cell.step(layer_cell.project(_seq(1, 4, 2)[0]),
                                layer_cell.init_state(4, torch.zeros(1, dtype=torch.float64)))
    assert torch.allclose(values["f"], 1 - values["i"])


def test_no_forget_gate_is_version_0_with_a_pure_sum():
    cell = LSTMCell(2, 3, LSTMOptions(forget_gate=False)).double()
    state = (torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64))
    new, values = cell.step(cell.project(_seq(1, 4, 2)[0]), state)
    assert "f" not in values
    assert torch.allclose(new[1] - state[1], values["i"] * values["g"])


def test_forget_bias_is_added_to_b_f_only():
    torch.manual_seed(0)
    plain = LSTMCell(2, 3)
    torch.manual_seed(0)
    biased = LSTMCell(2, 3, forget_bias=5.0)
    for name in "igo":
        assert torch.equal(plain.gate(name)[2], biased.gate(name)[2])
    assert torch.allclose(biased.gate("f")[2] - plain.gate("f")[2], torch.full((3,), 5.0))
    with pytest.raises(ValueError, match="forget gate"):
        LSTMCell(2, 3, "CIFG", forget_bias=1.0)


def test_lstm_gates_lie_in_their_ranges():
    cell = LSTMCell(4, 6)
    _, values = cell.step(cell.project(torch.randn(50, 4) * 5), cell.init_state(50, torch.zeros(1)))
    for name in "ifo":
        assert ((values[name] > 0) & (values[name] < 1)).all()
    assert (values["g"].abs() < 1).all()


def test_gru_update_gate_near_one_keeps_the_old_state():
    cell = GRUCell(2, 3).double()
    with torch.no_grad():
        cell.gate("z")[2].fill_(40.0)  # z_t = sigmoid(40) = 1: keep h_{t-1} (PyTorch's z)
    h_prev = torch.randn(4, 3, dtype=torch.float64)
    h_t, _ = cell(_seq(1, 4, 2)[0], (h_prev,))
    assert torch.allclose(h_t, h_prev, atol=1e-12)


def test_gru_reset_before_follows_cho_et_al():
    cell = GRUCell(3, 4, reset_after=False).double()
    x, h = _seq(1, 2, 3)[0], torch.randn(2, 4, dtype=torch.float64)
    (W_xr, W_hr, b_r), (W_xz, W_hz, b_z), (W_xn, W_hn, b_n) = (cell.gate(n) for n in "rzn")
    r = sig(x @ W_xr.T + h @ W_hr.T + b_r)
    z = sig(x @ W_xz.T + h @ W_hz.T + b_z)
    h_tilde = tanh(x @ W_xn.T + (r * h) @ W_hn.T + b_n)
    expected = z * h + (1 - z) * h_tilde  # [003]'s GRU
    h_t, _ = cell(x, (h,))
    assert (h_t - expected).abs().max() < TOL
    assert cell.torch_mode is None


@pytest.mark.parametrize("variant", [1, 2, 3])
def test_mut_cells_follow_the_slide_equations(variant):
    torch.manual_seed(variant)
    cell = MUTCell(4, 4, variant).double()
    x, h = _seq(1, 3, 4)[0], torch.randn(3, 4, dtype=torch.float64)
    H = 4
    W = dict(zip(cell.gate_order, cell.W_x.split(H)))
    b_z, b_r, b_h = cell.b.split(H)
    if variant == 1:
        z = sig(x @ W["z"].T + b_z)
        r = sig(x @ W["r"].T + h @ cell.W_hr.T + b_r)
        expected = tanh((r * h) @ cell.W_hh.T + tanh(x) + b_h) * z + h * (1 - z)
    else:
        z_rec = h if variant == 2 else tanh(h)
        z = sig(x @ W["z"].T + z_rec @ cell.W_hz.T + b_z)
        r_in = x if variant == 2 else x @ W["r"].T
        r = sig(r_in + h @ cell.W_hr.T + b_r)
        expected = tanh((r * h) @ cell.W_hh.T + x @ W["n"].T + b_h) * z + h * (1 - z)
    h_t, _ = cell(x, (h,))
    assert (h_t - expected).abs().max() < TOL


def test_mut1_and_mut2_need_equal_input_and_hidden_sizes():
    for variant in (1, 2):
        with pytest.raises(ValueError, match="needs D == H"):
            MUTCell(3, 4, variant)
    assert MUTCell(3, 4, 3).hidden_size == 4


@pytest.mark.parametrize("make", [
    lambda: RNNCell(2, 3), lambda: LSTMCell(2, 3), lambda: LSTMCell(2, 3, "V"),
    lambda: LSTMCell(2, 3, "FGR"), lambda: LSTMCell(2, 3, "NOAF"), lambda: GRUCell(2, 3),
    lambda: GRUCell(2, 3, reset_after=False), lambda: MUTCell(3, 3, 2)])
def test_gradients_match_finite_differences(make):
    torch.manual_seed(0)
    cell = make().double()
    xs = _seq(2, 2, cell.input_size).requires_grad_()
    names = [name for name, _ in cell.named_parameters()]
    weights = [p.detach().clone().requires_grad_() for p in cell.parameters()]

    def outputs(xs, *weights):
        state, hs = None, []
        for x_t in xs:
            h_t, state = torch.func.functional_call(cell, dict(zip(names, weights)), (x_t, state))
            hs.append(h_t)
        return torch.stack(hs)

    assert torch.autograd.gradcheck(outputs, (xs, *weights))


def test_forward_rejects_wrong_input_shape():
    with pytest.raises(ValueError, match=r"expected x_t of shape \(N, D\) with D=3"):
        LSTMCell(3, 4)(torch.randn(2, 4))
    with pytest.raises(ValueError, match="unknown variant"):
        odyssey_options("XYZ")
