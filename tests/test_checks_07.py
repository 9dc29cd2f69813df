"""Notebook 07's checks are fair: correct alternative answers pass, plausible slips fail
with a message that names them (issue 23: 7.1's slips each get their own message, 7.3's
swapped return is reported as such). Also the learning-rate sweep behind section 4.

Each test runs a check cell of ``solutions/07_gru_and_variants.ipynb`` (hidden tests
included) with ``run_check`` of ``tests/check_harness.py``: the imports, then the solution
cells and the helper definitions, then the answer under test (no demos, no training).
"""

import json
from dataclasses import replace

import pytest

from check_harness import after_solutions, question_test
from rnncourse.ablation import TrainConfig, load_results, run, run_lr_sweep

STEM = "07_gru_and_variants"
HELPERS = ("class GRUCache",)

base, run_check, fails, check_cells = after_solutions(STEM, HELPERS)


# ---- 7.1 gru_step --------------------------------------------------------------------
GRU = """
def gru_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    x_r, x_z, x_n = {split}
    h_r, h_z, h_n = (h_prev @ W_hh.T + b_hh).chunk(3, dim=1)
    r = torch.sigmoid(x_r + h_r)
    z = {z}
    n = {n}
    return {mix}
"""
GRU_RIGHT = dict(split="(x_t @ W_ih.T + b_ih).chunk(3, dim=1)", z="torch.sigmoid(x_z + h_z)",
                 n="torch.tanh(x_n + r * h_n)", mix="(1 - z) * n + z * h_prev")


def gru(**change):
    return GRU.format(**{**GRU_RIGHT, **change})


GRU_PER_GATE = """
def gru_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    def part(W, b, v, k):
        return torch.addmm(b[k * H:(k + 1) * H], v, W[k * H:(k + 1) * H].T)
    r = torch.sigmoid(part(W_ih, b_ih, x_t, 0) + part(W_hh, b_hh, h_prev, 0))
    z = torch.sigmoid(part(W_ih, b_ih, x_t, 1) + part(W_hh, b_hh, h_prev, 1))
    n = torch.tanh(part(W_ih, b_ih, x_t, 2) + r * part(W_hh, b_hh, h_prev, 2))
    return n + z * (h_prev - n)
"""


@pytest.mark.parametrize("source", [gru(), GRU_PER_GATE], ids=["chunk", "per-gate-addmm"])
def test_gru_step_accepts_correct_alternatives(base, source):
    run_check(base, "07.gru-step", source, "gru_step")


@pytest.mark.parametrize("source,message", [
    (gru(mix="z * n + (1 - z) * h_prev"), "z_t keeps h_prev"),
    (gru(split="(lambda a: (a[1], a[0], a[2]))((x_t @ W_ih.T + b_ih).chunk(3, dim=1))")
     .replace("h_r, h_z, h_n = (h_prev @ W_hh.T + b_hh).chunk(3, dim=1)",
              "h_z, h_r, h_n = (h_prev @ W_hh.T + b_hh).chunk(3, dim=1)"), "stacked r, z, n"),
    (gru(n="torch.tanh(x_n + (r * h_prev) @ W_hh[2 * H:].T + b_hh[2 * H:])"), "r_t acts after the product"),
    (gru(n="torch.tanh(x_n + r * (h_prev @ W_hh[2 * H:].T) + b_hh[2 * H:])"), "b_hn sits inside"),
    (gru(z="torch.tanh(x_z + h_z)"), "all biases zero; sigmoid for r and z"),
    ("def gru_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):\n"
     "    cell = nn.GRUCell(W_ih.shape[1], W_hh.shape[1]).to(x_t.dtype)\n"
     "    for p, v in zip(cell.parameters(), (W_ih, W_hh, b_ih, b_hh)):\n"
     "        p.copy_(v)\n"
     "    return cell(x_t, h_prev)", "write your own"),
], ids=["z-flipped", "order-zrn", "reset-before-product", "b_hn-outside", "tanh-update-gate", "wraps-torch"])
def test_gru_step_names_each_slip(base, source, message):
    fails(base, "07.gru-step", source, "gru_step", message)


