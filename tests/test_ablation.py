"""rnncourse.ablation: the tasks' targets, the cells by name, short runs, shipped results."""

import json

import pytest
import torch

from rnncourse.ablation import (CELL_KINDS, Regressor, TrainConfig, load_results, make_cell,
                                recall_batch, run, run_ablation, segment_sum_batch, train)
from rnncourse.cells import GRUCell, LSTMCell, MUTCell, RNNCell


def test_segment_sum_targets_are_sums_since_the_last_reset():
    x, y = segment_sum_batch(4, 30, 0.2, torch.Generator().manual_seed(0))
    assert x.shape == (4, 30, 2) and y.shape == (4, 30, 1)
    for n in range(4):
        total = 0.0
        for t in range(30):
            v, r = x[n, t].tolist()
            total = v if r == 1.0 else total + v
            assert abs(y[n, t, 0].item() - total) < 1e-5
    assert (x[:, 0, 1] == 1).all()


def test_recall_target_is_the_marked_value():
    x, y = recall_batch(5, 40, torch.Generator().manual_seed(1))
    assert y.shape == (5, 1, 1)
    assert (x[:, :, 1].sum(1) == 1).all() and (x[:, 4:, 1] == 0).all()
    marked = (x[:, :, 0] * x[:, :, 1]).sum(1)
    assert torch.allclose(marked, y[:, 0, 0])


@pytest.mark.parametrize("kind,cls", [("rnn", RNNCell), ("gru", GRUCell), ("lstm", LSTMCell),
                                      ("MUT3", MUTCell), ("CIFG", LSTMCell)])
def test_make_cell_builds_each_kind(kind, cls):
    assert isinstance(make_cell(kind, 2, 4), cls)
    assert make_cell("lstm", 2, 4).torch_mode == "LSTM"
    assert "f" not in make_cell("lstm0", 2, 4).gate_order


def test_make_cell_adds_forget_bias_and_rejects_unknown_kinds():
    torch.manual_seed(0)
    plain = make_cell("lstm", 2, 4)
    torch.manual_seed(0)
    biased = make_cell("lstm", 2, 4, forget_bias=2.0)
    assert torch.allclose(biased.gate("f")[2] - plain.gate("f")[2], torch.full((4,), 2.0))
    with pytest.raises(ValueError, match="unknown cell kind"):
        make_cell("lstm9", 2, 4)
    with pytest.raises(ValueError, match="unknown cell kind"):
        make_cell("LSTM", 2, 4)  # one spelling: lower case


def test_every_kind_trains_and_runs_are_reproducible():
    config = TrainConfig(steps=2, length=5, hidden_size=4, batch_size=4, val_batch_size=8)
    for kind in CELL_KINDS:
        assert len(train(kind, config)["losses"]) == 2
    for kind in ["V", "gru"]:
        assert train(kind, config)["val_loss"] == train(kind, config)["val_loss"]
    assert Regressor("MUT1", 2, 4)(torch.zeros(1, 5, 2)).shape == (1, 5, 1)


def test_run_ablation_and_cli_write_the_settings(tmp_path):
    config = TrainConfig(steps=2, length=6, hidden_size=4, batch_size=4, val_batch_size=8)
    results = run_ablation(["V", "NFG"], [0, 1], config)
    assert set(results) == {"V", "NFG"} and all(len(v) == 2 for v in results.values())
    args = type("Args", (), {"kinds": ["gru"], "seeds": [3], "steps": 2, "hidden_size": 4,
                             "out": str(tmp_path / "r.json")})
    assert run(args) == 0
    record = json.loads((tmp_path / "r.json").read_text())
    assert record["seeds"] == [3] and record["config"]["steps"] == 2
    assert list(record["results"]) == ["gru"] and "command" in record


def test_shipped_odyssey_results_cover_every_variant_and_seed():
    record = load_results("odyssey_ablation")
    assert {"command", "seeds", "config", "results"} <= set(record)
    for kind in ["V", "NIG", "NFG", "NOG", "NIAF", "NOAF", "NP", "CIFG", "FGR", "gru", "MUT1"]:
        assert len(record["results"][kind]) == len(record["seeds"])
    TrainConfig(**record["config"])  # the settings still name real options
    with pytest.raises(FileNotFoundError, match="rnncourse ablation --out"):
        load_results("no_such_results")
