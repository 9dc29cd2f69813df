"""Looking inside a character LSTM: text features, automatic cell search, gate saturation.

Karpathy, Johnson and Fei-Fei, "Visualizing and understanding recurrent networks"
(2015), as summarised in [003]: some cells of a character LSTM track a property of the
text (inside a quote, position in the line, depth of indentation or nesting). Here a
*feature* is a number per character of a text, read as "the state after reading that
character"; ``rank_cells`` orders cells by the Pearson correlation of their activation
with a feature, and ``gate_saturation`` measures how often each gate is left- (< 0.1)
or right-saturated (> 0.9), the paper's Fig. 3.

The gate values come from ``lstm_internals``, which replays the model's own
``torch.nn.LSTM`` through ``rnncourse.sequence.from_torch`` with recording on.
"""

from typing import NamedTuple

import numpy as np
import torch

__all__ = [
    "inside_quotes", "python_lexical_masks", "inside_strings", "inside_comment",
    "tokenizer_masks", "closing_pairs", "line_is_tokenized", "line_is_balanced",
    "sample_line_stats", "position_in_line", "indent_depth", "bracket_depth", "inside_brackets",
    "FEATURES", "CellScore", "correlations", "rank_cells", "search_cells",
    "gate_saturation", "lstm_internals",
]


def inside_quotes(text: str, quotes: str = "\"'") -> np.ndarray:
    """1.0 after an opening quote until (and excluding) its closing quote, else 0.0.

    A string closes with the character that opened it; a backslash escapes the next
    character. For prose pass ``quotes='"'`` so apostrophes do not count.
    """
    out = np.zeros(len(text))
    open_quote, escaped = None, False
    for t, ch in enumerate(text):
        if open_quote is not None:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == open_quote:
                open_quote = None
        elif ch in quotes:
            open_quote = ch
        out[t] = open_quote is not None
    return out


