"""Character vocabulary and its unknown-character policy."""

import pytest
import torch

from rnncourse.data.vocab import UNKNOWN, Vocab


def test_round_trip_on_several_texts():
    for text in ["hello", "def f(x):\n    return x\n", "Ünïcödé ☃ text"]:
        v = Vocab.from_text(text)
        assert v.decode(v.encode(text)) == text


def test_ids_are_sorted_characters_after_unknown():
    v = Vocab.from_text("hello")
    assert v.chars == [UNKNOWN, "e", "h", "l", "o"]
    assert v.encode("hello").tolist() == [2, 1, 3, 3, 4]
    assert v.encode("hello").dtype == torch.long


def test_unknown_characters_map_to_id_zero():
    v = Vocab.from_text("abc")
    assert v.encode("abxc").tolist() == [1, 2, 0, 3]
    assert v.decode(v.encode("axb")) == f"a{UNKNOWN}b"
    assert v.unknown_chars("abxyc") == {"x", "y"}


def test_error_policy_names_the_unknown_characters():
    v = Vocab.from_text("abc")
    with pytest.raises(ValueError, match="'z'"):
        v.encode("az", on_unknown="error")
    with pytest.raises(ValueError, match="on_unknown"):
        v.encode("a", on_unknown="ignore")


def test_to_string_rebuilds_the_same_vocab():
    v = Vocab.from_text("the quick brown fox")
    assert Vocab(v.to_string()) == v
    assert len(v) == len(set("the quick brown fox")) + 1


def test_decode_rejects_out_of_range_ids():
    v = Vocab.from_text("ab")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        v.decode([0, 3])
    with pytest.raises(ValueError, match=r"shape \(T,\)"):
        v.decode(torch.zeros(2, 2, dtype=torch.long))


def test_options_say_the_specials_and_the_unknown_policy():
    v = Vocab("cab", specials=("<pad>", "<s>", "</s>"), unknown=None, bos="<s>", eos="</s>")
    assert v.itos == ["<pad>", "<s>", "</s>", "a", "b", "c"]
    assert v.ids("ba", bos=True, eos=True) == [1, 4, 3, 2]
    assert v.decode([1, 4, 0, 3, 2, 5]) == "ba"  # <s> and <pad> dropped, stops at </s>
    with pytest.raises(ValueError, match="not in the vocabulary"):
        v.ids("abz")
    with pytest.raises(ValueError, match="must be one of the specials"):
        Vocab("ab", specials=(), unknown="?")


def test_a_word_vocabulary_keeps_its_order():
    v = Vocab(["<PAD>", "red", "a", "circle"], specials=("<PAD>",), unknown=None, sort=False,
              separator=" ")
    assert v.ids("a red circle") == [2, 1, 3]
    assert v.decode([2, 1, 3, 0]) == "a red circle" and v.to_string() == "red a circle"


def test_the_course_vocabularies_are_settings_of_one_class():
    from rnncourse.data import scenes
    from rnncourse.data.seq_batching import BOS, EOS, PAD, CharVocab

    seq = CharVocab("xy")
    assert isinstance(seq, Vocab) and (PAD, BOS, EOS) == (0, 1, 2)
    assert seq.encode("yx", bos=True, eos=True) == [BOS, 4, 3, EOS]
    assert isinstance(scenes.VOCAB, Vocab) and scenes.VOCAB.itos == list(scenes.WORDS)
