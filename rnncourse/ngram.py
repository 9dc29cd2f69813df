"""A character n-gram language model: the baseline of Karpathy, Johnson and Fei-Fei (2015).

The paper compares its character LSTMs with n-gram models of the same data to show where
the LSTM's advantage comes from: on characters whose prediction needs a long context
(a closing bracket or quote far from its opening one) the n-gram, which only sees the
last n - 1 characters, cannot know what to close. ``CharNGram`` is that baseline, with
Witten-Bell interpolation (Witten & Bell 1991; Chen & Goodman 1998, section 2.5): the
probability of ``x`` after the context ``c`` (the last n - 1 characters) is

    p(x | c) = lambda_c * count(c x) / count(c) + (1 - lambda_c) * p(x | c'),
    lambda_c = count(c) / (count(c) + distinct(c)),

where ``c'`` drops the oldest character of ``c``, ``distinct(c)`` is the number of
different characters seen after ``c``, and the recursion ends in the uniform
distribution over the vocabulary. Every probability is positive and each distribution
sums to 1 (tested).

``rnncourse ngram`` runs the comparison of notebook 08 (samples that Python's
tokenizer accepts, bracket and quote balance, samples stuck in runs of spaces, closing
characters by distance) and writes
``rnncourse/results/char_python_ngram.json``.
"""

import math
from collections import defaultdict

import numpy as np
import torch

__all__ = ["CharNGram", "compare_with_lstm", "space_run_share", "add_arguments", "run"]


class CharNGram:
    """Interpolated (Witten-Bell) character n-gram model of order ``order`` (n).

    Args:
        vocab: the characters the model can predict (others in a text are skipped).
        order: n, so the context is the last n - 1 characters (order >= 1).
    """

    def __init__(self, vocab: str, order: int = 5):
        if order < 1:
            raise ValueError(f"order must be at least 1, got {order}")
        if len(set(vocab)) != len(vocab) or not vocab:
            raise ValueError("vocab must be a non-empty string of distinct characters")
        self.vocab, self.order = vocab, order
        self.index = {ch: i for i, ch in enumerate(vocab)}
        # counts[c] = {next character id: count} for every context c of length 0..n-1
        self.counts: dict[str, dict[int, int]] = {}
        self.totals: dict[str, int] = {}

    def fit(self, text: str) -> "CharNGram":
        """Count every (context, next character) pair of ``text``; returns ``self``."""
        counts = defaultdict(lambda: defaultdict(int))
        for t, ch in enumerate(text):
            x = self.index.get(ch)
            if x is None:
                continue
            for k in range(min(self.order, t + 1)):  # context lengths 0 .. n-1
                counts[text[t - k:t]][x] += 1
        self.counts = {c: dict(v) for c, v in counts.items()}
        self.totals = {c: sum(v.values()) for c, v in self.counts.items()}
        return self

    def _context(self, history: str) -> str:
        return history[len(history) - self.order + 1:] if self.order > 1 else ""

    def prob(self, history: str, ch: str) -> float:
        """p(ch | the last n - 1 characters of ``history``)."""
        x = self.index[ch]
        p = 1.0 / len(self.vocab)
        context = self._context(history)
        for k in range(len(context) + 1):  # from the empty context up to the longest
            c = context[len(context) - k:]
            seen = self.counts.get(c)
            if seen is None:
                break  # a longer context that was never seen is not seen either
            total, distinct = self.totals[c], len(seen)
            lam = total / (total + distinct)
            p = lam * seen.get(x, 0) / total + (1 - lam) * p
        return p

    def distribution(self, history: str) -> np.ndarray:
        """The whole next-character distribution after ``history``, shape (V,)."""
        p = np.full(len(self.vocab), 1.0 / len(self.vocab))
        context = self._context(history)
        for k in range(len(context) + 1):
            c = context[len(context) - k:]
            seen = self.counts.get(c)
            if seen is None:
                break
            total, distinct = self.totals[c], len(seen)
            lam = total / (total + distinct)
            ml = np.zeros(len(self.vocab))
            ml[list(seen)] = list(seen.values())
            p = lam * ml / total + (1 - lam) * p
        return p

    def log_probs(self, text: str) -> np.ndarray:
        """log p(text[t] | text[:t]) for t = 1 .. T-1 (nan where a character is not in
        the vocabulary), shape (T-1,): aligned with an LSTM reading ``text[:-1]``."""
        out = np.full(max(0, len(text) - 1), np.nan)
        for t in range(1, len(text)):
            if text[t] in self.index:
                out[t - 1] = math.log(self.prob(text[:t][-self.order:], text[t]))
        return out

    def sample(self, prime: str, length: int, temperature: float = 1.0, seed: int = 0) -> str:
        """``prime`` followed by ``length`` characters drawn from the model."""
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        rng = np.random.default_rng(seed)
        text = prime
        for _ in range(length):
            p = self.distribution(text[-self.order:]) ** (1.0 / temperature)
            text += self.vocab[rng.choice(len(self.vocab), p=p / p.sum())]
        return text


# --- the comparison of notebook 08 ----------------------------------------------------

SPACE_RUN = 60  # spaces in a row: a sampler stuck in whitespace (held-out code almost never has it)


