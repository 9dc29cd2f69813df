"""Surnames with their language, for the name-to-language classifier of notebook 09.

The lists are the static surname tables of Faker's person providers (one module
per locale, shipped in the wheel, offline). Faker's version is pinned to a range
in pyproject.toml; ``names_sha256`` fingerprints the lists actually read, so a
result can say which data it was computed on. Names found in more than one
language are dropped: their label would be a coin toss. Only Latin-script locales
are used, lower-cased, so the classifier must learn spelling, not the alphabet.
"""

import hashlib
import importlib
import json

import numpy as np

__all__ = ["NAME_LOCALES", "load_names", "names_sha256", "split_names"]

# language -> Faker locale of its person provider
NAME_LOCALES = {
    "English": "en_US", "Irish": "ga_IE", "German": "de_DE", "Dutch": "nl_NL",
    "Swedish": "sv_SE", "French": "fr_FR", "Italian": "it_IT", "Spanish": "es_ES",
    "Czech": "cs_CZ", "Slovak": "sk_SK", "Croatian": "hr_HR", "Finnish": "fi_FI",
}


def _surnames(locale: str) -> set[str]:
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    names = set()
    for attr in ("last_names", "last_names_male", "last_names_female"):
        names |= {n.strip().lower() for n in getattr(provider, attr, ())}
    return {n for n in names if n.isalpha()}  # single words only


def load_names(languages=None) -> list[tuple[str, str]]:
    """Sorted (surname, language) pairs; each surname belongs to one language only."""
    languages = list(NAME_LOCALES) if languages is None else list(languages)
    unknown = set(languages) - NAME_LOCALES.keys()
    if unknown:
        raise ValueError(f"unknown languages {sorted(unknown)}; known: {list(NAME_LOCALES)}")
    owners: dict[str, set[str]] = {}
    for lang in languages:
        for name in _surnames(NAME_LOCALES[lang]):
            owners.setdefault(name, set()).add(lang)
    return sorted((n, next(iter(l))) for n, l in owners.items() if len(l) == 1)


def names_sha256(pairs) -> str:
    """sha256 of the (name, language) list: which Faker data a result used."""
    return hashlib.sha256(json.dumps(list(pairs), ensure_ascii=False).encode()).hexdigest()


def split_names(pairs, test_fraction: float = 0.2, seed: int = 0):
    """Shuffle with ``seed`` and split into (train, test), stratified by language."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for lang in sorted({l for _, l in pairs}):
        group = [p for p in pairs if p[1] == lang]
        order = rng.permutation(len(group))
        k = int(round(test_fraction * len(group)))
        test += [group[i] for i in order[:k]]
        train += [group[i] for i in order[k:]]
    return train, test
