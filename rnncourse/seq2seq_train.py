"""Train and evaluate the seq2seq models of notebook 10; the shipped models' recipe.

Three tasks: ``dates`` (written dates -> ISO, ``rnncourse.data.dates``), ``numbers``
(English number words -> German, ``rnncourse.data.number_words``) and ``digits`` (long
digit strings read aloud -> the digits, up to 16 digits: the long-input task). Four
variants, as in [004] and [001]: ``plain`` (no attention), ``reversed`` (no attention,
source read backwards), ``bidirectional`` (no attention, the attention model's
bidirectional encoder) and ``attention`` (Bahdanau, bidirectional encoder).
``bidirectional`` and ``attention`` differ only by attention.

Reproduce a shipped model (one CPU thread)::

    rnncourse seq2seq dates attention --steps 645 --save

(the exact command of each shipped model is in its record, ``rnncourse/pretrained/*.json``;
``--save`` writes the result there).
"""

import argparse
import hashlib
import json
import platform
import time
from importlib.metadata import version

import numpy as np
import torch
from torch.nn import functional as F

from rnncourse.cli import command_line, non_negative_int, positive_float, positive_int
from rnncourse.data.dates import date_pairs, written_date, date_formats, random_dates
from rnncourse.data.number_words import DIGIT_WORDS, number_pairs, spelled_digits, split_numbers
from rnncourse.data.seq_batching import PAD, make_pair_batch
from rnncourse._io import write_json
from rnncourse.pretrained import Record
from rnncourse.results import RESULTS_DIR
from rnncourse.runtime import isolated_rng, threads
from rnncourse.seq2seq import Seq2Seq
from rnncourse.training import LoopConfig, fit

__all__ = ["VARIANTS", "TASKS", "heldout_pairs", "task_data", "train_seq2seq", "translate",
           "exact_hits", "accuracy", "accuracy_by_length", "add_arguments", "run"]

TASKS = ("dates", "numbers", "digits")

VARIANTS = {
    "plain": dict(attention=False, bidirectional=False, reverse_source=False),
    "reversed": dict(attention=False, bidirectional=False, reverse_source=True),
    "bidirectional": dict(attention=False, bidirectional=True, reverse_source=False),
    "attention": dict(attention=True, bidirectional=True, reverse_source=False),
}


def _sha256(pairs) -> str:
    return hashlib.sha256(json.dumps(pairs, ensure_ascii=False).encode()).hexdigest()


def heldout_pairs(task: str, seed: int = 0) -> list[tuple[str, str]]:
    """The held-out (source, target) pairs of ``task`` on which the shipped models are scored."""
    if task == "dates":
        return date_pairs(1000, seed=10_000 + seed)
    if task == "numbers":
        return number_pairs(split_numbers(1000, 200, seed=seed)[1])
    if task == "digits":
        return spelled_digits(1000, seed=10_000 + seed)
    raise ValueError(f"unknown task {task!r}: expected one of {', '.join(TASKS)}")


def _generated(make_pairs, test, seed: int):
    """For a task whose training pairs are generated: a sampler ``sample(n)`` of fresh pairs
    ``make_pairs(n, seed=...)``, its seeds drawn from one stream seeded by ``seed``, and the
    sha256 of the test pairs with the first 1000 pairs of that same stream."""
    def sampler():
        rng = np.random.default_rng(seed)
        return lambda n: make_pairs(n, seed=int(rng.integers(2**31)))
    return sampler(), _sha256(test + sampler()(1000))


