"""seed_everything makes python, numpy and torch repeat themselves."""

import random

import numpy as np
import pytest
import torch

from rnncourse.seeding import seed_everything


def draw():
    return random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist()


@pytest.mark.parametrize("seed", [0, 1, 2**40])
def test_same_seed_same_numbers(seed):
    seed_everything(seed)
    first = draw()
    seed_everything(seed)
    assert draw() == first


def test_different_seeds_differ():
    seed_everything(0)
    first = draw()
    seed_everything(1)
    second = draw()
    assert all(a != b for a, b in zip(first, second))


def test_returns_a_seeded_generator():
    assert seed_everything(5).random() == seed_everything(5).random()


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_bad_seed_is_rejected(seed):
    with pytest.raises(ValueError, match="non-negative int"):
        seed_everything(seed)
