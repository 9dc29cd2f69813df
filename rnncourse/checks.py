"""Assertions for notebook check cells, with messages a student can act on.

Each helper raises ``AssertionError`` saying what was expected and what came
instead, in the course's words ("expected h of shape (3,), got (3, 1)").
References passed in must be computed independently of the student's code.
"""

import inspect
import sys

import numpy as np

__all__ = ["to_numpy", "check_shape", "check_close", "check_true", "claim", "check_choice",
           "check_answer", "check_not_reference"]


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
    want, got = _distinct(expected[worst], value[worst])
    raise AssertionError(
        f"{name} is wrong{where}: expected {want}, got {got} "
        f"(relative error {rel:.2e}, tolerance rtol={rtol:g}, atol={atol:g})"
    )


def _distinct(expected: float, got: float) -> tuple[str, str]:
    """Both numbers with just enough significant digits to tell them apart (6 to 17)."""
    for digits in range(6, 18):
        a, b = f"{expected:.{digits}g}", f"{got:.{digits}g}"
        if a != b:
            return a, b
    return a, b


def check_true(condition: bool, message: str) -> None:
    """Assert ``condition`` with a message explaining what went wrong."""
    if not condition:
        raise AssertionError(message)


def claim(condition, text: str) -> None:
    """Assert a statement the notebook's prose makes about a result it computed.

    ``text`` repeats the statement in plain words. When a retrain or a library
    change makes it false, the notebook (and the test suite) stops here instead of
    teaching something its own output contradicts.
    """
    if not bool(condition):
        raise AssertionError(f"The text claims: {text}. This run does not bear it out: "
                             "the numbers printed above contradict it.")
    print(f"✓ as the text says: {text}")


def _normalise(answer):
    return answer.strip().lower() if isinstance(answer, str) else answer


def check_choice(name: str, answer, options) -> None:
    """Visible half of a conceptual question: ``answer`` is one of ``options``.

    The key is compared in the check's hidden tests (``check_answer``), so the
    student version never holds it.
    """
    allowed = [_normalise(o) for o in options]
    if answer is None or answer is Ellipsis:
        raise AssertionError(f"{name} is not set: assign one of {list(options)}")
    if _normalise(answer) not in allowed:
        raise AssertionError(f"{name} must be one of {list(options)}, got {answer!r}")
    print(f"✓ {name} = {answer!r} recorded; it is graded with the instructor's key.")


def check_answer(name: str, answer, key, why: str = "", rtol: float = 1e-6) -> None:
    """Hidden half of a conceptual question: compare ``answer`` with ``key``.

    Strings compare case-insensitively; numbers within ``rtol``; tuples (shapes)
    exactly. ``why`` is the explanation shown when the answer is wrong.
    """
    if isinstance(key, (int, float)) and not isinstance(key, bool):
        try:
            right = abs(float(answer) - key) <= rtol * max(abs(key), 1e-12)
        except (TypeError, ValueError):
            right = False
    elif isinstance(key, (tuple, list)):
        right = answer is not None and tuple(answer) == tuple(key)
    else:
        right = _normalise(answer) == _normalise(key)
    if not right:
        raise AssertionError(f"{name} = {answer!r} is not right. {why}".strip())


def _called_code(call):
    """Run ``call()``; return its result and what it called (code objects, builtins)."""
    seen_code, seen_builtin = set(), set()

    def profile(frame, event, arg):
        if event == "call":
            seen_code.add(frame.f_code)
        elif event == "c_call":
            seen_builtin.add((getattr(arg, "__module__", None), getattr(arg, "__name__", None)))

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        result = call()
    finally:
        sys.setprofile(previous)
    return result, seen_code, seen_builtin


def check_not_reference(name: str, student_fn, references, *args, **kwargs):
    """Fail with "write your own" when ``student_fn`` is, or calls, a reference.

    ``references`` are the package's (or torch's) implementations of the exercise.
    ``student_fn(*args, **kwargs)`` is called once under a profiler: calling any
    reference, directly or through a wrapper, fails the check. Returns the result.
    """
    # decorators such as @torch.no_grad() share one wrapper code object: compare what they wrap
    references = [inspect.unwrap(ref) for ref in references]
    unwrapped = inspect.unwrap(student_fn)
    for ref in references:
        if student_fn is ref or unwrapped is ref:
            raise AssertionError(f"{name} is the reference {_label(ref)} itself: write your own.")
    result, codes, builtins = _called_code(lambda: student_fn(*args, **kwargs))
    for ref in references:
        code = getattr(getattr(ref, "__func__", ref), "__code__", None)
        hit = (code in codes) if code is not None else (
            (getattr(ref, "__module__", None), getattr(ref, "__name__", None)) in builtins
            or any(n == getattr(ref, "__name__", None) for _, n in builtins
                   if getattr(ref, "__module__", None) is None))
        if hit:
            raise AssertionError(f"{name} calls {_label(ref)}, the reference this exercise asks "
                                 "you to build: write your own.")
    return result


def _label(ref) -> str:
    module = getattr(ref, "__module__", None)
    return f"{module}.{ref.__qualname__}" if module else getattr(ref, "__qualname__", repr(ref))
