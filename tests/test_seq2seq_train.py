import pytest

from rnncourse.seq2seq_train import accuracy, accuracy_by_length, heldout_pairs, task_data


class Echo:
    """A stand-in model that copies its source, upper-cased when asked."""

    def __init__(self, upper):
        self.upper = upper

    def eval(self):
        return self

    def greedy(self, texts):
        return [t.upper() if len(t) in self.upper else t for t in texts], [None] * len(texts)


PAIRS = [("ab", "ab"), ("abc", "abc"), ("abcd", "abcd"), ("abcde", "abcde")]


def test_accuracy_counts_exact_matches():
    assert accuracy(Echo(upper=set()), PAIRS) == 1.0
    assert accuracy(Echo(upper={3, 4}), PAIRS) == 0.5


def test_accuracy_by_length_bins_by_source_length():
    result = accuracy_by_length(Echo(upper={4, 5}), PAIRS, edges=[2, 4, 6])
    assert result == {(2, 4): (1.0, 2), (4, 6): (0.0, 2)}


def test_heldout_pairs_are_fixed_and_numbers_never_used_for_training():
    assert heldout_pairs("numbers") == heldout_pairs("numbers")
    data = task_data("numbers")
    train = {data["sample"](1)[0] for _ in range(3000)}
    assert not train & set(heldout_pairs("numbers"))
    with pytest.raises(ValueError, match="unknown task"):
        heldout_pairs("poems")


def test_digits_task_samples_long_sources_in_the_model_alphabet():
    data = task_data("digits")
    pairs = data["sample"](300)
    assert max(len(s) for s, _ in pairs) >= 60
    assert set("".join(s for s, _ in pairs)) <= set(data["src_chars"])
    assert set("".join(t for _, t in pairs)) <= set(data["tgt_chars"])
    assert heldout_pairs("digits") == heldout_pairs("digits") != heldout_pairs("digits", 1)
