"""Toy task generators: shapes, targets against brute force, determinism, bad input."""

import numpy as np
import pytest

from rnncourse.data.toy import (all_bit_strings, all_parity_strings, comparator_sequences,
                                parity_sequences, random_bit_strings, running_parity,
                                summing_sequences)


@pytest.mark.parametrize("n, length", [(1, 1), (7, 3), (50, 20)])
def test_summing_targets_are_running_totals(n, length):
    x, y = summing_sequences(n, length, seed=3)
    assert x.shape == y.shape == (n, length)
    for i in range(n):
        total = 0.0
        for t in range(length):
            total += x[i, t]
            assert y[i, t] == total


def test_summing_values_lie_in_range_and_are_integers():
    x, _ = summing_sequences(200, 10, seed=0, low=-2, high=3)
    assert x.min() >= -2 and x.max() <= 3
    assert np.all(x == np.round(x))
    assert set(np.unique(x)) == {-2, -1, 0, 1, 2, 3}


def test_summing_float_inputs():
    x, y = summing_sequences(5, 4, seed=0, low=0, high=1, integer=False)
    assert np.any(x != np.round(x))
    np.testing.assert_allclose(y[:, -1], x.sum(axis=1))


@pytest.mark.parametrize("n, length", [(1, 1), (9, 4), (40, 15)])
def test_comparator_targets_match_brute_force(n, length):
    x, y = comparator_sequences(n, length, seed=1)
    assert x.shape == (n, length, 2) and y.shape == (n, length)
    for i in range(n):
        for t in range(length):
            first, second = sum(x[i, : t + 1, 0]), sum(x[i, : t + 1, 1])
            assert y[i, t] == int(first > second)


def test_comparator_has_both_answers():
    _, y = comparator_sequences(500, 6, seed=2)
    assert 0.3 < y.mean() < 0.7


def test_running_parity_matches_brute_force():
    bits = random_bit_strings(30, 12, seed=4)
    p = running_parity(bits)
    for i in range(30):
        parity = 0
        for t in range(12):
            parity ^= int(bits[i, t])
            assert p[i, t] == parity


def test_running_parity_of_the_slide_example():
    bits = np.array([0, 1, 0, 1, 1, 0, 1, 0, 1, 1])
    np.testing.assert_array_equal(running_parity(bits), [0, 1, 1, 0, 1, 1, 0, 0, 1, 0])


@pytest.mark.parametrize("length", [1, 2, 5, 10])
def test_all_bit_strings_are_every_string_once_in_counting_order(length):
    bits = all_bit_strings(length)
    assert bits.shape == (2**length, length)
    assert len({tuple(row) for row in bits}) == 2**length
    values = bits @ (2 ** np.arange(length - 1, -1, -1))
    np.testing.assert_array_equal(values, np.arange(2**length))


def test_all_parity_strings_up_to_ten_cover_2046_strings():
    pairs = all_parity_strings(10)
    assert [b.shape[1] for b, _ in pairs] == list(range(1, 11))
    assert sum(len(b) for b, _ in pairs) == 2046
    for bits, parity in pairs:
        np.testing.assert_array_equal(parity[:, -1], bits.sum(axis=1) % 2)


@pytest.mark.parametrize("make", [
    lambda seed: summing_sequences(4, 5, seed),
    lambda seed: comparator_sequences(4, 5, seed),
    lambda seed: parity_sequences(4, 5, seed),
])
def test_same_seed_same_data_other_seed_other_data(make):
    a, b, c = make(11), make(11), make(12)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


def test_generator_argument_is_used_as_is():
    rng = np.random.default_rng(5)
    first = random_bit_strings(3, 8, rng)
    second = random_bit_strings(3, 8, rng)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, random_bit_strings(3, 8, 5))


@pytest.mark.parametrize("call, message", [
    (lambda: summing_sequences(0, 5), "n must be a positive int"),
    (lambda: comparator_sequences(3, 0), "length must be a positive int"),
    (lambda: parity_sequences(3, 4, seed=-1), "seed must be"),
    (lambda: running_parity(np.array([0, 2, 1])), "only 0 and 1"),
    (lambda: running_parity(np.zeros((3, 0))), "T >= 1"),
    (lambda: summing_sequences(2, 2, low=3, high=1), "low <= high"),
    (lambda: all_bit_strings(30), "length <= 24"),
])
def test_bad_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
