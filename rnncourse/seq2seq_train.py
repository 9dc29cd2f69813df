"""Train and evaluate the seq2seq models of notebook 10; the shipped models' recipe.

Two tasks: ``dates`` (written dates -> ISO, ``rnncourse.data.dates``) and ``numbers``
(English number words -> German, ``rnncourse.data.number_words``). Three variants
each, as in [004] and [001]: ``plain`` (no attention), ``reversed`` (no attention,
source read backwards) and ``attention`` (Bahdanau, bidirectional encoder).

Reproduce a shipped model (one CPU thread)::

    python -m rnncourse.seq2seq_train dates attention --steps 645 --save

(the exact command of each shipped model is in its record, ``rnncourse/pretrained/*.json``;
add ``--save`` to write the result there).
"""

import argparse
import hashlib
import json
import time
from importlib.metadata import version

import numpy as np
import torch
from torch.nn import functional as F

from rnncourse.data.dates import date_pairs, written_date, date_formats, random_dates
from rnncourse.data.number_words import number_pairs, split_numbers
from rnncourse.data.seq_batching import PAD, make_pair_batch
from rnncourse.seq2seq import Seq2Seq

__all__ = ["VARIANTS", "heldout_pairs", "task_data", "train_seq2seq", "translate", "accuracy",
           "accuracy_by_length", "main"]

VARIANTS = {
    "plain": dict(attention=False, bidirectional=False, reverse_source=False),
    "reversed": dict(attention=False, bidirectional=False, reverse_source=True),
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
    raise ValueError(f"unknown task {task!r}: expected 'dates' or 'numbers'")


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
        rng = np.random.default_rng(seed)

        def sample(n):
            return date_pairs(n, seed=int(rng.integers(2**31)))
        digest = _sha256(test + sample(1000))
        rng = np.random.default_rng(seed)  # the same stream again for training
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
    return {"sample": sample, "test": test, "src_chars": src_chars, "tgt_chars": tgt_chars,
            "sha256": digest, "versions": versions}


@torch.no_grad()
def translate(model: Seq2Seq, sources, batch_size: int = 500) -> list[str]:
    """Greedy translations of ``sources``, decoded in batches."""
    model.eval()
    return [out for i in range(0, len(sources), batch_size)
            for out in model.greedy(list(sources[i:i + batch_size]))[0]]


def accuracy(model: Seq2Seq, pairs) -> float:
    """Fraction of ``pairs`` whose greedy translation equals the target exactly."""
    outputs = translate(model, [s for s, _ in pairs])
    return sum(o == t for o, (_, t) in zip(outputs, pairs)) / len(pairs)


def accuracy_by_length(model: Seq2Seq, pairs, edges) -> dict:
    """Exact-match accuracy per source-length bin [edges[k], edges[k+1]): {bin: (acc, count)}."""
    outputs = translate(model, [s for s, _ in pairs])
    result = {}
    for lo, hi in zip(edges[:-1], edges[1:]):
        hits = [o == t for o, (s, t) in zip(outputs, pairs) if lo <= len(s) < hi]
        if hits:
            result[(lo, hi)] = (sum(hits) / len(hits), len(hits))
    return result


def train_seq2seq(task: str, variant: str, steps: int = 3000, batch_size: int = 64,
                  lr: float = 3e-3, clip: float = 1.0, hidden: int = 64, emb: int = 32,
                  seed: int = 0, max_minutes: float | None = None, device="cpu",
                  log_every: int = 100):
    """Train one variant on one task; returns (model, record for ``pretrained.save``)."""
    torch.manual_seed(seed)
    data = task_data(task, seed)
    config = dict(src_chars=data["src_chars"], tgt_chars=data["tgt_chars"], emb=emb,
                  hidden=hidden, **VARIANTS[variant])
    model = Seq2Seq(**config).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    start, losses, step = time.time(), [], 0
    for step in range(1, steps + 1):
        model.train()
        batch = make_pair_batch(data["sample"](batch_size), model.src_vocab,
                                model.tgt_vocab).to(device)
        logits = model(batch.src, batch.src_len, batch.tgt_in)  # (N, T, V)
        loss = F.cross_entropy(logits.flatten(0, 1), batch.tgt_out.flatten(), ignore_index=PAD)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        losses.append(loss.item())
        if step % log_every == 0:
            print(f"{task}/{variant} step {step}: loss {np.mean(losses[-log_every:]):.4f} "
                  f"({time.time() - start:.0f} s)", flush=True)
        if max_minutes is not None and time.time() - start > 60 * max_minutes:
            break
    acc = accuracy(model, data["test"])
    record = {
        "builder": "rnncourse.seq2seq:Seq2Seq", "config": config,
        "command": f"python -m rnncourse.seq2seq_train {task} {variant} --steps {step} "
                   f"--batch-size {batch_size} --lr {lr} --hidden {hidden} --seed {seed}",
        "task": task, "variant": variant, "seed": seed, "data_sha256": data["sha256"],
        "data_versions": data["versions"], "torch": torch.__version__,
        "hyperparameters": dict(batch_size=batch_size, lr=lr, clip=clip, optimizer="Adam",
                                teacher_forcing=1.0),
        "steps": step, "wall_seconds": round(time.time() - start, 1), "device": str(device),
        "threads": torch.get_num_threads(),
        "train_loss_last_250": round(float(np.mean(losses[-250:])), 4),
        "test_exact_match": acc, "test_size": len(data["test"]),
    }
    print(f"{task}/{variant}: test exact match {acc:.3f}", flush=True)
    return model, record


def main(argv=None) -> int:
    from rnncourse import pretrained

    p = argparse.ArgumentParser(description="train a seq2seq model of notebook 10")
    p.add_argument("task", choices=["dates", "numbers"])
    p.add_argument("variant", choices=list(VARIANTS))
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-minutes", type=float, default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--save", action="store_true", help="write into rnncourse/pretrained/")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    model, record = train_seq2seq(args.task, args.variant, args.steps, args.batch_size,
                                  args.lr, hidden=args.hidden, seed=args.seed,
                                  max_minutes=args.max_minutes)
    if args.save:
        pretrained.save(f"seq2seq_{args.task}_{args.variant}", model, record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
