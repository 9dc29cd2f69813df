import itertools
import math

import pytest
import torch

from rnncourse.decoding import beam_search, greedy_search, select

BOS, EOS = 0, 1


def table_model(table):
    """A model whose next-symbol log-probabilities depend only on the previous symbol.

    ``table[prev]`` holds p(next | prev); the state is the step count (unused).
    """
    log_table = torch.log(torch.as_tensor(table, dtype=torch.float64))

    def step(tokens, state):
        return log_table[tokens], state + 1, None
    return step


def brute_force_best(table, max_len):
    """The most likely sequence ending in EOS (or of length max_len), by enumeration."""
    V = len(table)
    best, best_lp = None, -math.inf
    for T in range(1, max_len + 1):
        for seq in itertools.product(range(V), repeat=T):
            if EOS in seq[:-1] or (seq[-1] != EOS and T < max_len):
                continue
            prev, lp = BOS, 0.0
            for y in seq:
                lp += math.log(table[prev][y])
                prev = y
            if lp > best_lp:
                best, best_lp = list(seq), lp
    return best, best_lp


# greedy takes "a" (0.6) but everything after "a" is unlikely; "b" then </s> has 0.4
TRAP = [
    [0.0, 0.0, 0.6, 0.4],   # after <s>: a=2 (0.6), b=3 (0.4)
    [0.25, 0.25, 0.25, 0.25],
    [0.0, 0.35, 0.35, 0.3],  # after a: </s> only 0.35
    [0.0, 1.0, 0.0, 0.0],   # after b: </s> surely
]


def test_greedy_falls_into_the_trap_and_beam_two_escapes():
    greedy, = greedy_search(table_model(TRAP), torch.zeros(1), BOS, EOS, max_len=5)
    beam = beam_search(table_model(TRAP), torch.zeros(1), BOS, EOS, beam_size=2, max_len=5)
    assert greedy.tokens == [2, 1] and greedy.log_prob == pytest.approx(math.log(0.6 * 0.35))
    assert beam.tokens == [3, 1] and beam.log_prob == pytest.approx(math.log(0.4))


@pytest.mark.parametrize("seed", range(6))
def test_wide_beam_finds_the_most_likely_sequence(seed):
    g = torch.Generator().manual_seed(seed)
    table = torch.softmax(3 * torch.randn(4, 4, generator=g, dtype=torch.float64), -1).tolist()
    best, best_lp = brute_force_best(table, max_len=4)
    hyp = beam_search(table_model(table), torch.zeros(1), BOS, EOS, beam_size=64, max_len=4)
    assert hyp.tokens == best
    assert hyp.log_prob == pytest.approx(best_lp)


@pytest.mark.parametrize("seed", range(6))
def test_beam_one_equals_greedy(seed):
    g = torch.Generator().manual_seed(seed)
    table = torch.softmax(2 * torch.randn(5, 5, generator=g, dtype=torch.float64), -1).tolist()
    greedy, = greedy_search(table_model(table), torch.zeros(1), BOS, EOS, max_len=6)
    beam = beam_search(table_model(table), torch.zeros(1), BOS, EOS, beam_size=1, max_len=6)
    assert beam.tokens == greedy.tokens
    assert beam.log_prob == pytest.approx(greedy.log_prob)


def test_length_penalty_prefers_longer_hypotheses():
    # </s> at once: 0.4; "a </s>": 0.36, better per symbol
    table = [[0, 0.4, 0.6, 0], [0.25] * 4, [0, 0.6, 0.4, 0], [0.25] * 4]
    short = beam_search(table_model(table), torch.zeros(1), BOS, EOS, 4, 6, length_penalty=0)
    long = beam_search(table_model(table), torch.zeros(1), BOS, EOS, 4, 6, length_penalty=1)
    assert short.tokens == [1]
    assert long.tokens == [2, 1]


def test_beam_size_must_be_positive():
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(table_model(TRAP), torch.zeros(1), BOS, EOS, beam_size=0, max_len=3)


def test_greedy_decodes_a_batch_row_by_row_and_stops_each_at_eos():
    # row 0 starts from <s> (falls into the trap), row 1 from "b" (ends at once)
    log_table = torch.log(torch.tensor(TRAP, dtype=torch.float64))

    def step(tokens, state):
        tokens = torch.where(state == 0, tokens, torch.full_like(tokens, 3))
        return log_table[tokens], state * 0, None

    trap, short = greedy_search(step, torch.tensor([0, 1]), BOS, EOS, max_len=5)
    assert trap.tokens == [2, 1] and short.tokens == [1]
    assert short.log_prob == pytest.approx(0.0)


def test_select_reorders_tensors_and_tuples_of_tensors():
    state = (torch.arange(3), (torch.arange(3) * 10,))
    picked = select(state, torch.tensor([2, 0]))
    assert picked[0].tolist() == [2, 0] and picked[1][0].tolist() == [20, 0]