# ---- 7.2 gru_step_backward -----------------------------------------------------------
GRU_BACK = """
def gru_step_backward(dh_t, cache):
    x_t, h_prev, W_ih, W_hh, r, z, n, m = cache
    d_an = {d_an}
    d_ar = d_an * m * r * (1 - r)
    d_az = dh_t * (h_prev - n) * z * (1 - z)
    d_in = torch.cat([d_ar, d_az, d_an], dim=1)
    d_rec = torch.cat([d_ar, d_az, {rec_n}], dim=1)
    return GRUGrads(dx_t=d_in @ W_ih, dh_prev={dh_prev}, dW_ih=d_in.T @ x_t,
                    dW_hh=d_rec.T @ h_prev, db_ih=d_in.sum(0), db_hh=d_rec.sum(0))
"""
GRU_BACK_RIGHT = dict(d_an="dh_t * (1 - z) * (1 - n ** 2)", rec_n="d_an * r",
                      dh_prev="dh_t * z + d_rec @ W_hh")


def gru_back(**change):
    return GRU_BACK.format(**{**GRU_BACK_RIGHT, **change})


GRU_BACK_EINSUM = """
def gru_step_backward(dh_t, cache):
    c = cache
    dn = dh_t * (1 - c.z)
    d_an = dn * (1 - c.n * c.n)
    blocks_in = [d_an * c.m * c.r * (1 - c.r), dh_t * (c.h_prev - c.n) * c.z * (1 - c.z), d_an]
    blocks_rec = blocks_in[:2] + [d_an * c.r]
    d_in, d_rec = torch.cat(blocks_in, 1), torch.cat(blocks_rec, 1)
    return GRUGrads(torch.einsum("nk,kd->nd", d_in, c.W_ih),
                    c.z * dh_t + torch.einsum("nk,kh->nh", d_rec, c.W_hh),
                    torch.einsum("nk,nd->kd", d_in, c.x_t), torch.einsum("nk,nh->kh", d_rec, c.h_prev),
                    d_in.sum(dim=0), d_rec.sum(dim=0))
"""


@pytest.mark.parametrize("source", [gru_back(), GRU_BACK_EINSUM], ids=["cat", "einsum"])
def test_gru_step_backward_accepts_correct_alternatives(base, source):
    run_check(base, "07.gru-step-backward", source, "gru_step_backward")


@pytest.mark.parametrize("source,message", [
    (gru_back(dh_prev="d_rec @ W_hh"), "h_prev reaches h_t directly"),
    (gru_back(rec_n="d_an"), "db_hh"),
    (gru_back(d_an="dh_t * z * (1 - n ** 2)"), "db_ih"),
    (gru_back(d_an="dh_t * (1 - z)"), "db_ih"),
    ("def gru_step_backward(dh_t, cache):\n"
     "    leaves = [t.detach().requires_grad_() for t in (cache.x_t, cache.h_prev, cache.W_ih, cache.W_hh)]\n"
     "    H = cache.h_prev.shape[1]\n"
     "    b = [torch.zeros(3 * H, dtype=dh_t.dtype, requires_grad=True) for _ in range(2)]\n"
     "    with torch.enable_grad():\n"
     "        h, _ = gru_step_forward(*leaves, *b)\n"
     "        return GRUGrads(*torch.autograd.grad((dh_t * h).sum(), leaves + b))", "write your own"),
], ids=["no-direct-path", "b_hn-outside-reset", "z-flipped", "no-tanh-derivative", "autograd"])
def test_gru_step_backward_rejects_slips(base, source, message):
    fails(base, "07.gru-step-backward", source, "gru_step_backward", message)


# ---- 7.4 peephole_lstm_step ------------------------------------------------------------
PEEP = """
def peephole_lstm_step(x_t, h_prev, c_prev, W_x, W_h, b, p_i, p_f, p_o):
    a_i, a_f, a_g, a_o = (x_t @ W_x.T + h_prev @ W_h.T + b).chunk(4, dim=1)
    i = torch.sigmoid(a_i + p_i * c_prev)
    f = torch.sigmoid({f})
    c_t = f * c_prev + i * torch.tanh({g})
    o = torch.sigmoid(a_o + p_o * {o_sees})
    return {ret}
"""
PEEP_RIGHT = dict(f="a_f + p_f * c_prev", g="a_g", o_sees="c_t", ret="o * torch.tanh(c_t), c_t")


def peep(**change):
    return PEEP.format(**{**PEEP_RIGHT, **change})


