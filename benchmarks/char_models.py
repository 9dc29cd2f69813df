"""Speed figures of the character models (issue 6 / notebook 08).

* training throughput (characters per second) of ``rnncourse.train.train`` against a
  bare PyTorch loop on the same model, batches and optimiser: the overhead ratio;
* time to load a shipped model (``rnncourse.pretrained.load``);
* time for the cell explorer to read 2,000 characters and render its HTML;
* training steps and batch-1 sampling (one character at a time) with PyTorch's oneDNN
  LSTM path on and off.

Both wall-clock and CPU time are printed: on a shared machine the CPU time is the
steadier figure. Run: ``.venv/bin/python benchmarks/char_models.py [--threads 1]``
"""

import argparse
import time

import torch
from torch import nn

from rnncourse.char_model import CharLSTM
from rnncourse.data.batching import TBPTTBatcher
from rnncourse.data.corpora import python_source
from rnncourse.data.vocab import Vocab
from rnncourse.pretrained import load
from rnncourse.runtime import onednn
from rnncourse.seeding import seed_everything
from rnncourse.train import TrainConfig, train
from rnncourse.viz.cell_explorer import CellExplorer


class Timer:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def bare_loop(config: TrainConfig, text: str) -> Timer:
    """The same model, batches, optimiser and clipping, with nothing else around them."""
    seed_everything(config.seed)
    vocab = Vocab.from_text(text)
    model = CharLSTM(vocab.to_string(), config.embed_dim, config.hidden_size, config.num_layers)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    batcher = TBPTTBatcher(vocab.encode(text), config.batch_size, config.seq_len)
    state = None
    with Timer() as t:
        for k in range(config.steps):
            x, y = batcher.window(k)
            logits, state = model(x, state)
            loss = nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())
            state = tuple(s.detach() for s in state)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config.clip)
            opt.step()
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    text, val = python_source("train")[:400_000], python_source("val")[:2_000]
    config = TrainConfig(corpus="python", hidden_size=256, num_layers=2, steps=args.steps,
                         eval_every=10**9, sample_every=10**9, checkpoint_every=10**9,
                         eval_chars=2_000, device="cpu", progress=False)
    chars = args.steps * config.batch_size * config.seq_len
    bare_loop(config, text)  # warm-up: first-call costs (imports, allocator) for both
    bare = bare_loop(config, text)
    with Timer() as ours:
        train(config, text, val)
    print(f"training 2x256, {args.steps} steps of {config.batch_size}x{config.seq_len}, "
          f"{args.threads} thread(s):")
    print(f"  bare loop       {chars / bare.wall:8.0f} chars/s wall, {chars / bare.cpu:8.0f} per CPU-s")
    print(f"  train()         {chars / ours.wall:8.0f} chars/s wall, {chars / ours.cpu:8.0f} per CPU-s"
          "  (includes one evaluation and one sample at the end)")
    print(f"  overhead ratio  {ours.cpu / bare.cpu:.2f} (CPU time, train() / bare loop)")
    for enabled in (True, False):
        with onednn(enabled):
            t = bare_loop(config, text)
        print(f"  bare loop, oneDNN {'on ' if enabled else 'off'}: {chars / t.cpu:8.0f} chars per CPU-s")

    for name in ("char_lstm_python", "char_lstm_shakespeare"):
        with Timer() as t:
            load(name, "cpu")
        print(f"load {name}: {t.wall * 1e3:.0f} ms wall, {t.cpu * 1e3:.0f} ms CPU")

    model = load("char_lstm_python", "cpu")
    with Timer() as t:
        CellExplorer(model, python_source("val")[:2000], layer=1, cell=0).html()
    print(f"cell explorer on 2,000 characters: {t.wall:.2f} s wall, {t.cpu:.2f} s CPU")

    for enabled in (True, False):
        with onednn(enabled), torch.no_grad(), Timer() as t:
            logits, state = model(model.encode("import "))
            for _ in range(300):
                idx = logits[0, -1].argmax().view(1, 1)
                logits, state = model(idx, state)
        print(f"sampling 300 chars, oneDNN {'on ' if enabled else 'off'}: "
              f"{t.wall / 300 * 1e3:.2f} ms/char wall, {t.cpu / 300 * 1e3:.2f} ms/char CPU")


if __name__ == "__main__":
    main()
