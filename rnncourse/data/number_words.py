"""Number words translated between languages: a tiny machine-translation task.

English "twenty-one" becomes German "einundzwanzig": the German word puts the
units before the tens, so a translator must reorder, and attention heatmaps show
the crossing. The words come from ``num2words`` (offline, deterministic); numbers
are split into disjoint train and test sets so the test measures generalisation to
numbers never seen, not recall.
"""

import numpy as np
from num2words import num2words

__all__ = ["DIGIT_WORDS", "number_to_words", "number_pairs", "split_numbers", "spelled_digits"]

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def number_to_words(n: int, lang: str = "en") -> str:
    """``n`` written in words in language ``lang`` (a num2words code), lower case."""
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"expected a non-negative int, got {n!r}")
    return num2words(int(n), lang=lang).lower()


def number_pairs(numbers, src_lang: str = "en", tgt_lang: str = "de") -> list[tuple[str, str]]:
    """(words in ``src_lang``, words in ``tgt_lang``) for each of ``numbers``."""
    return [(number_to_words(n, src_lang), number_to_words(n, tgt_lang)) for n in numbers]


def split_numbers(high: int = 10_000, n_test: int = 1000, seed: int = 0,
                  low: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint train and test numbers from ``low <= n < high``, shuffled by ``seed``."""
    if not 0 < n_test < high - low:
        raise ValueError(f"n_test must be between 1 and {high - low - 1}, got {n_test}")
    numbers = np.random.default_rng(seed).permutation(np.arange(low, high))
    return np.sort(numbers[n_test:]), np.sort(numbers[:n_test])


def spelled_digits(n: int, max_digits: int = 16, seed: int = 0,
                   min_digits: int = 1) -> list[tuple[str, str]]:
    """``n`` digit strings read aloud: ("seven four zero", "740"), one word per digit.

    The number of digits is uniform in ``min_digits..max_digits``, so the sources run from
    3 to about 5 * ``max_digits`` characters and the information the source carries grows
    with its length: the task on which one fixed context vector runs out of room."""
    if not 1 <= min_digits <= max_digits:
        raise ValueError(f"expected 1 <= min_digits <= max_digits, got {min_digits} and {max_digits}")
    rng = np.random.default_rng(seed)
    pairs = []
    for length in rng.integers(min_digits, max_digits + 1, size=n):
        digits = rng.integers(0, 10, size=length)
        pairs.append((" ".join(DIGIT_WORDS[d] for d in digits), "".join(map(str, digits))))
    return pairs
