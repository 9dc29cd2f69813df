"""Assertions for notebook check cells, with messages a student can act on.

Each helper raises ``AssertionError`` saying what was expected and what came
instead, in the course's words ("expected h of shape (3,), got (3, 1)").
References passed in must be computed independently of the student's code.
"""

import numpy as np

__all__ = ["to_numpy", "check_shape", "check_close", "check_true"]


def to_numpy(x) -> np.ndarray:
    """Convert a torch tensor, list or scalar to a NumPy array (no gradient)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def check_shape(name: str, value, expected: tuple) -> None:
    """Assert ``value`` has shape ``expected``."""
    if value is None:
        raise AssertionError(f"{name} is None: did you forget to return it?")
    shape = tuple(to_numpy(value).shape)
    if shape != tuple(expected):
        raise AssertionError(f"expected {name} of shape {tuple(expected)}, got {shape}")


def check_close(name: str, value, expected, rtol: float = 1e-6, atol: float = 1e-8) -> None:
    """Assert ``value`` matches ``expected`` in shape and within tolerance.

    The message names the worst entry and its relative error.
    """
    expected = to_numpy(expected)
    check_shape(name, value, expected.shape)
    value = to_numpy(value).astype(np.float64)
    expected = expected.astype(np.float64)
    if not np.all(np.isfinite(value)):
        raise AssertionError(f"{name} contains NaN or inf: {value}")
    err = np.abs(value - expected)
    bound = atol + rtol * np.abs(expected)
    if np.all(err <= bound):
        return
    worst = np.unravel_index(np.argmax(err - bound), err.shape) if err.ndim else ()
    rel = err[worst] / max(np.abs(expected[worst]), 1e-12)
    where = f" at index {tuple(int(i) for i in worst)}" if worst else ""
    raise AssertionError(
        f"{name} is wrong{where}: expected {expected[worst]:.6g}, got {value[worst]:.6g} "
        f"(relative error {rel:.2e}, tolerance rtol={rtol:g}, atol={atol:g})"
    )


def check_true(condition: bool, message: str) -> None:
    """Assert ``condition`` with a message explaining what went wrong."""
    if not condition:
        raise AssertionError(message)