PEEP_PER_GATE = """
def peephole_lstm_step(x_t, h_prev, c_prev, W_x, W_h, b, p_i, p_f, p_o):
    H = h_prev.shape[1]
    pre = lambda k: x_t @ W_x[k * H:(k + 1) * H].T + h_prev @ W_h[k * H:(k + 1) * H].T + b[k * H:(k + 1) * H]
    c_t = torch.sigmoid(pre(1) + c_prev * p_f) * c_prev + torch.sigmoid(pre(0) + c_prev * p_i) * torch.tanh(pre(2))
    h_t = torch.sigmoid(pre(3) + c_t * p_o) * torch.tanh(c_t)
    return (h_t, c_t)
"""


@pytest.mark.parametrize("source", [peep(), PEEP_PER_GATE], ids=["chunk", "per-gate"])
def test_peephole_step_accepts_correct_alternatives(base, source):
    run_check(base, "07.peephole-step", source, "peephole_lstm_step")


@pytest.mark.parametrize("source,message", [
    (peep(ret="c_t, o * torch.tanh(c_t)"), "returned (c_t, h_t)"),
    (peep(o_sees="c_prev"), "o peeps at the new c_t"),
    (peep(f="a_f"), "i and f peep at c_prev"),
    (peep(g="a_o").replace("torch.sigmoid(a_o + p_o", "torch.sigmoid(a_g + p_o"), "with zero peepholes"),
], ids=["swapped-return", "o-peeps-at-c_prev", "f-without-peephole", "order-ifog"])
def test_peephole_step_names_each_slip(base, source, message):
    fails(base, "07.peephole-step", source, "peephole_lstm_step", message)


# ---- questions ---------------------------------------------------------------------------
QUESTIONS = {"07.q-gru-update": ("answer_7_1", "a"), "07.q-learning-rate": ("answer_7_2", "b"),
             "07.q-fair-race": ("answer_7_3", "c")}

test_questions_accept_the_key_in_any_case_and_reject_the_others = question_test(run_check, QUESTIONS)


def test_every_check_of_the_notebook_is_covered():
    assert set(check_cells()) == {"07.gru-step", "07.gru-step-backward", "07.peephole-step", *QUESTIONS}


# ---- the learning-rate sweep ---------------------------------------------------------------
def test_run_lr_sweep_trains_every_kind_rate_and_seed():
    config = TrainConfig(steps=2, length=5, hidden_size=4, batch_size=4, val_batch_size=8)
    results = run_lr_sweep(["NP", "CIFG"], [0.01, 0.1], [0, 1], config)
    assert set(results) == {"NP", "CIFG"}
    assert all(set(r) == {"0.01", "0.1"} and all(len(v) == 2 for v in r.values()) for r in results.values())
    assert results["NP"]["0.01"][0] == run_lr_sweep(["NP"], [0.01], [0], config)["NP"]["0.01"][0]
    assert results["NP"]["0.1"] != results["NP"]["0.01"]


def test_cli_adds_the_sweep_to_an_existing_results_file(tmp_path):
    out = tmp_path / "r.json"
    out.write_text(json.dumps({"command": "earlier", "results": {"V": [1.0]}}))
    args = type("Args", (), {"kinds": ["NP"], "seeds": [0], "steps": 2, "hidden_size": 4,
                             "out": str(out), "lrs": [0.01, 0.1]})
    assert run(args) == 0
    record = json.loads(out.read_text())
    assert record["results"] == {"V": [1.0]} and record["command"] == "earlier"
    sweep = record["lr_sweep"]
    assert sweep["lrs"] == [0.01, 0.1] and sweep["seeds"] == [0] and set(sweep["results"]["NP"]) == {"0.01", "0.1"}


def test_shipped_sweep_covers_its_rates_and_seeds_at_the_ablation_settings():
    record = load_results("odyssey_ablation")
    sweep = record["lr_sweep"]
    assert replace(TrainConfig(**sweep["config"]), lr=0.01) == replace(TrainConfig(**record["config"]), lr=0.01)
    for kind, by_lr in sweep["results"].items():
        assert set(by_lr) == {str(lr) for lr in sweep["lrs"]}
        assert all(len(v) == len(sweep["seeds"]) for v in by_lr.values())
    assert str(record["config"]["lr"]) in sweep["results"]["V"]  # the ablation's own rate is in the sweep
