"""Character n-gram baseline: proper distributions, Witten-Bell by hand, samples."""

import math

import numpy as np
import pytest

from rnncourse.ngram import CharNGram

TEXT = "abracadabra " * 20


def test_every_distribution_sums_to_one_and_is_positive():
    model = CharNGram("abcdr xyz", order=4).fit(TEXT)
    for history in ["", "a", "abr", "zzz", "cad", "q"]:
        p = model.distribution(history)
        assert p.shape == (9,) and p.min() > 0 and p.sum() == pytest.approx(1.0)
        assert [model.prob(history, ch) for ch in model.vocab] == pytest.approx(p.tolist())


def test_witten_bell_interpolation_by_hand():
    model = CharNGram("ab", order=2).fit("aab")
    # unigram counts: a 2, b 1 (3 tokens, 2 distinct); bigram after "a": a 1, b 1
    p_uni_b = (3 / 5) * (1 / 3) + (2 / 5) * 0.5
    p_bi_b = (2 / 4) * (1 / 2) + (2 / 4) * p_uni_b
    assert model.prob("a", "b") == pytest.approx(p_bi_b)
    # after "b" nothing was ever seen: back off to the unigram
    assert model.prob("b", "b") == pytest.approx(p_uni_b)


def test_a_longer_order_fits_its_training_text_better():
    scores = [-np.nanmean(CharNGram("abcdr ", order=n).fit(TEXT).log_probs(TEXT)) for n in (1, 2, 4)]
    assert scores[0] > scores[1] > scores[2]
    assert scores[0] == pytest.approx(-sum(TEXT[1:].count(c) / len(TEXT[1:]) *
                                           math.log(CharNGram("abcdr ", 1).fit(TEXT).prob("", c))
                                           for c in "abcdr "))


def test_log_probs_align_with_the_next_character_and_skip_unknown_ones():
    model = CharNGram("ab", order=2).fit("abab")
    lp = model.log_probs("abqb")
    assert lp.shape == (3,)
    assert lp[0] == pytest.approx(math.log(model.prob("a", "b")))
    assert np.isnan(lp[1]) and lp[2] == pytest.approx(math.log(model.prob("abq", "b")))


def test_samples_are_reproducible_and_follow_the_temperature():
    model = CharNGram("abcdr ", order=3).fit(TEXT)
    one = model.sample("ab", 200, 1.0, seed=3)
    assert one == model.sample("ab", 200, 1.0, seed=3) and one.startswith("ab") and len(one) == 202
    cold = model.sample("ab", 200, 0.05, seed=3)
    assert "abracadabra" in cold  # at low temperature the likeliest path is the training text
    with pytest.raises(ValueError, match="temperature"):
        model.sample("a", 5, 0.0)


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(ValueError, match="order"):
        CharNGram("ab", order=0)
    with pytest.raises(ValueError, match="distinct"):
        CharNGram("aab")


def test_space_run_share_counts_texts_with_a_long_run_of_spaces():
    from rnncourse.ngram import SPACE_RUN, space_run_share

    stuck = "def f():\n" + " " * SPACE_RUN + "x"
    assert space_run_share([stuck, "    return x\n", " " * (SPACE_RUN - 1)]) == pytest.approx(1 / 3)
    assert space_run_share([]) == 0.0


def test_shipped_comparison_was_computed_with_the_shipped_model():
    """Notebook 08 reads rnncourse/results/char_python_ngram.json beside the shipped model:
    a retrained model without a rerun of `rnncourse ngram` would pair numbers of two models."""
    import json
    from pathlib import Path

    from rnncourse import pretrained
    from rnncourse import results as results_package
    from rnncourse.data.corpora import python_source, sha256_text

    path = Path(results_package.__file__).parent / "char_python_ngram.json"
    comparison = json.loads(path.read_text())
    meta = pretrained.record(comparison["model"])
    assert comparison["model_val_loss"] == meta["metrics"]["val_loss_nats_per_char"], (
        f"{path.name} was computed with another {comparison['model']}: rerun `{comparison['command']}`")
    assert comparison["data_sha256"]["train"] == sha256_text(python_source("train"))
    assert comparison["command"].startswith("rnncourse ngram ")
    assert {"held-out text", "lstm 0.5", "ngram 0.5"} <= set(comparison["samples"])
    assert all("space_runs" in s for s in comparison["samples"].values())
