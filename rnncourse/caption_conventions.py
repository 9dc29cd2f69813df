"""Two ways to tell a captioning RNN about the image (notebook 11, section 2).

- ``"first"``: deck 000 (Karpathy and Fei-Fei's NeuralTalk): the image vector ``v``
  enters once, added to the first input, ``h_0 = f(W_xh x_0 + W_ih v)`` with ``x_0`` the
  ``<START>`` word; every later step is an ordinary language-model step.
- ``"every"``: ``v`` is part of the input at every step,
  ``h_t = f(W_xh x_t + W_hh h_{t-1} + W_ih v)``, so the image cannot be forgotten.

Both use the same CNN (``captioning.SceneCNN``), LSTM size and zero initial state; only
where ``v`` enters differs. ``compare`` trains both at equal budgets over several seeds;
``run_comparison`` writes ``rnncourse/results/caption_conventions.json``, which
notebook 11 reads.
"""

import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rnncourse import captioning
from rnncourse.data import scenes as sc

__all__ = ["CONVENTIONS", "ConventionCaptioner", "compare", "run_comparison", "RESULTS"]

CONVENTIONS = ("first", "every")
RESULTS = Path(__file__).parent / "results" / "caption_conventions.json"


class ConventionCaptioner(nn.Module):
    """CNN + LSTM captioner with the image vector ``v`` at the first step or at every step.

    The state handed between steps is ``(h, c, first)``: ``first`` (N,) is 1 before the
    first word and 0 afterwards, so step-by-step decoding (``captioning.greedy``,
    ``beam_search``) adds ``W_ih v`` exactly where teacher-forced training does.
    """

    def __init__(self, convention: str = "first", image_size: int = 32, embed_dim: int = 32,
                 features: int = 128, hidden_size: int = 128, channels: int = 32):
        super().__init__()
        if convention not in CONVENTIONS:
            raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
        self.config = dict(convention=convention, image_size=image_size, embed_dim=embed_dim,
                           features=features, hidden_size=hidden_size, channels=channels)
        V, grid = len(sc.WORDS), image_size // 4
        self.cnn = captioning.SceneCNN(channels)
        self.to_v = nn.Linear(channels * grid * grid, features)
        self.embed = nn.Embedding(V, embed_dim)
        if convention == "first":
            self.W_ih = nn.Linear(features, embed_dim)  # v joins the first input x_0
            self.lstm = nn.LSTM(embed_dim, hidden_size, batch_first=True)
        else:
            self.lstm = nn.LSTM(embed_dim + features, hidden_size, batch_first=True)  # [x_t, v]
        self.out = nn.Linear(hidden_size, V)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.to_v(self.cnn(images).flatten(1)))  # v (N, F)

    def init_state(self, v: torch.Tensor) -> tuple:
        zeros = v.new_zeros(v.shape[0], self.config["hidden_size"])
        return zeros, zeros.clone(), v.new_ones(v.shape[0])

    def _inputs(self, x: torch.Tensor, v: torch.Tensor, first: torch.Tensor) -> torch.Tensor:
        """LSTM inputs for embedded words ``x`` (N, T, E); ``first`` (N, T) marks step 0."""
        if self.config["convention"] == "first":
            return x + first[..., None] * self.W_ih(v)[:, None]
        return torch.cat([x, v[:, None].expand(-1, x.shape[1], -1)], dim=2)

    def step(self, words: torch.Tensor, state: tuple, v: torch.Tensor) -> tuple:
        h, c, first = state
        x = self._inputs(self.embed(words)[:, None], v, first[:, None])
        out, (h, c) = self.lstm(x, (h[None].contiguous(), c[None].contiguous()))
        return self.out(out[:, 0]), (h[0], c[0], torch.zeros_like(first)), None

    def forward(self, images: torch.Tensor, words: torch.Tensor) -> tuple:
        v = self.encode(images)
        h, c, _ = self.init_state(v)
        first = torch.zeros(words.shape, device=words.device)
        first[:, 0] = 1
        out, _ = self.lstm(self._inputs(self.embed(words), v, first), (h[None], c[None]))
        return self.out(out), None


def compare(steps: int = 500, seeds=(0, 1, 2), batch_size: int = 32, lr: float = 3e-3,
            pool: int = 2000, test_scenes: int = 300, log=print, on_run=None) -> dict:
    """Train both conventions with the same steps, batch, lr and seeds; greedy exact match
    and word overlap on ``make_scenes(test_scenes, TEST_SEED)`` and the loss curves.
    ``on_run(result)`` is called after every run (to save partial results)."""
    test = sc.make_scenes(test_scenes, captioning.TEST_SEED)
    images = sc.render_batch(test)
    result = {"settings": dict(steps=steps, seeds=list(seeds), batch_size=batch_size, lr=lr,
                               pool=pool, test_scenes=test_scenes, torch=torch.__version__,
                               threads=torch.get_num_threads()),
              "runs": {c: [] for c in CONVENTIONS}}
    for seed in seeds:
        scenes = sc.make_scenes(pool, seed)  # the training scenes of this seed, made once
        for convention in CONVENTIONS:
            torch.manual_seed(seed)
            model = ConventionCaptioner(convention)
            start = time.process_time()
            losses = captioning.train_captioner(model, steps, batch_size, lr, seed=seed,
                                                scenes=scenes)
            found = captioning.greedy(model, images)
            exact = float(np.mean([c.text in sc.captions(s) for c, s in zip(found, test)]))
            overlap = float(np.mean([sc.word_overlap(c.text, sc.captions(s))
                                     for c, s in zip(found, test)]))
            run = dict(seed=seed, exact_match=exact, word_overlap=overlap,
                       parameters=sum(p.numel() for p in model.parameters()),
                       cpu_seconds=round(time.process_time() - start, 1),
                       loss_every_50=[round(float(np.mean(losses[i:i + 50])), 4)
                                      for i in range(0, len(losses), 50)])
            result["runs"][convention].append(run)
            log(f"seed {seed} {convention}: exact {exact:.3f} overlap {overlap:.3f} "
                f"({run['cpu_seconds']} CPU s)", flush=True)
            if on_run is not None:
                on_run(result)
    return result


def run_comparison(steps: int = 500, seeds=(0, 1, 2), pool: int = 2000, path=RESULTS) -> dict:
    """``compare`` on one thread, written to ``path`` after every run."""
    from rnncourse._io import write_json
    from rnncourse.runtime import threads

    made_by = (f"rnncourse.caption_conventions.run_comparison(steps={steps}, "
               f"seeds={tuple(seeds)}, pool={pool})")

    def save(result):
        write_json(path, {"made_by": made_by, **result})

    with threads(1):
        result = compare(steps, seeds, pool=pool, on_run=save)
    return {"made_by": made_by, **result}
