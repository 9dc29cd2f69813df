"""Check helpers say what was expected and what came instead."""

import numpy as np
import pytest
import torch

from rnncourse.checks import check_close, check_shape, check_true


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(AssertionError, match=r"expected h of shape \(3,\), got \(3, 1\)"):
        check_shape("h", np.zeros((3, 1)), (3,))


def test_none_is_reported_as_missing_return():
    with pytest.raises(AssertionError, match="did you forget to return"):
        check_shape("h", None, (3,))


@pytest.mark.parametrize("value", [np.arange(6.0).reshape(2, 3), torch.arange(6.0).reshape(2, 3),
                                   [[0, 1, 2], [3, 4, 5]]])
def test_close_accepts_arrays_tensors_lists(value):
    check_close("x", value, np.arange(6.0).reshape(2, 3))


def test_close_names_the_worst_entry():
    got = np.arange(6.0).reshape(2, 3)
    got[1, 2] = -5.0
    with pytest.raises(AssertionError, match=r"x is wrong at index \(1, 2\): expected 5, got -5"):
        check_close("x", got, np.arange(6.0).reshape(2, 3))


def test_close_rejects_nan():
    with pytest.raises(AssertionError, match="NaN"):
        check_close("x", [np.nan], [0.0])


def test_check_true_uses_the_message():
    check_true(True, "unused")
    with pytest.raises(AssertionError, match="loss did not decrease"):
        check_true(False, "loss did not decrease")
