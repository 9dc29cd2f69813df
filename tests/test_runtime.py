"""Global torch settings are changed only inside blocks that put them back; training and
sampling leave the caller's threads, flags and random generators as they were."""

import random

import numpy as np
import pytest
import torch

from rnncourse.char_model import CharLSTM, sample
from rnncourse.runtime import deterministic, isolated_rng, onednn, threads
from rnncourse.seeding import seed_everything
from rnncourse.train import TrainConfig, train


def global_state():
    return (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(),
            torch.is_deterministic_algorithms_warn_only_enabled(),
            torch.backends.mkldnn.enabled, random.getstate(), np.random.get_state()[1].tolist(),
            torch.get_rng_state().tolist())


def test_threads_restores_the_count_even_after_an_error():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError):
        with threads(before + 1):
            assert torch.get_num_threads() == before + 1
            raise RuntimeError
    assert torch.get_num_threads() == before
    with threads(None):
        assert torch.get_num_threads() == before


def test_deterministic_and_onednn_restore_their_flags():
    flags = (torch.are_deterministic_algorithms_enabled(), torch.backends.mkldnn.enabled)
    with deterministic():
        assert torch.are_deterministic_algorithms_enabled()
    with onednn(not flags[1]):
        assert torch.backends.mkldnn.enabled is (not flags[1])
    assert (torch.are_deterministic_algorithms_enabled(), torch.backends.mkldnn.enabled) == flags


def test_isolated_rng_keeps_every_generator():
    seed_everything(3)
    before = global_state()
    with isolated_rng():
        seed_everything(99)
        random.random(), np.random.rand(), torch.rand(2)
    assert global_state() == before


def test_train_and_sample_leave_no_global_state_changed():
    seed_everything(0)
    model = CharLSTM("abc ", 4, 8, 1)  # initialising draws from the global generator
    before = global_state()
    config = TrainConfig(embed_dim=4, hidden_size=8, num_layers=1, batch_size=2, seq_len=8,
                         steps=3, eval_every=3, eval_chars=0, sample_every=3, sample_chars=5,
                         device="cpu", threads=before[0] + 1, progress=False)
    result = train(config, "the cat sat on the mat. " * 20, "the mat sat on the cat. " * 4)
    assert global_state() == before
    sample(model, "a", 10, generator=torch.Generator().manual_seed(0))
    assert global_state() == before
    assert result.steps == 3
