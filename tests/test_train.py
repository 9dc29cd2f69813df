"""Training loop: learns, is deterministic on CPU, resumes exactly, writes checkpoints."""

import json

import pytest
import torch

from rnncourse.cli import main
from rnncourse.pretrained import Record
from rnncourse.train import TrainConfig, lr_at, train

TEXT = "the cat sat on the mat. " * 60
VAL = "the mat sat on the cat. " * 10


def _config(**kw):
    base = dict(embed_dim=8, hidden_size=24, num_layers=1, batch_size=4, seq_len=16,
                lr=1e-2, warmup=2, steps=8, eval_every=4, eval_chars=0, sample_every=4,
                sample_chars=20, checkpoint_every=100, device="cpu", threads=1, progress=False)
    return TrainConfig(**{**base, **kw})


def _params(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_training_lowers_the_validation_loss():
    result = train(_config(steps=60, eval_every=20), TEXT, VAL)
    losses = result.history["val_loss"]
    assert len(losses) == 3 and losses[-1] < 0.6 * losses[0]
    assert result.steps == 60


def test_same_seed_same_weights_other_seed_differs():
    a = train(_config(), TEXT, VAL).model
    b = train(_config(), TEXT, VAL).model
    c = train(_config(seed=1), TEXT, VAL).model
    assert torch.equal(_params(a), _params(b))
    assert not torch.equal(_params(a), _params(c))


def test_resumed_run_equals_uninterrupted_run(tmp_path):
    config = _config(dropout=0.2, num_layers=2, checkpoint=str(tmp_path / "run.pt"))
    straight = train(_config(dropout=0.2, num_layers=2), TEXT, VAL)
    first = train(config, TEXT, VAL, stop_after=3)
    assert first.steps == 3
    resumed = train(config, TEXT, VAL)
    assert resumed.steps == 8
    assert torch.equal(_params(resumed.model), _params(straight.model))
    assert resumed.history["val_loss"] == straight.history["val_loss"]


def test_checkpoint_is_atomic_and_loads_without_pickled_code(tmp_path):
    path = tmp_path / "ckpt" / "run.pt"
    train(_config(checkpoint=str(path), checkpoint_every=2), TEXT, VAL)
    assert [p.name for p in path.parent.iterdir()] == ["run.pt"]  # no temporary left
    saved = torch.load(path, weights_only=True)
    assert saved["step"] == 8 and "lstm.weight_hh_l0" in saved["model"]


def test_resume_refuses_another_configuration(tmp_path):
    path = str(tmp_path / "run.pt")
    train(_config(checkpoint=path), TEXT, VAL, stop_after=2)
    with pytest.raises(ValueError, match="different configuration"):
        train(_config(checkpoint=path, hidden_size=32), TEXT, VAL)


def test_samples_are_recorded_periodically():
    samples = train(_config(), TEXT, VAL).history["samples"]
    assert [s["step"] for s in samples] == [4, 8]
    assert all(len(s["text"]) == 20 for s in samples)


def test_learning_rate_warms_up_then_decays_by_cosine():
    config = _config(lr=1.0, warmup=10, steps=110, min_lr_ratio=0.1)
    assert lr_at(0, config) == pytest.approx(0.1)
    assert lr_at(9, config) == pytest.approx(1.0)
    assert lr_at(60, config) == pytest.approx(0.55)
    assert lr_at(110, config) == pytest.approx(0.1)


def test_cli_trains_and_ships_a_pretrained_model(tmp_path, capsys):
    code = main(["train", "--corpus", "python", "--hidden-size", "8", "--embed-dim", "4",
                 "--num-layers", "1", "--batch-size", "2", "--seq-len", "8", "--steps", "2",
                 "--eval-chars", "300", "--sample-chars", "5", "--device", "cpu",
                 "--threads", "1", "--no-progress", "--save-pretrained", "tiny",
                 "--pretrained-dir", str(tmp_path)])
    assert code == 0
    meta = json.loads((tmp_path / "tiny.json").read_text())
    assert meta["training"]["steps"] == 2
    assert meta["training"]["command"].startswith("rnncourse train --corpus python")
    assert meta["metrics"]["val_loss_nats_per_char"] > 0
    Record.from_dict(meta)  # the schema every shipped model follows
    assert (tmp_path / "tiny.safetensors").stat().st_size < 50_000
    assert "val loss" in capsys.readouterr().out


def test_cli_records_how_to_reproduce_a_run_cut_short(tmp_path):
    main(["train", "--corpus", "python", "--hidden-size", "8", "--embed-dim", "4",
          "--num-layers", "1", "--batch-size", "2", "--seq-len", "8", "--steps", "5",
          "--stop-after", "2", "--eval-chars", "300", "--sample-chars", "5",
          "--device", "cpu", "--threads", "1", "--no-progress", "--save-pretrained", "cut",
          "--pretrained-dir", str(tmp_path)])
    training = json.loads((tmp_path / "cut.json").read_text())["training"]
    assert training["steps"] == 2 and training["hyperparameters"]["steps"] == 5
    assert "--steps 5 " in training["command"]
    assert training["command"].endswith("--stop-after 2 --save-pretrained cut")
