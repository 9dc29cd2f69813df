"""Tiny programs and what they print: "learning to execute" (Zaremba and Sutskever 2014).

Slides [000] show an RNN reading a program character by character and writing its
output, e.g. ``j=8584 / for x in range(8): j+=920 / b=(1500+j) / print((b+7567))``
-> ``25011``. This generator writes such programs with two difficulty knobs:
``digits`` (how long the numbers are) and ``nesting`` (how many operations are
composed). The value is computed while the program is written (no ``exec``).

Operations: addition, subtraction, multiplication by a one-digit number, an
``if``-``else`` expression, assignment to a variable, and a small ``for`` loop.
"""

import numpy as np

__all__ = ["OPERATIONS", "make_program", "program_pairs"]

OPERATIONS = ("add", "sub", "mul", "if", "assign", "loop")
_NAMES = "abcdefghij"


def _number(rng, digits: int) -> int:
    return int(rng.integers(10 ** (digits - 1) if digits > 1 else 0, 10 ** digits))


def _expression(rng, digits: int, depth: int, lines: list[str], names: list[str]):
    """An expression string and its value; may append statements to ``lines``."""
    if depth == 0:
        n = _number(rng, digits)
        return str(n), n
    inner, value = _expression(rng, digits, depth - 1, lines, names)
    op = OPERATIONS[int(rng.integers(len(OPERATIONS)))]
    n = _number(rng, digits)
    if op == "add":
        return f"({inner}+{n})", value + n
    if op == "sub":
        return f"({inner}-{n})", value - n
    if op == "mul":
        k = int(rng.integers(2, 10))
        return f"({inner}*{k})", value * k
    if op == "if":
        a, b, other = _number(rng, digits), _number(rng, digits), _number(rng, digits)
        taken = value if a < b else other
        return f"({inner} if {a}<{b} else {other})", taken
    name = next(c for c in _NAMES if c not in names)
    names.append(name)
    if op == "assign":
        lines.append(f"{name}={inner}")
        return name, value
    k = int(rng.integers(2, 10))  # loop
    lines += [f"{name}={inner}", f"for x in range({k}):", f"  {name}+={n}"]
    return name, value + k * n


def make_program(rng: np.random.Generator, digits: int, nesting: int) -> tuple[str, str]:
    """One program with numbers of ``digits`` digits and ``nesting`` composed operations.

    Returns (source code, printed output). Lines end with newlines, as typed.
    """
    if digits < 1 or nesting < 1:
        raise ValueError(f"digits and nesting must be at least 1, got {digits}, {nesting}")
    if nesting > len(_NAMES):
        raise ValueError(f"nesting must be at most {len(_NAMES)}, got {nesting}")
    lines: list[str] = []
    expr, value = _expression(rng, digits, nesting, lines, [])
    lines.append(f"print({expr})")
    return "\n".join(lines), str(value)


def program_pairs(n: int, seed: int, digits: int, nesting: int) -> list[tuple[str, str]]:
    """``n`` (program, output) pairs of one difficulty, reproducible from ``seed``."""
    rng = np.random.default_rng([seed, digits, nesting])
    return [make_program(rng, digits, nesting) for _ in range(n)]
