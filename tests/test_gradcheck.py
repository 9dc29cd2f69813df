"""The gradient checker: exact on known gradients, and it points at a wrong entry."""

import numpy as np
import pytest

from rnncourse.gradcheck import check_gradients, numerical_gradient, relative_error


def test_numerical_gradient_of_a_quadratic_form():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 4))
    x = rng.normal(size=4)
    grad = numerical_gradient(lambda: float(x @ A @ x), x)
    np.testing.assert_allclose(grad, (A + A.T) @ x, rtol=1e-8)


def test_numerical_gradient_restores_the_array():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    numerical_gradient(lambda: float(np.sum(np.sin(x))), x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(3, dtype=np.float32))


def test_relative_error_is_zero_for_equal_and_one_for_opposite():
    a = np.array([1.0, -2.0, 3.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(a, -a) == pytest.approx(1.0)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0


def test_check_gradients_passes_a_correct_gradient():
    rng = np.random.default_rng(1)
    params = {"w": rng.normal(size=(3, 2)), "v": rng.normal(size=3)}
    f = lambda: float(np.sum(np.tanh(params["w"]).T @ params["v"]))  # noqa: E731
    t = np.tanh(params["w"])
    grads = {"w": (1 - t**2) * params["v"][:, None], "v": t.sum(axis=1)}
    assert check_gradients(f, params, grads).max_rel_error < 1e-9


def test_check_gradients_names_the_wrong_parameter_and_entry():
    rng = np.random.default_rng(2)
    params = {"a": rng.normal(size=3), "b": rng.normal(size=(2, 2))}
    f = lambda: float(np.sum(params["a"] ** 2) + np.sum(params["b"] ** 3))  # noqa: E731
    grads = {"a": 2 * params["a"], "b": 3 * params["b"] ** 2}
    grads["b"][1, 0] *= -1
    report = check_gradients(f, params, grads)
    assert report.name == "b" and report.index == (1, 0)
    assert report.max_rel_error > 1e-3
    assert "b[1, 0]" in str(report)


def test_check_gradients_rejects_missing_or_misshapen_gradients():
    params = {"a": np.zeros(3)}
    with pytest.raises(KeyError, match="a"):
        check_gradients(lambda: 0.0, params, {})
    with pytest.raises(ValueError, match=r"shape \(3, 1\), expected \(3,\)"):
        check_gradients(lambda: 0.0, params, {"a": np.zeros((3, 1))})
