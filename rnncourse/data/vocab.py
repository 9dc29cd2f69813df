"""The course's one vocabulary: symbols (characters or words) <-> integer ids.

Its options say which special symbols exist and what an unknown symbol does (as
tiktoken's explicit special tokens and torchtext's ``Vocab`` default index):

- ``specials``: symbols that take the first ids, in the order given (e.g. ``<pad>``,
  ``<s>``, ``</s>``); the other symbols follow, sorted (``sort=False`` keeps the
  order given, for a hand-made word list);
- ``unknown``: the special that a symbol outside the vocabulary maps to, or ``None``
  to refuse such text with a ValueError naming the symbols;
- ``bos``/``eos``: the specials that ``encode(..., bos=True, eos=True)`` frames a
  sequence with and at which ``decode`` stops; ``decode`` drops every special but
  ``unknown``.

Three settings cover the course:

    Vocab.from_text(text)          # char LM: id 0 is UNKNOWN (U+FFFD), unseen -> 0
    Vocab(chars, specials=("<pad>", "<s>", "</s>"), unknown=None,
          bos="<s>", eos="</s>")   # seq2seq (``seq_batching.CharVocab``)
    Vocab(words, specials=(), unknown=None, sort=False, separator=" ")   # scene words

The character LM keeps an UNKNOWN symbol because validation text may hold characters
the training text lacks (a ``é`` in one stdlib module), which the model can learn like
any rare character; ``on_unknown="error"`` refuses such text instead.
"""

from collections.abc import Iterable

import torch

__all__ = ["UNKNOWN", "Vocab"]

UNKNOWN = "\ufffd"


class Vocab:
    """Specials first, then the symbols (sorted unless ``sort=False``).

    >>> v = Vocab.from_text("hello")
    >>> v.decode(v.encode("hole"))
    'hole'
    """

    def __init__(self, symbols: Iterable[str], specials: tuple = (UNKNOWN,),
                 unknown: str | None = UNKNOWN, bos: str | None = None, eos: str | None = None,
                 sort: bool = True, separator: str = ""):
        specials = tuple(specials)
        for name, special in (("unknown", unknown), ("bos", bos), ("eos", eos)):
            if special is not None and special not in specials:
                raise ValueError(f"{name}={special!r} must be one of the specials {specials}")
        symbols = [s for s in dict.fromkeys(symbols) if s not in specials]
        if not separator:
            bad = [s for s in symbols if len(s) != 1]
            if bad:
                raise ValueError(f"vocabulary entries must be single characters, got {bad[:5]}")
        self.specials, self.separator = specials, separator
        self.itos = list(specials) + (sorted(symbols) if sort else symbols)
        self.stoi = {s: i for i, s in enumerate(self.itos)}
        self.unknown_id = None if unknown is None else self.stoi[unknown]
        self.bos_id = None if bos is None else self.stoi[bos]
        self.eos_id = None if eos is None else self.stoi[eos]
        self._hidden = {self.stoi[s] for s in specials} - {self.unknown_id}

    @classmethod
    def from_text(cls, text: str, **options) -> "Vocab":
        """Every distinct character of ``text`` (plus the specials of ``options``)."""
        return cls(set(text), **options)

    @classmethod
    def from_texts(cls, texts: Iterable[str], **options) -> "Vocab":
        """Every distinct character of ``texts``."""
        return cls({c for t in texts for c in t}, **options)

    @property
    def chars(self) -> list[str]:
        """Every symbol by id (``itos``)."""
        return self.itos

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, symbol: str) -> bool:
        return symbol in self.stoi

    def __eq__(self, other) -> bool:
        return (isinstance(other, Vocab) and self.itos == other.itos
                and (self.unknown_id, self.bos_id, self.eos_id)
                == (other.unknown_id, other.bos_id, other.eos_id))

    def __repr__(self) -> str:
        return f"Vocab({len(self)} symbols, {len(self.specials)} special)"

    def to_string(self) -> str:
        """The symbols but the specials as one string (what model configs store)."""
        return self.separator.join(self.itos[len(self.specials):])

    def _split(self, text: str) -> list[str]:
        return text.split() if self.separator else list(text)

    def unknown_chars(self, text: str) -> set[str]:
        """Symbols of ``text`` that are not in the vocabulary."""
        return set(self._split(text)) - self.stoi.keys()

    def ids(self, text: str, bos: bool = False, eos: bool = False,
            on_unknown: str | None = None) -> list[int]:
        """Ids of ``text``'s symbols (characters, or words split at the separator),
        optionally framed by the ``bos`` and ``eos`` specials.

        Unknown symbols follow the vocabulary's ``unknown`` policy, or ``on_unknown``
        (``"replace"`` or ``"error"``) if given.
        """
        policy = on_unknown or ("error" if self.unknown_id is None else "replace")
        if policy not in ("replace", "error"):
            raise ValueError(f"on_unknown must be 'replace' or 'error', got {on_unknown!r}")
        symbols = self._split(text)
        if policy == "error" or self.unknown_id is None:
            missing = sorted(set(symbols) - self.stoi.keys())
            if missing:
                shown = text if len(text) <= 60 else text[:57] + "..."
                raise ValueError(f"symbols {missing[:10]} of {shown!r} are not in the vocabulary")
        for flag, special, name in ((bos, self.bos_id, "bos"), (eos, self.eos_id, "eos")):
            if flag and special is None:
                raise ValueError(f"this vocabulary has no {name} special")
        get = self.stoi.get
        body = [get(s, self.unknown_id) for s in symbols]
        return [self.bos_id] * bool(bos) + body + [self.eos_id] * bool(eos)

    def encode(self, text: str, on_unknown: str | None = None) -> torch.Tensor:
        """Ids of ``text`` as a LongTensor of shape (T,) (see ``ids``)."""
        return torch.tensor(self.ids(text, on_unknown=on_unknown), dtype=torch.long)

    def decode(self, ids) -> str:
        """The text of ``ids`` (tensor, array or list of shape (T,)): stops at the ``eos``
        special and leaves out the other specials (all but ``unknown``)."""
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1:
                raise ValueError(f"expected ids of shape (T,), got {tuple(ids.shape)}")
            ids = ids.tolist()
        out, n = [], len(self.itos)
        for i in (int(i) for i in ids):
            if not 0 <= i < n:
                raise ValueError(f"id {i} is outside the vocabulary (0..{n - 1})")
            if i == self.eos_id:
                break
            if i not in self._hidden:
                out.append(self.itos[i])
        return self.separator.join(out)
