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
    meta = pretrained.record(name)
    for key in ("command", "seed", "data_sha256", "hyperparameters", "steps", "test_exact_match"):
        assert key in meta, key
    assert meta["command"].startswith(f"python -m rnncourse.seq2seq_train {meta['task']} "
                                      f"{meta['variant']} --steps {meta['steps']}")


@pytest.mark.parametrize("name", NAMES)
def test_shipped_model_reproduces_its_recorded_accuracy(name):
    meta = pretrained.record(name)
    pairs = _HELDOUT.setdefault(meta["task"], heldout_pairs(meta["task"]))
    model = pretrained.load(name, device="cpu")
    assert accuracy(model, pairs) == pytest.approx(meta["test_exact_match"], abs=0.02)
