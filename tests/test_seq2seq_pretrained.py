"""The eight shipped seq2seq models of notebook 10: small, documented, and accurate as recorded."""
import pytest
import torch
from safetensors.torch import load_file

from rnncourse import pretrained
from rnncourse.seq2seq_train import accuracy, heldout_pairs

NAMES = ([f"seq2seq_{task}_{variant}" for task in ("dates", "numbers")
          for variant in ("plain", "reversed", "attention")]
         + [f"seq2seq_digits_{variant}" for variant in ("bidirectional", "attention")])
_HELDOUT = {}


@pytest.mark.parametrize("name", NAMES)
def test_shipped_model_is_small_half_precision_and_documented(name):
    path = pretrained.MODEL_DIR / f"{name}.safetensors"
    assert path.stat().st_size < 1_000_000
    assert {t.dtype for t in load_file(str(path)).values()} == {torch.float16}
    training = pretrained.record(name)["training"]
    task, variant = training["hyperparameters"]["task"], training["hyperparameters"]["variant"]
    assert name == f"seq2seq_{task}_{variant}"
    assert training["command"].startswith(f"rnncourse seq2seq {task} {variant} "
                                          f"--steps {training['steps']} ")


@pytest.mark.parametrize("name", NAMES)
def test_shipped_model_reproduces_its_recorded_accuracy(name):
    meta = pretrained.record(name)
    task = meta["training"]["hyperparameters"]["task"]
    pairs = _HELDOUT.setdefault(task, heldout_pairs(task))
    model = pretrained.load(name, device="cpu")
    assert accuracy(model, pairs) == pytest.approx(meta["metrics"]["test_exact_match_fraction"],
                                                   abs=0.02)


@pytest.mark.parametrize("variant", ["bidirectional", "attention"])
def test_digits_results_come_from_equal_budget_runs_of_three_seeds(variant):
    from rnncourse import results
    steps = pretrained.record("seq2seq_digits_attention")["training"]["steps"]
    for seed in (0, 1, 2):
        run = results.load(f"seq2seq_digits_{variant}_seed{seed}")
        assert run["command"].startswith(f"rnncourse seq2seq digits {variant} --steps {steps} ")
        assert f"--seed {seed} " in run["command"] and "--results" in run["command"]
        assert run["seed"] == seed and run["steps"] == steps
        assert len(run["test_hits"]) == len(heldout_pairs("digits", seed))
        assert sum(run["test_hits"]) / len(run["test_hits"]) == pytest.approx(
            run["metrics"]["test_exact_match_fraction"])
