"""Character vocabulary: characters <-> integer ids, with an unknown-character policy.

The vocabulary is built from the training text, so validation text may contain
characters it has never seen (a ``é`` in one stdlib module). Those map to one reserved
symbol, ``UNKNOWN`` (U+FFFD, the Unicode replacement character), which is always
id 0 and which the model can learn like any rare character; ``on_unknown="error"``
refuses such text instead.
"""

from collections.abc import Iterable

import torch

__all__ = ["UNKNOWN", "Vocab"]

UNKNOWN = "\ufffd"


class Vocab:
    """Sorted characters with id 0 reserved for ``UNKNOWN``.

    >>> v = Vocab.from_text("hello")
    >>> v.decode(v.encode("hole"))
    'hole'
    """

    def __init__(self, chars: Iterable[str]):
        chars = [c for c in dict.fromkeys(chars) if c != UNKNOWN]
        bad = [c for c in chars if len(c) != 1]
        if bad:
            raise ValueError(f"vocabulary entries must be single characters, got {bad[:5]}")
        self.chars = [UNKNOWN] + sorted(chars)
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str) -> "Vocab":
        """Every distinct character of ``text``, plus ``UNKNOWN``."""
        return cls(set(text))

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, char: str) -> bool:
        return char in self.stoi

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocab) and self.chars == other.chars

    def __repr__(self) -> str:
        return f"Vocab({len(self)} characters)"

    def to_string(self) -> str:
        """All characters but ``UNKNOWN`` as one string (what model configs store)."""
        return "".join(self.chars[1:])

    def unknown_chars(self, text: str) -> set[str]:
        """Characters of ``text`` that are not in the vocabulary."""
        return set(text) - self.stoi.keys()

    def encode(self, text: str, on_unknown: str = "replace") -> torch.Tensor:
        """Ids of ``text`` as a LongTensor of shape (T,).

        ``on_unknown="replace"`` maps unseen characters to ``UNKNOWN`` (id 0);
        ``"error"`` raises a ValueError naming them.
        """
        if on_unknown not in ("replace", "error"):
            raise ValueError(f"on_unknown must be 'replace' or 'error', got {on_unknown!r}")
        if on_unknown == "error":
            missing = self.unknown_chars(text)
            if missing:
                raise ValueError(f"characters not in the vocabulary: {sorted(missing)[:10]}")
        get = self.stoi.get
        return torch.tensor([get(c, 0) for c in text], dtype=torch.long)

    def decode(self, ids) -> str:
        """Text of a sequence of ids (tensor, array or list) of shape (T,)."""
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1:
                raise ValueError(f"expected ids of shape (T,), got {tuple(ids.shape)}")
            ids = ids.tolist()
        n = len(self.chars)
        for i in ids:
            if not 0 <= i < n:
                raise ValueError(f"id {i} is outside the vocabulary (0..{n - 1})")
        return "".join(self.chars[i] for i in ids)