def python_lexical_masks(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Where Python's tokenizer sees string literals and comments, in one left-to-right pass.

    Returns ``(strings, comments)``, two (T,) arrays of 0.0/1.0. A string is marked from
    the first character of its opening quote up to, and excluding, its closing quote
    (three characters for a triple quote; a prefix such as ``r``, ``b`` or ``f`` is
    outside); a comment from its ``#`` up to, and excluding, the end of the line. As in
    the tokenizer, a backslash inside any string (raw ones too) keeps the next character
    from closing it, and a single-quoted string cannot cross an unescaped newline (text
    that breaks this rule, e.g. a model's sample, ends the string there). Python 3.11's
    tokenizer reads f-strings as one STRING token, and so do we. Unlike ``tokenize`` this
    works on any snippet, even one cut in the middle of a string.
    """
    T = len(text)
    strings, comments = np.zeros(T), np.zeros(T)
    t = 0
    while t < T:
        ch = text[t]
        if ch == "#":
            end = text.find("\n", t)
            end = T if end < 0 else end
            comments[t:end] = 1.0
            t = end
        elif ch in "'\"":
            delim = ch * 3 if text.startswith(ch * 3, t) else ch
            u = t + len(delim)
            while u < T:
                if text[u] == "\\":
                    u += 2
                elif text.startswith(delim, u):
                    break
                elif text[u] == "\n" and len(delim) == 1:
                    break  # unterminated: the tokenizer would stop with an error here
                else:
                    u += 1
            u = min(u, T)
            strings[t:u] = 1.0
            t = u + (len(delim) if text.startswith(delim, u) else 0)
        else:
            t += 1
    return strings, comments


def inside_strings(text: str) -> np.ndarray:
    """1.0 inside a Python string literal (``python_lexical_masks``), else 0.0."""
    return python_lexical_masks(text)[0]


def inside_comment(text: str) -> np.ndarray:
    """1.0 on a Python comment, from ``#`` to the end of its line (newline excluded)."""
    return python_lexical_masks(text)[1]


def tokenizer_masks(code: str) -> tuple[np.ndarray, np.ndarray]:
    """The same two masks as ``python_lexical_masks``, asked of ``tokenize`` itself
    (``code`` must tokenize: complete source). The reference the lexer is tested against."""
    import io
    import tokenize

    strings, comments = np.zeros(len(code)), np.zeros(len(code))
    starts = np.cumsum([0] + [len(line) for line in code.splitlines(keepends=True)])
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type not in (tokenize.STRING, tokenize.COMMENT):
            continue
        begin = starts[tok.start[0] - 1] + tok.start[1]
        end = starts[tok.end[0] - 1] + tok.end[1]
        if tok.type == tokenize.COMMENT:
            comments[begin:end] = 1.0
        else:
            body = tok.string.lstrip("rRbBuUfF")
            quote = body[:3] if body[:3] in ("'''", '"""') else body[0]
            strings[begin + len(tok.string) - len(body) : end - len(quote)] = 1.0
    return strings, comments


def closing_pairs(code: str) -> list[tuple[str, int, int]]:
    """Every closing bracket and closing quote of ``code`` with its opening one.

    Returns ``(kind, open_position, close_position)`` triples, ``kind`` "bracket" (a
    ``)``, ``]`` or ``}`` outside strings and comments, matched with a stack) or "quote"
    (the closing quote of a single-quoted, one-line string). The distance
    ``close - open`` is what Karpathy et al. plot the closing-character error against.
    """
    strings, comments = python_lexical_masks(code)
    pairs, stack = [], []
    for t, ch in enumerate(code):
        if strings[t] or comments[t]:
            continue
        if ch in "([{":
            stack.append(t)
        elif ch in ")]}" and stack and code[stack[-1]] == "([{"[")]}".index(ch)]:
            pairs.append(("bracket", stack.pop(), t))
    t = 0
    while t < len(code):
        if strings[t] and (t == 0 or not strings[t - 1]):  # a string starts here
            end = t
            while end < len(code) and strings[end]:
                end += 1
            if code[t] in "'\"" and not code.startswith(code[t] * 3, t) and end < len(code) \
                    and code[end] == code[t]:
                pairs.append(("quote", t, end))
            t = end
        else:
            t += 1
    return sorted(pairs, key=lambda p: p[2])


def line_is_tokenized(line: str) -> bool:
    """Does Python's tokenizer read ``line`` (indentation removed) without an error?"""
    import io
    import tokenize

    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return False
    return all(tok.type != tokenize.ERRORTOKEN or tok.string.isspace() for tok in tokens)


def line_is_balanced(line: str) -> bool:
    """Are the brackets of ``line`` (outside strings and comments) matched, and every
    string opened on it closed on it?"""
    strings, comments = python_lexical_masks(line)
    stack = []
    for t, ch in enumerate(line):
        if strings[t] or comments[t]:
            continue
        if ch in "([{":
            stack.append(ch)
        elif ch in ")]}":
            if not stack or stack.pop() != "([{"[")]}".index(ch)]:
                return False
    return not stack and not (len(line) and strings[-1])


def sample_line_stats(lines: list[str]) -> dict:
    """Fractions of the non-blank ``lines`` that tokenize and that balance."""
    lines = [line for line in lines if line.strip()]
    n = max(1, len(lines))
    return {"lines": len(lines),
            "tokenize_ok": sum(map(line_is_tokenized, lines)) / n,
            "balanced": sum(map(line_is_balanced, lines)) / n}


def position_in_line(text: str) -> np.ndarray:
    """Characters read since the last newline (0 at the newline itself)."""
    out = np.zeros(len(text))
    col = 0
    for t, ch in enumerate(text):
        col = 0 if ch == "\n" else col + 1
        out[t] = col
    return out


def indent_depth(text: str, width: int = 4) -> np.ndarray:
    """Indentation level (leading spaces // width) of the line each character is on."""
    out = np.zeros(len(text))
    start = 0
    for line in text.split("\n"):
        level = (len(line) - len(line.lstrip(" "))) // width
        out[start : start + len(line) + 1] = level  # the line and its newline
        start += len(line) + 1
    return out


def bracket_depth(text: str) -> np.ndarray:
    """How many ( [ { are open after each character (never below zero)."""
    out = np.zeros(len(text))
    depth = 0
    for t, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        out[t] = depth
    return out


def inside_brackets(text: str) -> np.ndarray:
    """1.0 while at least one bracket is open."""
    return (bracket_depth(text) > 0).astype(float)


FEATURES = {
    "inside quotes": inside_strings,  # Python's string literals, as its tokenizer reads them
    "position in line": position_in_line,
    "indentation depth": indent_depth,
    "inside brackets": inside_brackets,
    "inside a comment": inside_comment,
}


class CellScore(NamedTuple):
    layer: int
    cell: int
    r: float  # Pearson correlation of the cell's activation with the feature


def correlations(activations: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column of ``activations`` (T, H) with ``feature`` (T,).

    A constant cell or feature has correlation 0 (rather than NaN). Returns (H,).
    """
    A = np.asarray(activations, dtype=np.float64)
    f = np.asarray(feature, dtype=np.float64)
    if A.ndim != 2 or f.shape != (A.shape[0],):
        raise ValueError(f"expected activations (T, H) and feature (T,), got "
                         f"{A.shape} and {f.shape}")
    A = A - A.mean(axis=0)  # (T, H)
    f = f - f.mean()
    denom = np.sqrt((A**2).sum(axis=0) * (f**2).sum())  # (H,)
    r = np.divide(A.T @ f, denom, out=np.zeros(A.shape[1]), where=denom > 1e-12)
    return np.clip(r, -1.0, 1.0)


def rank_cells(activations: np.ndarray, feature: np.ndarray, top: int = 5,
               layer: int = 0) -> list[CellScore]:
    """The ``top`` cells of one layer with the largest |correlation| with ``feature``."""
    r = correlations(activations, feature)
    order = np.argsort(-np.abs(r), kind="stable")[:top]
    return [CellScore(layer, int(h), float(r[h])) for h in order]


def search_cells(layers: list[np.ndarray], text: str, features: dict | None = None,
                 top: int = 5) -> dict[str, list[CellScore]]:
    """For each feature, the ``top`` cells over all layers by |correlation|.

    ``layers``: one activation array (T, H) per layer for ``text``;
    ``features``: name -> function(text) -> (T,), default ``FEATURES``.
    """
    features = FEATURES if features is None else features
    result = {}
    for name, fn in features.items():
        f = np.asarray(fn(text), dtype=np.float64)
        scores = [s for l, A in enumerate(layers) for s in rank_cells(A, f, top, l)]
        result[name] = sorted(scores, key=lambda s: -abs(s.r))[:top]
    return result


def gate_saturation(gate: np.ndarray, low: float = 0.1, high: float = 0.9):
    """Fraction of time steps each unit of a gate is left- (< low) and right-saturated
    (> high). ``gate``: (T, H) or (N, T, H) values in [0, 1]. Returns two (H,) arrays."""
    g = np.asarray(gate, dtype=np.float64)
    g = g.reshape(-1, g.shape[-1])  # (N*T, H)
    if g.size and (g.min() < 0 or g.max() > 1):
        raise ValueError("gate values must lie in [0, 1] (sigmoid outputs i, f, o)")
    return (g < low).mean(axis=0), (g > high).mean(axis=0)


@torch.no_grad()
def lstm_internals(model, text: str) -> list[dict[str, np.ndarray]]:
    """Gates and states of ``model`` (a ``CharLSTM``) reading ``text`` from a zero state.

    Returns one dict per layer: ``"i", "f", "g", "o", "c", "h"`` -> array (T, H).
    """
    from rnncourse.sequence import from_torch

    model.eval()
    x = model.embed(model.encode(text))  # (1, T, E)
    _, _, internals = from_torch(model.lstm)(x, record=True)
    return [{k: v[0].float().cpu().numpy() for k, v in layer.items()} for layer in internals]
