"""CTC by hand (rnncourse.ctc) against torch's ctc_loss and against brute force."""

import itertools
import math

import pytest
import torch
from torch.nn import functional as F

from rnncourse.ctc import (BLANK, best_alignment, collapse, ctc_alpha, ctc_log_likelihood,
                           edit_counts, edit_distance, error_rate, greedy_decode,
                           prefix_beam_search)


def _random_log_probs(T, V, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(T, V, generator=g, dtype=torch.float64).mul(2).log_softmax(-1)


def _brute_force(log_probs):
    """p(y | x) for every transcript y, by summing over all V^T alignments."""
    T, V = log_probs.shape
    probs = {}
    for path in itertools.product(range(V), repeat=T):
        p = math.exp(sum(float(log_probs[t, k]) for t, k in enumerate(path)))
        key = tuple(collapse(path))
        probs[key] = probs.get(key, 0.0) + p
    return probs


def test_collapse_merges_repeats_then_drops_blanks():
    assert collapse([0, 1, 1, 0, 1, 2, 2, 0]) == [1, 1, 2]
    assert collapse([3, 3, 3]) == [3]
    assert collapse([0, 0]) == []
    assert collapse([]) == []


@pytest.mark.parametrize("target", [[1, 2, 3], [2, 2], [1, 1, 1], [3], [1, 2, 1, 2], [4, 4, 2, 2]])
def test_log_likelihood_matches_torch_ctc_loss_value_and_gradient(target):
    T, V = 9, 5
    logits = torch.randn(T, V, dtype=torch.float64, generator=torch.Generator().manual_seed(len(target)),
                         requires_grad=True)
    ours = -ctc_log_likelihood(logits.log_softmax(-1), target)
    (g_ours,) = torch.autograd.grad(ours, logits)
    ref = F.ctc_loss(logits.log_softmax(-1)[:, None], torch.tensor([target]), torch.tensor([T]),
                     torch.tensor([len(target)]), blank=BLANK, reduction="sum")
    (g_ref,) = torch.autograd.grad(ref, logits)
    torch.testing.assert_close(ours, ref, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(g_ours, g_ref, rtol=1e-7, atol=1e-9)


def test_log_likelihood_matches_brute_force_sum_over_alignments():
    log_probs = _random_log_probs(5, 3, seed=1)
    probs = _brute_force(log_probs)
    for target in [(1,), (1, 2), (2, 2), (1, 1, 2), (2, 1, 2)]:
        assert math.isclose(float(ctc_log_likelihood(log_probs, list(target)).exp()),
                            probs[target], rel_tol=1e-9)


def test_repeated_label_needs_a_blank_so_short_inputs_are_impossible():
    # "1 1" needs at least 3 frames (1, blank, 1): with 2 frames its probability is zero
    log_probs = _random_log_probs(2, 3, seed=2)
    assert ctc_log_likelihood(log_probs, [1, 1]) == -math.inf
    assert ctc_log_likelihood(log_probs, [1, 2]) > -math.inf


def test_alpha_has_shape_T_by_2U_plus_1_and_starts_in_the_first_two_states():
    alpha = ctc_alpha(_random_log_probs(6, 4, seed=3), [1, 2, 3])
    assert alpha.shape == (6, 7)
    assert torch.all(torch.isinf(alpha[0, 2:]))


def test_greedy_decode_takes_the_best_frame_labels_and_collapses():
    log_probs = torch.log(torch.tensor([[.1, .8, .1], [.1, .8, .1], [.9, .05, .05],
                                        [.2, .7, .1], [.1, .1, .8]]))
    assert greedy_decode(log_probs) == [1, 1, 2]
    assert greedy_decode(log_probs, length=2) == [1]


def test_prefix_beam_search_finds_the_most_probable_transcript():
    for seed in range(4):
        log_probs = _random_log_probs(6, 3, seed=10 + seed)
        probs = _brute_force(log_probs)
        best = max(probs, key=probs.get)
        found, log_p = prefix_beam_search(log_probs, beam_size=64)
        assert tuple(found) == best
        assert math.isclose(log_p, math.log(probs[best]), rel_tol=1e-9)


def test_prefix_beam_search_score_is_the_full_ctc_probability():
    log_probs = _random_log_probs(6, 4, seed=5)
    found, log_p = prefix_beam_search(log_probs, beam_size=10_000)  # no pruning: exact
    assert math.isclose(log_p, float(ctc_log_likelihood(log_probs, found)), rel_tol=1e-9)


def test_prefix_beam_search_can_beat_greedy():
    # blank has p = 0.6 at both frames: the best path is "blank blank" (0.36), but the
    # transcript "1" collects the other three alignments, 1 - 0.6^2 = 0.64
    log_probs = torch.log(torch.tensor([[0.6, 0.4], [0.6, 0.4]]))
    assert greedy_decode(log_probs) == []
    assert prefix_beam_search(log_probs, beam_size=4)[0] == [1]


def test_best_alignment_is_the_viterbi_path_of_the_target():
    log_probs = _random_log_probs(6, 3, seed=7)
    target = [1, 1]
    ext = [0, 1, 0, 1, 0]
    best = max((p for p in itertools.product(range(3), repeat=6) if collapse(p) == target),
               key=lambda p: sum(float(log_probs[t, k]) for t, k in enumerate(p)))
    path, score = best_alignment(log_probs, target)
    assert [ext[s] for s in path] == list(best)
    assert math.isclose(score, sum(float(log_probs[t, k]) for t, k in enumerate(best)), rel_tol=1e-9)
    assert all(b - a in (0, 1, 2) for a, b in zip(path, path[1:]))


def test_edit_distance_counts_substitutions_insertions_deletions():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance([1, 2, 3], [1, 2, 3]) == 0
    assert edit_distance([], [4, 5]) == 2
    assert edit_distance([4, 5], []) == 2
    assert edit_distance([1, 2, 3, 4], [2, 3, 4, 1]) == 2


def test_error_rate_divides_by_the_reference_length():
    assert error_rate([[1, 2, 3, 4], [5]], [[1, 2, 4], [5, 5]]) == pytest.approx(2 / 5)
    with pytest.raises(ValueError, match="as many hypotheses"):
        error_rate([[1]], [])


def test_edit_counts_split_the_distance_into_substitutions_deletions_insertions():
    assert edit_counts([1, 2, 3], [1, 4, 3]) == (1, 0, 0)
    assert edit_counts([1, 2, 3], [1, 3]) == (0, 1, 0)
    assert edit_counts([1, 3], [1, 2, 3]) == (0, 0, 1)
    g = torch.Generator().manual_seed(0)
    for _ in range(30):
        ref = torch.randint(0, 4, (int(torch.randint(0, 7, (1,), generator=g)),), generator=g).tolist()
        hyp = torch.randint(0, 4, (int(torch.randint(0, 7, (1,), generator=g)),), generator=g).tolist()
        s, d, i = edit_counts(ref, hyp)
        assert s + d + i == edit_distance(ref, hyp)
        assert len(ref) - d + i == len(hyp)


def test_lattice_diagram_draws_the_best_path_and_refuses_unreadable_sizes():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from rnncourse.viz.diagrams._base import is_diagram
    from rnncourse.viz.diagrams.ctc import ctc_lattice

    log_probs = _random_log_probs(12, 4, seed=8)
    fig = ctc_lattice(log_probs, [1, 1, 3], labels="_abc")
    assert is_diagram(fig)
    row_names = {t.get_text() for t in fig.axes[0].texts}
    assert {"∅", "a", "c"} <= row_names
    plt.close(fig)
    with pytest.raises(ValueError, match="at most max_frames=60 frames, got 61"):
        ctc_lattice(_random_log_probs(61, 4, seed=9), [1])
