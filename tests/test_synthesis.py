"""The handwriting synthesis model: the soft window, shapes, learning, writing, DTW."""

import math

import numpy as np
import pytest
import torch

from rnncourse.data.strokes import word_strokes
from rnncourse.mdn import mdn_nll, split_outputs
from rnncourse.synthesis import (ALPHABET, TEST_WORDS, SynthesisModel, dtw, encode_text,
                                 resample_path, synthesis_batch, thin_strokes, training_words,
                                 window_step)
from rnncourse.training import LoopConfig, fit


def test_encode_text_one_hot_and_mask():
    c, mask = encode_text(["ab", "c a"])
    assert c.shape == (2, 3, len(ALPHABET)) and mask.tolist() == [[1, 1, 0], [1, 1, 1]]
    assert c[1, 1, ALPHABET.index(" ")] == 1 and c.sum().item() == 5
    with pytest.raises(ValueError, match="characters"):
        encode_text("Hello")


def test_window_step_matches_the_equations_written_out():
    g = torch.Generator().manual_seed(0)
    N, K, U = 3, 4, 7
    window_hat = torch.randn(N, 3 * K, generator=g, dtype=torch.float64)
    kappa_prev = torch.rand(N, K, generator=g, dtype=torch.float64) * 3
    c, mask = encode_text(["hello", "a b c d", "zz"])
    c, mask = c.double(), mask.double()
    w, kappa, phi = window_step(window_hat, kappa_prev, c, mask)
    assert w.shape == (N, len(ALPHABET)) and kappa.shape == (N, K) and phi.shape == (N, U)
    for n in range(N):
        a, b, k = (window_hat[n, i * K:(i + 1) * K] for i in range(3))
        kap = kappa_prev[n] + torch.exp(k)
        assert torch.allclose(kappa[n], kap)
        for u in range(1, U + 1):
            want = sum(math.exp(a[j]) * math.exp(-math.exp(b[j]) * (kap[j] - u) ** 2)
                       for j in range(K)) * mask[n, u - 1].item()
            assert phi[n, u - 1].item() == pytest.approx(float(want), rel=1e-10, abs=1e-300)
        assert torch.allclose(w[n], (phi[n, :, None] * c[n]).sum(0))
    assert bool((kappa > kappa_prev).all())  # exp(.) > 0: the window only moves forward
    assert bool((phi[2, 2:] == 0).all())      # padding gets no weight


def test_one_wide_gaussian_spreads_a_total_weight_of_sqrt_pi_over_beta():
    # alpha = 1, beta = 0.5, kappa = 10 in a text of 20 characters: sum_u phi = sqrt(pi / beta)
    window_hat = torch.tensor([[0.0, math.log(0.5), math.log(10.0)]], dtype=torch.float64)
    c, mask = encode_text("a" * 20)
    _, kappa, phi = window_step(window_hat, torch.zeros(1, 1, dtype=torch.float64), c.double(), mask.double())
    assert kappa.item() == pytest.approx(10.0)
    assert phi.sum().item() == pytest.approx(math.sqrt(math.pi / 0.5), rel=1e-6)
    assert phi.argmax().item() == 9  # position u = 10


def test_forward_shapes_and_kappa_never_decreases():
    torch.manual_seed(0)
    model = SynthesisModel(hidden_size=16, n_window=3, n_components=4)
    x, y, mask, c, c_mask = synthesis_batch(["go", "pen ink"], seed=1)
    y_hat, state, phi = model(x, c, c_mask)
    N, T = x.shape[:2]
    assert y_hat.shape == (N, T, 1 + 6 * 4) and phi.shape == (N, T, 7)
    assert state["kappa"].shape == (N, 3) and state["w"].shape == (N, len(ALPHABET))
    kappas, state = [], None
    for t in range(T):
        _, state, _ = model(x[:, t:t + 1], c, c_mask, state)
        kappas.append(state["kappa"])
    assert bool((torch.diff(torch.stack(kappas), dim=0) > 0).all())
    # running step by step gives the same outputs as one call over the sequence
    y_step, state = [], None
    for t in range(T):
        out, state, _ = model(x[:, t:t + 1], c, c_mask, state)
        y_step.append(out)
    assert torch.allclose(torch.cat(y_step, 1), y_hat, atol=1e-5)


def test_batch_masks_and_thinning():
    x, y, mask, c, c_mask = synthesis_batch(["we", "minimum"], seed=0)
    assert x.shape == y.shape and x.shape[:2] == mask.shape
    assert torch.equal(x[:, 0], torch.tensor([[0.0, 0.0, 1.0]] * 2))
    assert torch.equal(x[:, 1:][mask[:, :-1] > 0], y[:, :-1][mask[:, :-1] > 0])
    full = word_strokes(["minimum"], jitter=0.0)[0]
    thin = thin_strokes(full)
    assert len(thin) < 0.6 * len(full)
    assert thin[:, 2].sum() == full[:, 2].sum()  # the same strokes
    assert np.allclose(thin[:, :2].sum(0), full[:, :2].sum(0), atol=1e-5)  # ends in the same place