def task_data(task: str, seed: int = 0) -> dict:
    """Everything a run needs for ``task``: a training-pair sampler, test pairs, the
    characters of each side, and a sha256 of the data with the package versions."""
    test = heldout_pairs(task, seed)
    if task == "dates":
        # every month and weekday name in every format: the full source alphabet
        probe = [written_date(d, loc, p) for d in random_dates(400, seed=99)
                 for loc, p in date_formats()]
        src_chars = "".join(sorted(set("".join(probe))))
        tgt_chars = "0123456789-"
        sample, digest = _generated(date_pairs, test, seed)
        versions = {"babel": version("babel")}
    elif task == "numbers":
        train_n, _ = split_numbers(1000, 200, seed=seed)
        train = number_pairs(train_n)
        src_chars = "".join(sorted(set("".join(s for s, _ in train + test))))
        tgt_chars = "".join(sorted(set("".join(t for _, t in train + test))))
        rng = np.random.default_rng(seed)

        def sample(n):
            return [train[i] for i in rng.integers(0, len(train), size=n)]
        digest = _sha256(train + test)
        versions = {"num2words": version("num2words")}
    elif task == "digits":
        src_chars = "".join(sorted(set(" ".join(DIGIT_WORDS))))
        tgt_chars = "0123456789"
        sample, digest = _generated(spelled_digits, test, seed)
        versions = {}
    return {"sample": sample, "test": test, "src_chars": src_chars, "tgt_chars": tgt_chars,
            "sha256": digest, "versions": versions}


@torch.no_grad()
def translate(model: Seq2Seq, sources, batch_size: int = 500) -> list[str]:
    """Greedy translations of ``sources``, decoded in batches."""
    model.eval()
    return [out for i in range(0, len(sources), batch_size)
            for out in model.greedy(list(sources[i:i + batch_size]))[0]]


def exact_hits(model: Seq2Seq, pairs) -> list[int]:
    """1 for each of ``pairs`` whose greedy translation equals the target exactly, else 0."""
    outputs = translate(model, [s for s, _ in pairs])
    return [int(o == t) for o, (_, t) in zip(outputs, pairs)]


def accuracy(model: Seq2Seq, pairs) -> float:
    """Fraction of ``pairs`` whose greedy translation equals the target exactly."""
    return sum(exact_hits(model, pairs)) / len(pairs)


def accuracy_by_length(model: Seq2Seq, pairs, edges) -> dict:
    """Exact-match accuracy per source-length bin [edges[k], edges[k+1]): {bin: (acc, count)}."""
    hits = exact_hits(model, pairs)
    result = {}
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = [h for h, (s, _) in zip(hits, pairs) if lo <= len(s) < hi]
        if in_bin:
            result[(lo, hi)] = (sum(in_bin) / len(in_bin), len(in_bin))
    return result


def train_seq2seq(task: str, variant: str, steps: int = 3000, batch_size: int = 64,
                  lr: float = 3e-3, clip: float = 1.0, hidden_size: int = 64, embed_dim: int = 32,
                  seed: int = 0, max_minutes: float | None = None, device="cpu",
                  log_every: int = 100, command: str | None = None):
    """Train one variant on one task (Adam, constant learning rate, gradients clipped:
    ``rnncourse.training.fit``); returns (model, record for ``pretrained.save``).

    ``command`` is the ``rnncourse seq2seq`` command the record gives (default: the one
    with these arguments and the steps done)."""
    with isolated_rng():
        torch.manual_seed(seed)
        data = task_data(task, seed)
        config = dict(src_chars=data["src_chars"], tgt_chars=data["tgt_chars"],
                      embed_dim=embed_dim, hidden_size=hidden_size, **VARIANTS[variant])
        model = Seq2Seq(**config).to(device)

        def next_loss(step):
            batch = make_pair_batch(data["sample"](batch_size), model.src_vocab,
                                    model.tgt_vocab).to(device)
            logits = model(batch.src, batch.src_len, batch.tgt_in)  # (N, T, V)
            return F.cross_entropy(logits.flatten(0, 1), batch.tgt_out.flatten(),
                                   ignore_index=PAD)

        start = time.time()
        losses = fit(model, next_loss, LoopConfig(steps=steps, lr=lr, clip=clip,
                                                  max_minutes=max_minutes, log_every=log_every),
                     name=f"{task}/{variant}")
    step = len(losses)
    acc = accuracy(model, data["test"])
    if command is None:
        args = argparse.Namespace(task=task, variant=variant, steps=step, batch_size=batch_size,
                                  lr=lr, clip=clip, hidden_size=hidden_size, embed_dim=embed_dim,
                                  seed=seed, save=False)
        command = command_line("seq2seq", args, leave_out=("max_minutes", "threads"))
    record = Record(
        builder="rnncourse.seq2seq:Seq2Seq", config=config,
        training={
            "command": command, "seed": seed, "steps": step,
            "hyperparameters": dict(task=task, variant=variant, batch_size=batch_size, lr=lr,
                                    clip=clip, optimizer="Adam", teacher_forcing=1.0),
            "data": {"description": f"rnncourse.seq2seq_train.task_data({task!r}, {seed}): "
                                    "training pairs and the held-out test pairs",
                     "sha256": data["sha256"], "versions": data["versions"]},
            "device": str(device), "torch": torch.__version__,
            "wall_time_s": round(time.time() - start, 1), "threads": torch.get_num_threads(),
            "cpu": platform.processor() or platform.machine(),
        },
        metrics={"train_last_250_loss_nats_per_char": round(float(np.mean(losses[-250:])), 4),
                 "test_exact_match_fraction": acc})
    print(f"{task}/{variant}: test exact match {acc:.3f}", flush=True)
    return model, record.to_dict()