def space_run_share(texts: list[str], run: int = SPACE_RUN) -> float:
    """The fraction of ``texts`` that hold ``run`` or more spaces in a row."""
    return sum(" " * run in text for text in texts) / max(1, len(texts))


@torch.no_grad()
def _lstm_log_probs(model, text: str) -> np.ndarray:
    """log p(text[t] | text[:t]) for t = 1 .. T-1 from a ``CharLSTM`` reading one stream."""
    ids = model.encode(text)  # (1, T)
    logits, _ = model(ids[:, :-1])  # (1, T-1, V)
    log_p = torch.log_softmax(logits[0].float(), dim=-1)
    return log_p.gather(1, ids[0, 1:, None]).squeeze(1).cpu().numpy().astype(np.float64)


@torch.no_grad()
def _lstm_samples(model, prime: str, n: int, length: int, temperature: float, seed: int) -> list[str]:
    """``n`` samples of ``length`` characters, drawn in one batch."""
    g = torch.Generator().manual_seed(seed)
    ids = model.encode(prime).repeat(n, 1)  # (n, T)
    logits, state = model(ids)
    out = []
    for _ in range(length):
        p = torch.softmax(logits[:, -1].float().cpu() / temperature, dim=-1)  # (n, V)
        nxt = torch.multinomial(p, 1, generator=g)  # (n, 1)
        out.append(nxt[:, 0])
        logits, state = model(nxt.to(ids.device), state)
    chars = model.vocab.chars
    return [prime + "".join(chars[int(i)] for i in col) for col in torch.stack(out, 1)]


def compare_with_lstm(model, train_text: str, val_text: str, order: int = 5,
                      temperatures=(0.5, 0.8, 1.0), samples: int = 32, length: int = 500,
                      prime: str = "\ndef ", seed: int = 0) -> dict:
    """Everything notebook 08 shows about the LSTM versus an n-gram of the same data."""
    from rnncourse.interpret import closing_pairs, sample_line_stats

    ngram = CharNGram(model.vocab.chars, order).fit(train_text)
    lstm_lp, ngram_lp = _lstm_log_probs(model, val_text), ngram.log_probs(val_text)
    ok = np.isfinite(ngram_lp)
    result = {"order": order, "held_out_chars": len(val_text),
              "held_out_nats_per_char": {"lstm": float(-lstm_lp[ok].mean()),
                                    "ngram": float(-ngram_lp[ok].mean())},
              "closing": [], "samples": {}}
    for kind, open_pos, close_pos in closing_pairs(val_text):
        t = close_pos - 1  # log_probs index of predicting text[close_pos]
        if ok[t]:
            result["closing"].append([kind, close_pos - open_pos, float(lstm_lp[t]), float(ngram_lp[t])])
    real = val_text.split("\n")
    result["samples"]["held-out text"] = sample_line_stats(real)
    windows = [val_text[i:i + length] for i in range(0, len(val_text) - length + 1, length)]
    result["samples"]["held-out text"]["space_runs"] = space_run_share(windows)
    for tau in temperatures:
        lstm_text = _lstm_samples(model, prime, samples, length, tau, seed)
        ngram_text = [ngram.sample(prime, length, tau, seed + i) for i in range(samples)]
        for kind, texts in (("lstm", lstm_text), ("ngram", ngram_text)):
            lines = [line for text in texts for line in text[len(prime):].split("\n")[:-1]]
            stats = sample_line_stats(lines)
            stats["space_runs"] = space_run_share(texts)
            stats["example"] = texts[0]
            result["samples"][f"{kind} {tau}"] = stats
    return result


def add_arguments(parser) -> None:
    """The options of ``rnncourse ngram``."""
    from rnncourse.cli import non_negative_int, path_text, positive_int

    parser.add_argument("--model", default="char_lstm_python", help="the shipped char LSTM")
    parser.add_argument("--order", type=positive_int, default=5, help="n of the n-gram")
    parser.add_argument("--out", type=path_text, default="rnncourse/results/char_python_ngram.json")
    parser.add_argument("--seed", type=non_negative_int, default=0)


def run(args) -> int:
    """``rnncourse ngram``: recompute notebook 08's comparison (one torch thread)."""
    import time

    from rnncourse._io import write_json
    from rnncourse.cli import command_line
    from rnncourse.data.corpora import python_source, sha256_text
    from rnncourse.pretrained import load, record
    from rnncourse.runtime import threads

    with threads(1):
        start = time.process_time()
        model = load(args.model, "cpu").eval()
        # held-out text: the validation and test modules (the model trained on neither)
        train_text = python_source("train")
        val_text = python_source("val") + "\n" + python_source("test")
        result = compare_with_lstm(model, train_text, val_text, order=args.order, seed=args.seed)
    result.update({
        "command": command_line("ngram", args),
        "model": args.model,
        "model_val_loss": record(args.model)["metrics"]["val_loss_nats_per_char"],
        "data_sha256": {"train": sha256_text(train_text), "held_out": sha256_text(val_text)},
        "seed": args.seed, "torch": torch.__version__, "cpu_time_s": time.process_time() - start,
    })
    write_json(args.out, result, indent=1)
    print(f"wrote {args.out} in {result['cpu_time_s']:.0f} CPU-s")
    return 0