def test_training_words_leave_out_the_test_words():
    words = training_words("The house, the WATER and a quick zebra; to be or not")
    assert words == ["and", "be", "not", "or", "the", "to"]
    assert not set(words) & set(TEST_WORDS)


def test_loss_falls_on_four_words():
    torch.manual_seed(0)
    model = SynthesisModel(hidden_size=32, n_window=3, n_components=4)
    x, y, mask, c, c_mask = synthesis_batch(["go", "ink", "pen", "we"], seed=0, jitter=0.0)

    def next_loss(step):
        return mdn_nll(split_outputs(model(x, c, c_mask)[0]), y, mask)

    losses = fit(model, next_loss, LoopConfig(steps=40, lr=1e-2, clip=5.0))
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 1.5


def test_write_stops_and_primes():
    torch.manual_seed(0)
    model = SynthesisModel(hidden_size=16, n_window=2, n_components=3)
    strokes, phi = model.write("ab", bias=1.0, seed=3, max_steps=15)
    assert strokes.shape[1] == 3 and phi.shape == (len(strokes), 2) and len(strokes) <= 15
    again, _ = model.write("ab", bias=1.0, seed=3, max_steps=15)
    assert torch.equal(strokes, again)
    prime = thin_strokes(word_strokes(["pen"])[0])
    primed, phi = model.write("ab", seed=3, max_steps=10, prime=(prime, "pen"))
    assert phi.shape == (len(primed), len("pen ab"))
    with pytest.raises(ValueError, match="bias"):
        model.write("ab", bias=-1.0)
    many, phis = model.write_many(["a", "abc d"], seed=1, max_steps=12)
    assert [p.shape[1] for p in phis] == [1, 5] and all(len(s) == len(p) <= 12 for s, p in zip(many, phis))


def _dtw_by_recursion(a, b):
    from functools import lru_cache

    @lru_cache(maxsize=None)
    def D(i, j):
        if i == 0 and j == 0:
            return 0.0
        if i == 0 or j == 0:
            return math.inf
        return float(np.linalg.norm(a[i - 1] - b[j - 1])) + min(D(i - 1, j - 1), D(i - 1, j), D(i, j - 1))
    return D(len(a), len(b)) / (len(a) + len(b))


def test_dtw_against_the_recursion():
    rng = np.random.default_rng(0)
    for n, m in [(1, 1), (3, 5), (6, 4), (8, 8)]:
        a, b = rng.normal(size=(n, 2)), rng.normal(size=(m, 2))
        assert dtw(a, b) == pytest.approx(_dtw_by_recursion(a, b), rel=1e-12)
        assert dtw(a, b) == pytest.approx(dtw(b, a), rel=1e-12)
    a = rng.normal(size=(5, 2))
    assert dtw(a, a) == 0.0 and dtw(a, np.repeat(a, 2, axis=0)) == 0.0  # slower, same path


def test_resample_path_and_the_font_recognises_itself():
    path = resample_path(word_strokes(["house"], jitter=0.0)[0], n=32)
    assert path.shape == (32, 2) and np.ptp(path[:, 1]) == pytest.approx(1.0)
    assert np.allclose(path.mean(0), 0.0)
    renders = [resample_path(word_strokes([w], jitter=0.0)[0]) for w in TEST_WORDS[:6]]
    copies = [resample_path(thin_strokes(s)) for s in word_strokes(TEST_WORDS[:6], seed=5)]
    D = np.array([[dtw(s, r) for r in renders] for s in copies])
    assert (D.argmin(1) == np.arange(6)).all()  # jittered, thinned copies: nearest their own word


def test_shipped_model_record_and_legibility_result():
    from rnncourse.cli import verb_parser
    from rnncourse.pretrained import load, record
    from rnncourse.results import load as load_result
    from rnncourse.synthesis import legibility

    meta = record("handwriting_synthesis")
    words = meta["training"]["command"].split()
    assert words[:2] == ["rnncourse", "synthesis"]
    verb_parser("synthesis").parse_args(words[2:])
    result = load_result("synthesis_legibility")
    model = load("handwriting_synthesis", device="cpu")
    score, D, samples = legibility(model, bias=result["bias"], seed=result["seeds"][0])
    assert score == pytest.approx(result["fraction_recognised"][0])
    assert D.shape == (len(TEST_WORDS), len(TEST_WORDS)) and len(samples) == len(TEST_WORDS)
    assert score >= 0.5  # the notebook's claim: most held-out words are recognised


def test_dtw_against_a_stack_of_sequences():
    rng = np.random.default_rng(1)
    a, bs = rng.normal(size=(7, 2)), rng.normal(size=(4, 5, 2))
    assert np.allclose(dtw(a, bs), [dtw(a, b) for b in bs], rtol=1e-12)
