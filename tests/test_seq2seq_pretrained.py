"""The six shipped seq2seq models of notebook 10: small, documented, and accurate as recorded."""
import pytest
import torch
from safetensors.torch import load_file

from rnncourse import pretrained
from rnncourse.seq2seq_train import VARIANTS, accuracy, heldout_pairs

NAMES = [f"seq2seq_{task}_{variant}" for task in ("dates", "numbers") for variant in VARIANTS]
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
