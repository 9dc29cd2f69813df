"""Dates written many ways, paired with the same date in ISO form (YYYY-MM-DD).

The seq2seq task of notebook 10 [001, 004]: "Sonntag, 22. November 2026",
"22 nov. 2026" or "22.11.2026" must all become "2026-11-22". Alignment is visible:
the year of the output comes from the end of most inputs, the month from a word in
the middle, so attention heatmaps cross. The strings come from babel's
``format_date`` over several locales and patterns (offline, deterministic for a
pinned babel version). Years always have four digits, and numeric formats are
never month-first, so no input is ambiguous.
"""

import datetime as dt
import re

import numpy as np
from babel import Locale
from babel.dates import format_date

__all__ = ["DATE_LOCALES", "DATE_PATTERNS", "date_formats", "written_date", "random_dates",
           "date_pairs"]

DATE_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_PT",
                "sv_SE")
# Patterns of our own, on top of each locale's full/long/medium/short formats.
DATE_PATTERNS = ("d MMMM y", "EEE d MMM y", "dd.MM.y", "d/M/y", "y-MM-dd")

_START, _END = dt.date(1950, 1, 1), dt.date(2049, 12, 31)


def _four_digit_years(pattern: str) -> str:
    return re.sub(r"(?<!y)y{1,2}(?!y)", "y", pattern)


def _numeric_month_first(pattern: str) -> bool:
    """A pattern like M/d/y: the month as a number before the day (ambiguous)."""
    m, d = re.search(r"M+", pattern), pattern.find("d")
    return m is not None and len(m.group()) <= 2 and 0 <= m.start() < d


def date_formats(locales=DATE_LOCALES) -> list[tuple[str, str]]:
    """Every (locale, pattern) the generator uses, unambiguous and with 4-digit years."""
    formats = []
    for name in locales:
        standard = Locale.parse(name).date_formats
        patterns = [_four_digit_years(standard[k].pattern)
                    for k in ("full", "long", "medium", "short")]
        for p in dict.fromkeys(patterns + list(DATE_PATTERNS)):
            if not _numeric_month_first(p):
                formats.append((name, p))
    return formats


def written_date(date: dt.date, locale: str, pattern: str) -> str:
    """``date`` written with babel ``pattern`` in ``locale``, lower-cased."""
    return format_date(date, format=pattern, locale=locale).lower()


def random_dates(n: int, seed: int, start: dt.date = _START, end: dt.date = _END):
    """``n`` dates drawn uniformly from ``start`` to ``end`` (inclusive)."""
    days = np.random.default_rng(seed).integers(0, (end - start).days + 1, size=n)
    return [start + dt.timedelta(days=int(d)) for d in days]


def date_pairs(n: int, seed: int, locales=DATE_LOCALES) -> list[tuple[str, str]]:
    """``n`` pairs (written date, ISO date), reproducible from ``seed``."""
    rng = np.random.default_rng([seed, 1])
    formats = date_formats(locales)
    choice = rng.integers(0, len(formats), size=n)
    return [(written_date(d, *formats[c]), d.isoformat())
            for d, c in zip(random_dates(n, seed), choice)]
