"""Gradient checking by central differences.

``dL/dθ_j ≈ (L(θ + ε e_j) - L(θ - ε e_j)) / 2ε``, compared with an analytic gradient
per parameter by the norm-wise relative error ``||a - n|| / (||a|| + ||n||)``
(robust to entries that are almost zero); in float64 a correct gradient gives
about 1e-8 or less. The report names the parameter with the largest error and its
worst entry, so a wrong index or sign can be found.
"""

from typing import Callable, NamedTuple

import numpy as np

__all__ = ["numerical_gradient", "relative_error", "GradReport", "check_gradients"]


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Central-difference gradient of the scalar ``f()`` with respect to ``x``.

    ``x`` is perturbed in place (and restored), so ``f`` must read it.
    """
    if x.dtype != np.float64:
        raise TypeError(f"expected a float64 array to perturb, got {x.dtype}")
    grad = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        saved = x[j]
        x[j] = saved + eps
        plus = f()
        x[j] = saved - eps
        minus = f()
        x[j] = saved
        grad[j] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """Norm-wise ``||a - b|| / max(||a|| + ||b||, 1e-300)``."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


class GradReport(NamedTuple):
    """Largest relative error over all parameters, and that parameter's worst entry."""

    max_rel_error: float
    name: str
    index: tuple
    analytic: float
    numeric: float

    def __str__(self) -> str:
        return (f"max relative error {self.max_rel_error:.2e} at {self.name}{list(self.index)}: "
                f"analytic {self.analytic:.8g}, numerical {self.numeric:.8g}")


def check_gradients(f: Callable[[], float], params: dict[str, np.ndarray],
                    grads: dict[str, np.ndarray], eps: float = 1e-5) -> GradReport:
    """Compare analytic ``grads`` with central differences of ``f`` over ``params``."""
    missing = params.keys() - grads.keys()
    if missing:
        raise KeyError(f"no analytic gradient for {sorted(missing)}")
    worst = GradReport(0.0, "", (), 0.0, 0.0)
    for name, x in params.items():
        g = np.asarray(grads[name], dtype=np.float64)
        if g.shape != x.shape:
            raise ValueError(f"gradient d{name} has shape {g.shape}, expected {x.shape}")
        n = numerical_gradient(f, x, eps)
        err = relative_error(g, n)
        j = np.unravel_index(np.argmax(np.abs(g - n)), g.shape)
        if err >= worst.max_rel_error:
            worst = GradReport(err, name, tuple(int(i) for i in j), float(g[j]), float(n[j]))
    return worst
