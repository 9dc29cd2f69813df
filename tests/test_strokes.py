"""Pen-stroke sequences: font strokes, offsets and back, jitter, padding."""

import numpy as np
import pytest
import torch

from rnncourse.data.strokes import (offsets_to_polylines, pad_strokes, polylines_to_offsets,
                                    text_polylines, word_strokes)


@pytest.mark.parametrize("text", ["a", "hello", "pen ink", "Quill"])
def test_offsets_round_trip_to_the_same_polylines(text):
    polylines = text_polylines(text)
    back = offsets_to_polylines(polylines_to_offsets(polylines))
    assert len(back) == len(polylines)
    for a, b in zip(polylines, back):
        np.testing.assert_allclose(a, b)


def test_pen_lifts_exactly_once_per_stroke_on_its_last_point():
    polylines = [np.array([[0, 0], [1, 0], [1, 1]]), np.array([[3, 0], [4, 2]])]
    steps = polylines_to_offsets(polylines)
    np.testing.assert_array_equal(steps[:, 2], [0, 0, 1, 0, 1])
    np.testing.assert_array_equal(steps[:, :2], [[0, 0], [1, 0], [0, 1], [2, -1], [1, 2]])


def test_font_strokes_are_upright_and_joined_up():
    polylines = text_polylines("lll")
    assert len(polylines) == 1, "a joined-up word is one pen-down stroke"
    line = polylines[0]
    assert line[:, 1].max() - line[:, 1].min() > 15  # ascenders reach up
    assert line[np.argmax(line[:, 1]), 1] > line[0, 1], "y points up: an 'l' rises from its start"


def test_separate_words_are_separate_strokes():
    assert len(text_polylines("a a")) == 2


def test_word_strokes_are_seeded_and_jitter_changes_copies():
    first = word_strokes(["hello", "world"], copies=3, seed=4)
    again = word_strokes(["hello", "world"], copies=3, seed=4)
    assert len(first) == 6 and all(s.dtype == np.float32 and s.shape[1] == 3 for s in first)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(first[0], first[1]), "jittered copies must differ"
    np.testing.assert_array_equal(first[0][:, 2], first[1][:, 2])  # same pen lifts


def test_word_strokes_without_jitter_are_the_scaled_font():
    steps = word_strokes("pen", jitter=0.0, scale=2.0)[0]
    font = polylines_to_offsets(text_polylines("pen"))
    np.testing.assert_allclose(steps[1:, :2], font[1:, :2] / 2.0, rtol=1e-6)
    np.testing.assert_array_equal(steps[0, :2], [0.0, 0.0])  # every word starts at the origin


def test_pad_strokes_pads_with_zeros_and_masks_the_padding():
    a, b = np.ones((4, 3), np.float32), 2 * np.ones((2, 3), np.float32)
    x, mask = pad_strokes([a, b])
    assert x.shape == (2, 4, 3) and mask.shape == (2, 4)
    torch.testing.assert_close(mask, torch.tensor([[1.0, 1, 1, 1], [1, 1, 0, 0]]))
    torch.testing.assert_close(x[1, 2:], torch.zeros(2, 3))
    assert pad_strokes([a, b], length=3)[0].shape == (2, 3, 3)


def test_bad_shapes_are_reported_in_course_words():
    with pytest.raises(ValueError, match=r"expected offsets of shape \(T, 3\), got \(5, 2\)"):
        offsets_to_polylines(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="expected a non-empty text"):
        text_polylines("  ")
    with pytest.raises(ValueError, match="unknown Hershey font"):
        text_polylines("a", font="comic sans")