def add_arguments(parser) -> None:
    parser.add_argument("task", choices=TASKS,
                        help="dates (to ISO), numbers (English to German) or digits (read aloud)")
    parser.add_argument("variant", choices=list(VARIANTS),
                        help="plain, reversed, bidirectional or attention")
    parser.add_argument("--steps", type=positive_int, default=3000, help="optimiser steps")
    parser.add_argument("--batch-size", type=positive_int, default=64)
    parser.add_argument("--lr", type=positive_float, default=3e-3, help="learning rate (Adam)")
    parser.add_argument("--clip", type=positive_float, default=1.0, help="gradient norm clip")
    parser.add_argument("--hidden-size", type=positive_int, default=64, help="hidden size H")
    parser.add_argument("--embed-dim", type=positive_int, default=32, help="embedding size E")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument("--max-minutes", type=positive_float, default=None,
                        help="stop early after this long (the record says the steps done)")
    parser.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads")
    parser.add_argument("--save", action="store_true",
                        help="write the model and its record into rnncourse/pretrained/")
    parser.add_argument("--results", action="store_true",
                        help="write the held-out hits to rnncourse/results/"
                             "seq2seq_TASK_VARIANT_seedSEED.json (for the claims over seeds)")


def run(args) -> int:
    from rnncourse import pretrained

    with threads(args.threads):
        model, record = train_seq2seq(args.task, args.variant, args.steps, args.batch_size,
                                      args.lr, args.clip, args.hidden_size, args.embed_dim, args.seed,
                                      args.max_minutes)
    # a run cut short by --max-minutes is reproduced by asking for the steps it did
    done = argparse.Namespace(**{**vars(args), "steps": record["training"]["steps"]})
    record["training"]["command"] = command_line("seq2seq", done,
                                                 leave_out=("max_minutes", "threads"))
    if args.save:
        pretrained.save(f"seq2seq_{args.task}_{args.variant}", model, record)
    if args.results:
        write_json(RESULTS_DIR / f"seq2seq_{args.task}_{args.variant}_seed{args.seed}.json", {
            "command": record["training"]["command"], "seed": args.seed,
            "steps": record["training"]["steps"],
            "wall_time_s": record["training"]["wall_time_s"],
            "parameters": sum(p.numel() for p in model.parameters()),
            "metrics": record["metrics"],
            "test": f"rnncourse.seq2seq_train.heldout_pairs({args.task!r}, {args.seed})",
            "test_hits": exact_hits(model, heldout_pairs(args.task, args.seed))})
    return 0
