"""Toy sequence tasks small enough to solve with hand-set weights.

The three examples of the "Sequential Neural Models" lecture [000]:

* **summing**: one number per step; the target at step t is the total so far.
* **comparator** ("which total is larger"): two numbers per step; the target at
  step t is 1 when the running total of the first input exceeds that of the second.
* **parity**: one bit per step; the target at step t is the parity (XOR) of the bits
  read so far, i.e. the "parity bits" of the slide.

Every generator is vectorised (no Python loop over sequences), returns NumPy arrays
with the shapes given in its docstring (N sequences, T steps), and takes a ``seed``
(an int or a ``numpy.random.Generator``), so the same seed always gives the same data.
"""

import numpy as np

__all__ = [
    "summing_sequences",
    "comparator_sequences",
    "running_parity",
    "all_bit_strings",
    "all_parity_strings",
    "random_bit_strings",
    "parity_sequences",
]


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int or a numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def _check_sizes(n: int, length: int) -> None:
    for name, value in (("n", n), ("length", length)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def summing_sequences(n: int, length: int, seed=0, low: int = -5, high: int = 5,
                      integer: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and running totals for the summing RNN.

    Returns ``x`` of shape (N, T) with values in [low, high] (integers stored as
    float64 when ``integer``, else uniform floats) and ``y`` of shape (N, T) with
    ``y[:, t] = x[:, :t + 1].sum(axis=1)``.
    """
    _check_sizes(n, length)
    if low > high:
        raise ValueError(f"expected low <= high, got low={low}, high={high}")
    rng = _rng(seed)
    if integer:
        x = rng.integers(low, high + 1, size=(n, length)).astype(np.float64)
    else:
        x = rng.uniform(low, high, size=(n, length))
    return x, np.cumsum(x, axis=1)  # (N, T), (N, T)


def comparator_sequences(n: int, length: int, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets for the "which total is larger" RNN.

    Returns ``x`` of shape (N, T, 2), uniform in [0, 1), and ``y`` of shape (N, T)
    (int64): ``y[:, t] = 1`` where the total of input 0 over steps 0..t is larger
    than the total of input 1, else 0. Totals are continuous, so ties (probability
    zero) are resolved as 0.
    """
    _check_sizes(n, length)
    x = _rng(seed).uniform(0.0, 1.0, size=(n, length, 2))
    totals = np.cumsum(x, axis=1)  # (N, T, 2)
    return x, (totals[..., 0] > totals[..., 1]).astype(np.int64)


def running_parity(bits) -> np.ndarray:
    """Parity of every prefix: ``p[..., t] = (bits[..., 0] + ... + bits[..., t]) % 2``.

    ``bits`` has shape (..., T) with entries 0 or 1; the result has the same shape
    (int64). The last step, ``p[..., -1]``, is the parity of the whole string.
    """
    bits = np.asarray(bits)
    if bits.ndim == 0 or bits.shape[-1] == 0:
        raise ValueError(f"expected bits of shape (..., T) with T >= 1, got {bits.shape}")
    if not np.isin(bits, (0, 1)).all():
        raise ValueError("expected bits to contain only 0 and 1")
    return np.cumsum(bits.astype(np.int64), axis=-1) % 2


def all_bit_strings(length: int) -> np.ndarray:
    """Every binary string of ``length`` bits, in counting order.

    Shape (2**T, T), int64; row i is the binary expansion of i, most significant
    bit first (so row 1 of length 3 is ``[0, 0, 1]``).
    """
    _check_sizes(1, length)
    if length > 24:
        raise ValueError(f"2**{length} strings would not fit in memory; use length <= 24")
    shifts = np.arange(length - 1, -1, -1)  # (T,)
    return (np.arange(2**length)[:, None] >> shifts) & 1  # (2**T, T)


def all_parity_strings(max_length: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every binary string of length 1 to ``max_length`` with its running parity.

    A list with one entry per length T = 1, ..., max_length: ``(bits, parity)``,
    both of shape (2**T, T). Up to length 10 that is 2,046 strings.
    """
    _check_sizes(1, max_length)
    return [(b, running_parity(b)) for b in map(all_bit_strings, range(1, max_length + 1))]


def random_bit_strings(n: int, length: int, seed=0) -> np.ndarray:
    """``n`` random binary strings of ``length`` bits, each bit 0 or 1 with probability 1/2.

    Shape (N, T), int64.
    """
    _check_sizes(n, length)
    return _rng(seed).integers(0, 2, size=(n, length))


def parity_sequences(n: int, length: int, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """Random bit strings and their running parity: ``bits``, ``parity``, both (N, T) int64."""
    bits = random_bit_strings(n, length, seed)
    return bits, running_parity(bits)
