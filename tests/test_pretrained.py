"""Shipped character models: small, documented, and their recorded losses reproduce."""

import pytest
import torch

from rnncourse import pretrained
from rnncourse.char_model import CharLSTM, evaluate_loss
from rnncourse.data import corpora
from rnncourse.data.corpora import load_corpus, sha256_text

SHIPPED = {"char_lstm_python": "python", "char_lstm_shakespeare": "shakespeare"}


def _val_text(corpus):
    if corpus == "shakespeare" and not (corpora.data_dir() / "tinyshakespeare.txt").is_file():
        pytest.skip(f"Tiny Shakespeare not in {corpora.data_dir()}: set $RNNCOURSE_DATA_DIR "
                    "to the folder holding tinyshakespeare.txt")
    return load_corpus(corpus, "val")


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_model_is_small_half_precision(name):
    size = (pretrained.MODEL_DIR / f"{name}.safetensors").stat().st_size
    assert size < 10_000_000, f"{name} is {size / 1e6:.1f} MB"
    from safetensors.torch import load_file
    tensors = load_file(str(pretrained.MODEL_DIR / f"{name}.safetensors"))
    assert {t.dtype for t in tensors.values()} == {torch.float16}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_record_documents_how_it_was_made(name):
    meta = pretrained.record(name)
    training = meta["training"]
    assert training["corpus"] == SHIPPED[name]
    assert training["command"].startswith(f"rnncourse train --corpus {SHIPPED[name]} ")
    assert 0.5 < meta["metrics"]["val_loss_nats_per_char"] < 2.5
    assert [s["step"] for s in meta["samples"]] == sorted(s["step"] for s in meta["samples"])


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_recorded_validation_loss_reproduces(name):
    meta = pretrained.record(name)
    val = _val_text(SHIPPED[name])
    assert sha256_text(val) == meta["training"]["data"]["sha256"]["val"]
    model = pretrained.load(name, device="cpu")
    assert isinstance(model, CharLSTM)
    loss = evaluate_loss(model, val[:20000])
    assert loss == pytest.approx(meta["metrics"]["val_first_20000_chars_loss_nats_per_char"],
                                 abs=2e-3)
