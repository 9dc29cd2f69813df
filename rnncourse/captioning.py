"""Image captioning on generated scenes: a CNN encoder and an LSTM decoder that the
image conditions, with greedy and beam search, then "show, attend and tell".

[003] conditions a vanilla RNN on the image's CNN feature vector ``v`` by one extra
term in its step:

    before:  h = tanh(W_xh x + W_hh h)
    now:     h = tanh(W_xh x + W_hh h + W_ih v)

``Captioner`` does the same with an LSTM: every gate sees ``W_ih v`` (we feed the
concatenation ``[x_t, v]``, whose weight matrix is ``[W_xh | W_ih]``), and ``v``
also sets the initial state ``h_0, c_0``. Sampling stops at ``<END>``; a caption's
log-probability is the sum of its words' log-probabilities, ``<END>`` included
(the slides print "logprob: -7.61").

``AttentionCaptioner`` follows Xu et al., "Show, Attend and Tell" (ICML 2015) [002]:
instead of one vector, the decoder looks at the CNN's spatial grid ``a_1..a_L`` and at
each word computes weights ``alpha_t = softmax_l(w^T tanh(W_a a_l + W_ha h_{t-1}))``,
the context ``z_t = sum_l alpha_tl a_l``, and feeds ``[x_t, z_t]`` to the LSTM. The
weights are returned per word, to be drawn over the image; ``attention_grounding``
measures whether they fall on what the word names. They are crisp when the caption says
where to look: trained on the caption that names the groups from left to right
(``caption_order="left-to-right"``), not on one drawn in any order (notebook 11,
``crowded_report``, ``crowded_study``).

Both models expose ``encode`` / ``init_state`` / ``step``, so ``greedy``,
``beam_search`` and ``caption_log_prob`` work for either. Train and ship with
``rnncourse captioner --model plain`` (or ``attention``).
"""

import argparse
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rnncourse.cli import (command_line, non_negative_float, non_negative_int, positive_float,
                           positive_int)
from rnncourse import decoding
from rnncourse.data import scenes as sc
from rnncourse.decoding import greedy_search, select
from rnncourse.runtime import threads
from rnncourse.training import LoopConfig, fit

__all__ = ["SceneCNN", "Captioner", "AttentionCaptioner", "Caption", "greedy",
           "beam_search", "caption_log_prob", "attention_coverage_penalty",
           "train_captioner", "scene_loop", "evaluate_captions", "attention_grounding",
           "crowded_report", "crowded_study", "CROWDED", "CROWDED_RESULTS",
           "add_training_arguments", "train_and_ship", "scenes_data", "TEST_SEED",
           "add_arguments", "run"]

TEST_SEED = 10_000  # test scenes: make_scenes(n, TEST_SEED); training uses other seeds
CROWDED = dict(image_size=48, max_shapes=5, min_shapes=3)  # the crowded scenes of notebook 11
CROWDED_RESULTS = Path(__file__).parent / "results" / "captioner_crowded_seeds.json"
_START, _END, _PAD = (sc.WORDS.index(w) for w in (sc.START, sc.END, sc.PAD))


class SceneCNN(nn.Module):
    """Three 3x3 conv layers and two 2x2 max-pools: ``(N, 3, S, S) -> (N, C, S/4, S/4)``.

    Two coordinate channels (x and y in [-1, 1]) are appended to the image, so each
    grid cell's features say where it is: attention's weighted sum keeps the position.
    """

    def __init__(self, channels: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(5, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, channels, 3, padding=1), nn.ReLU(),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images of shape (N, 3, S, S), got {tuple(images.shape)}")
        N, _, S, _ = images.shape
        ramp = torch.linspace(-1, 1, S, device=images.device, dtype=images.dtype)
        ys, xs = torch.meshgrid(ramp, ramp, indexing="ij")
        coords = torch.stack([xs, ys]).expand(N, 2, S, S)
        return self.net(torch.cat([images, coords], dim=1))  # (N, C, S/4, S/4)


class Captioner(nn.Module):
    """CNN + LSTM decoder conditioned on ``v`` at every step and through ``h_0, c_0``.

    Shapes: images ``(N, 3, S, S)``, words ``(N, T)`` ids into ``scenes.WORDS`` (size V),
    ``v`` ``(N, F)``, hidden ``(N, H)``, logits ``(N, T, V)``.
    """

    def __init__(self, image_size: int = 32, embed_dim: int = 32, features: int = 128,
                 hidden_size: int = 128, channels: int = 32):
        super().__init__()
        self.config = dict(image_size=image_size, embed_dim=embed_dim, features=features,
                           hidden_size=hidden_size, channels=channels)
        V, grid = len(sc.WORDS), image_size // 4
        self.cnn = SceneCNN(channels)
        self.to_v = nn.Linear(channels * grid * grid, features)  # keeps where things are
        self.embed = nn.Embedding(V, embed_dim)
        self.init_h = nn.Linear(features, hidden_size)
        self.init_c = nn.Linear(features, hidden_size)
        # weight_ih_l0 is [W_xh | W_ih]: input [x_t, v] (gate order i, f, g, o)
        self.lstm = nn.LSTM(embed_dim + features, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, V)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """The image vector ``v`` ``(N, F)``."""
        return torch.relu(self.to_v(self.cnn(images).flatten(1)))

    def init_state(self, v: torch.Tensor) -> tuple:
        return torch.tanh(self.init_h(v)), self.init_c(v)  # (N, H) each

    def step(self, words: torch.Tensor, state: tuple, v: torch.Tensor) -> tuple:
        """One word ``(N,)`` in: logits ``(N, V)``, the new state, and no attention."""
        x = torch.cat([self.embed(words), v], dim=1)[:, None]  # (N, 1, E + F)
        h, c = state
        out, (h, c) = self.lstm(x, (h[None].contiguous(), c[None].contiguous()))
        return self.out(out[:, 0]), (h[0], c[0]), None

    def forward(self, images: torch.Tensor, words: torch.Tensor) -> tuple:
        """Teacher forcing: logits ``(N, T, V)`` for the next word after each of ``words``."""
        v = self.encode(images)
        h, c = self.init_state(v)
        x = torch.cat([self.embed(words), v[:, None].expand(-1, words.shape[1], -1)], dim=2)
        out, _ = self.lstm(x, (h[None], c[None]))  # (N, T, H)
        return self.out(out), None


class AttentionCaptioner(nn.Module):
    """Show, attend and tell: an LSTM that attends over the CNN grid at every word.

    Shapes: grid ``a`` ``(N, L, C)`` with ``L = (S/4)^2`` cells, weights ``alpha``
    ``(N, T, L)`` summing to one over ``L``.
    """

    def __init__(self, image_size: int = 32, embed_dim: int = 32, attention: int = 64,
                 hidden_size: int = 128, channels: int = 32):
        super().__init__()
        self.config = dict(image_size=image_size, embed_dim=embed_dim, attention=attention,
                           hidden_size=hidden_size, channels=channels)
        V = len(sc.WORDS)
        self.cnn = SceneCNN(channels)
        self.embed = nn.Embedding(V, embed_dim)
        self.W_a = nn.Linear(channels, attention)
        self.W_ha = nn.Linear(hidden_size, attention, bias=False)
        self.w = nn.Linear(attention, 1, bias=False)
        self.init_h = nn.Linear(channels, hidden_size)
        self.init_c = nn.Linear(channels, hidden_size)
        self.cell = nn.LSTMCell(embed_dim + channels, hidden_size)
        self.out = nn.Linear(hidden_size + channels, V)

    def encode(self, images: torch.Tensor) -> tuple:
        """The grid ``a`` ``(N, L, C)`` and its projection ``W_a a`` ``(N, L, A)``."""
        a = self.cnn(images).flatten(2).transpose(1, 2)  # (N, L, C)
        return a, self.W_a(a)

    def init_state(self, memory: tuple) -> tuple:
        mean = memory[0].mean(dim=1)  # (N, C)
        return torch.tanh(self.init_h(mean)), self.init_c(mean)

    def step(self, words: torch.Tensor, state: tuple, memory: tuple) -> tuple:
        """One word ``(N,)`` in: logits ``(N, V)``, the new state, weights ``alpha`` ``(N, L)``."""
        a, keys = memory
        h, c = state
        scores = self.w(torch.tanh(keys + self.W_ha(h)[:, None])).squeeze(2)  # (N, L)
        alpha = torch.softmax(scores, dim=1)
        z = (alpha[:, :, None] * a).sum(dim=1)  # (N, C)
        h, c = self.cell(torch.cat([self.embed(words), z], dim=1), (h, c))
        return self.out(torch.cat([h, z], dim=1)), (h, c), alpha

    def forward(self, images: torch.Tensor, words: torch.Tensor) -> tuple:
        """Teacher forcing: logits ``(N, T, V)`` and weights ``(N, T, L)``."""
        memory = self.encode(images)
        state = self.init_state(memory)
        logits, alphas = [], []
        for t in range(words.shape[1]):
            out, state, alpha = self.step(words[:, t], state, memory)
            logits.append(out)
            alphas.append(alpha)
        return torch.stack(logits, dim=1), torch.stack(alphas, dim=1)


class Caption(NamedTuple):
    """A generated caption: its text, word ids (``<END>`` last when it ended), total
    log-probability, and attention weights ``(T, L)`` per generated word (or None)."""
    text: str
    ids: list
    log_prob: float
    attention: np.ndarray | None


def _as_batch(images) -> torch.Tensor:
    images = torch.as_tensor(images, dtype=torch.float32)
    return images[None] if images.ndim == 3 else images


def _decoder(model: nn.Module, memory):
    """The ``rnncourse.decoding`` protocol for these images: ``step(words, state)``.
    The memory of one image is shared by every hypothesis of a beam."""
    rows = (memory[0] if isinstance(memory, tuple) else memory).shape[0]

    def step(words, state):
        B = words.shape[0]
        mem = memory if B == rows else select(memory, torch.zeros(B, dtype=torch.long))
        logits, state, alpha = model.step(words, state, mem)
        return torch.log_softmax(logits, dim=1), state, alpha
    return step


def _caption(hyp) -> Caption:
    attention = torch.stack(hyp.attention).cpu().numpy() if hyp.attention else None  # (T, L)
    return Caption(sc.decode(hyp.tokens), hyp.tokens, hyp.log_prob, attention)


@torch.no_grad()
def greedy(model: nn.Module, images, max_len: int = 24) -> list:
    """The most likely next word at each step until ``<END>``, for each image ``(N, 3, S, S)``."""
    device = next(model.parameters()).device
    memory = model.encode(_as_batch(images).to(device))
    hyps = greedy_search(_decoder(model, memory), model.init_state(memory), _START, _END, max_len)
    return [_caption(hyp) for hyp in hyps]


@torch.no_grad()
def beam_search(model: nn.Module, image, beam_size: int = 3, max_len: int = 24) -> Caption:
    """The caption of highest total log-probability that beam search finds
    (``rnncourse.decoding.beam_search``; ``beam_size=1`` is exactly ``greedy``)."""
    device = next(model.parameters()).device
    memory = model.encode(_as_batch(image).to(device))
    hyp = decoding.beam_search(_decoder(model, memory), model.init_state(memory), _START, _END,
                               beam_size, max_len)
    return _caption(hyp)


def caption_log_prob(model: nn.Module, images, words) -> torch.Tensor:
    """Log-probability ``(N,)`` of each caption ``words`` ``(N, T)`` (``<START> ... <END>``,
    padded with ``<PAD>``) given its image: the sum over its words and ``<END>``."""
    images = _as_batch(images)
    words = torch.as_tensor(words, dtype=torch.long)
    logits, _ = model(images, words[:, :-1])
    logp = torch.log_softmax(logits, dim=2).gather(2, words[:, 1:, None])[:, :, 0]  # (N, T-1)
    return (logp * (words[:, 1:] != _PAD)).sum(dim=1)


def attention_coverage_penalty(alphas: torch.Tensor, words: torch.Tensor) -> torch.Tensor:
    """Show, attend and tell's doubly stochastic regulariser, ``sum_l (1 - sum_t
    alpha_tl)^2`` averaged over the captions: each grid cell should receive, over the
    whole caption, about one unit of attention (``alphas`` ``(N, T, L)`` for the inputs
    ``words`` ``(N, T)``; steps whose target is ``<PAD>`` do not count)."""
    real = (words[:, 1:] != _PAD).to(alphas.dtype)  # (N, T): the step has a real target
    coverage = (alphas * real[:, :, None]).sum(dim=1)  # (N, L)
    return ((1 - coverage) ** 2).sum(dim=1).mean()


def _loss(model, images, words, attention_penalty: float = 0.0):
    logits, alphas = model(images, words[:, :-1])
    loss = F.cross_entropy(logits.flatten(0, 1), words[:, 1:].flatten(), ignore_index=_PAD)
    if attention_penalty and alphas is not None:
        loss = loss + attention_penalty * attention_coverage_penalty(alphas, words)
    return loss


def train_captioner(model: nn.Module, steps: int, batch_size: int = 64, lr: float = 2e-3,
                    seed: int = 0, scenes: list | None = None, pool: int = 6000,
                    log_every: int = 0, max_seconds: float | None = None,
                    attention_penalty: float = 0.0, max_shapes: int = 3,
                    min_shapes: int = 1, caption_order: str = "random") -> list:
    """Teacher forcing with cross-entropy, Adam with a one-cycle learning rate, gradients
    clipped to norm 1 (``rnncourse.training.fit``); returns the loss of every step.

    Batches come from ``scenes``, or from ``pool`` scenes made with ``seed`` (and
    ``min_shapes..max_shapes`` shapes each); images are rendered once, and every time a
    scene is used a caption is drawn anew (``caption_order``: any valid caption, or the
    one that names the shapes from left to right, ``scenes.CAPTION_ORDERS``).
    ``attention_penalty`` is the weight lambda of ``attention_coverage_penalty`` (models
    that return attention weights only).
    """
    rng = np.random.default_rng(seed)
    device = next(model.parameters()).device
    if scenes is None:
        scenes = sc.make_scenes(pool, seed, model.config["image_size"], max_shapes, min_shapes)
    images = torch.from_numpy(sc.render_batch(scenes)).to(device)  # (P, 3, S, S)

    def next_loss(step):
        index = rng.permutation(len(scenes))[:batch_size]
        words = sc.caption_tokens([scenes[i] for i in index], rng, caption_order)
        return _loss(model, images[torch.from_numpy(index).to(device)],
                     torch.from_numpy(words).to(device), attention_penalty)

    return fit(model, next_loss, scene_loop(steps, lr, 1.0, log_every, max_seconds))


def scene_loop(steps: int, lr: float, clip: float | None, log_every: int,
               max_seconds: float | None) -> LoopConfig:
    """The loop settings of the scene models (captioner, VQA): one-cycle Adam."""
    return LoopConfig(steps=steps, lr=lr, clip=clip, schedule="one-cycle", log_every=log_every,
                      max_minutes=None if max_seconds is None else max_seconds / 60)


def evaluate_captions(model: nn.Module, scenes: list, beam_size: int = 1) -> dict:
    """Exact match (the caption is one of the valid ones), best word-overlap F1, and
    mean log-probability, of greedy (``beam_size=1``) or beam-search captions."""
    images = sc.render_batch(scenes)
    if beam_size == 1:
        found = greedy(model, images)
    else:
        found = [beam_search(model, image, beam_size) for image in images]
    pairs = [(c.text, sc.captions(s)) for c, s in zip(found, scenes)]
    return dict(exact_match_fraction=float(np.mean([text in refs for text, refs in pairs])),
                word_overlap_fraction=float(np.mean([sc.word_overlap(text, refs)
                                                     for text, refs in pairs])),
                mean_log_prob_nats_per_caption=float(np.mean([c.log_prob for c in found])))


def attention_grounding(scenes: list, found: list) -> dict:
    """Does an attention captioner look at what it names? For every group a caption
    names ("two blue squares": a colour word, then a shape word, present in the scene),
    the share of the weight on that group's grid cells (a cell counts when any of its
    pixels is inside a shape of the group) at the step that writes the colour word and at
    the step that writes the shape word, and the share uniform attention would give it
    (the group's fraction of the cells). Also, over every generated word: the largest
    weight, and the entropy of the weights in nats (``log L`` when uniform). The shares are
    nan when no caption names a group of its scene. ``found``: the captions (``Caption``,
    with attention) of ``scenes``, in order."""
    share = {"colour_word": [], "shape_word": [], "uniform": []}
    peaks, entropies = [], []
    for scene, cap in zip(scenes, found):
        alpha = cap.attention  # (T, L)
        grid = int(round(np.sqrt(alpha.shape[1])))
        cell = scene.image_size // grid
        peaks.extend(alpha.max(axis=1))
        entropies.extend(-(alpha * np.log(np.clip(alpha, 1e-12, None))).sum(axis=1))
        words = cap.text.split()
        for t in range(1, len(words)):
            named = [s for s in scene.shapes
                     if s.colour == words[t - 1] and words[t] in (s.shape, s.shape + "s")]
            if not named:
                continue  # not a shape word, or it names a group that is not there
            mask = np.any([sc.shape_mask(s, scene.image_size) for s in named], axis=0)
            cells = mask.reshape(grid, cell, grid, cell).any(axis=(1, 3)).flatten()
            share["colour_word"].append(alpha[t - 1][cells].sum())
            share["shape_word"].append(alpha[t][cells].sum())
            share["uniform"].append(cells.mean())
    return {**{k: float(np.mean(v)) if v else float("nan") for k, v in share.items()},
            "largest_weight": float(np.mean(peaks)), "entropy_nats": float(np.mean(entropies))}


def crowded_report(model: nn.Module, scenes: list, found: list | None = None) -> dict:
    """What notebook 11 measures of a captioner on crowded ``scenes``: greedy exact match
    and word overlap, both per number of shapes too, the cost in nats per word of each
    scene's left-to-right caption (``scenes.reading_order_caption``), and for an attention
    model ``attention_grounding``. ``found``: the model's greedy captions of ``scenes``,
    when they are already decoded."""
    device = next(model.parameters()).device
    images = sc.render_batch(scenes)
    found = greedy(model, images) if found is None else found
    valid = [sc.captions(s) for s in scenes]
    exact = np.array([c.text in refs for c, refs in zip(found, valid)])
    overlap = np.array([sc.word_overlap(c.text, refs) for c, refs in zip(found, valid)])
    shapes = np.array([len(s.shapes) for s in scenes])
    reading = torch.from_numpy(sc.caption_tokens(scenes, np.random.default_rng(0),
                                                 "left-to-right")).to(device)
    with torch.no_grad():
        log_p = caption_log_prob(model, torch.from_numpy(images).to(device), reading)
    report = {"exact_match": float(exact.mean()), "word_overlap": float(overlap.mean()),
              "by_shapes": {int(n): {"exact_match": float(exact[shapes == n].mean()),
                                     "word_overlap": float(overlap[shapes == n].mean())}
                            for n in sorted(set(shapes))},
              "reading_order_nats_per_word": float(-log_p.sum() / (reading[:, 1:] != _PAD).sum())}
    if found[0].attention is not None:
        report["grounding"] = attention_grounding(scenes, found)
    return report


def crowded_study(seeds=(1, 2), steps: int = 3000, models=("plain", "attention"),
                  test_scenes: int = 100, path=CROWDED_RESULTS) -> dict:
    """Train the crowded captioners of notebook 11 again with other ``seeds`` (the recipe of
    the shipped seed-0 models: ``rnncourse captioner --model MODEL --caption-order
    left-to-right --steps 3000 --batch-size 32 --lr 0.003 --image-size 48 --max-shapes 5
    --min-shapes 3 --pool 4000``), on one thread, and write ``crowded_report`` on the first
    ``test_scenes`` unseen scenes to ``path`` after every run."""
    from rnncourse._io import write_json

    made_by = (f"rnncourse.captioning.crowded_study(seeds={tuple(seeds)}, steps={steps}, "
               f"models={tuple(models)}, test_scenes={test_scenes})")
    test = sc.make_scenes(test_scenes, TEST_SEED, **CROWDED)
    result = {"made_by": made_by, "runs": []}
    with threads(1):
        for seed in seeds:
            for kind in models:
                torch.manual_seed(seed)
                model = (Captioner if kind == "plain" else AttentionCaptioner)(
                    image_size=CROWDED["image_size"])
                start = time.process_time()
                losses = train_captioner(model, steps, 32, 3e-3, seed, pool=4000,
                                         caption_order="left-to-right",
                                         max_shapes=CROWDED["max_shapes"],
                                         min_shapes=CROWDED["min_shapes"])
                model.eval()
                result["runs"].append({"model": kind, "seed": seed, "steps": len(losses),
                                       "cpu_seconds": round(time.process_time() - start, 1),
                                       **crowded_report(model, test)})
                write_json(path, result)
    return result


def add_training_arguments(parser: argparse.ArgumentParser, lr: float, steps: int = 3000,
                           max_minutes: float = 12.0) -> None:
    """The options every scene-model verb shares (``rnncourse captioner``, ``rnncourse vqa``)."""
    parser.add_argument("--steps", type=positive_int, default=steps, help="optimiser steps")
    parser.add_argument("--batch-size", type=positive_int, default=64)
    parser.add_argument("--lr", type=positive_float, default=lr, help="peak learning rate")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument("--image-size", type=positive_int, default=32, help="pixels per side")
    parser.add_argument("--max-shapes", type=positive_int, default=3,
                        help="shapes per scene, at most (4 or 5 need --image-size 48)")
    parser.add_argument("--min-shapes", type=positive_int, default=1,
                        help="shapes per scene, at least")
    parser.add_argument("--pool", type=positive_int, default=6000, help="training scenes")
    parser.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads")
    parser.add_argument("--max-minutes", type=positive_float, default=max_minutes,
                        help="stop early when training takes longer (the record says the "
                             "steps done)")
    parser.add_argument("--test-scenes", type=positive_int, default=500)
    parser.add_argument("--log-every", type=non_negative_int, default=100)
    parser.add_argument("--name", default=None, help="name of the shipped model (default: "
                        "captioner_MODEL, vqa_image or vqa_question_only)")


def train_and_ship(args, verb: str, model: nn.Module, train, evaluate, name: str,
                   loss_name: str = "") -> dict:
    """Run ``train(model) -> losses`` on ``args.threads`` threads, then save the model to
    ``rnncourse/pretrained`` with its ``Record``: the command (``rnncourse VERB`` with
    every option spelled out), seed, steps done, wall and CPU time, the sha256 of the
    training and test scenes, and ``evaluate(model) -> metrics`` (plus the mean training
    loss of the last 50 steps, ``train_final_loss{loss_name}_<unit>``)."""
    from rnncourse import pretrained

    with threads(args.threads):
        start, cpu = time.time(), time.process_time()
        losses = train(model)
        seconds, cpu = time.time() - start, time.process_time() - cpu
        metrics = evaluate(model)
    print(metrics)
    record = pretrained.Record(
        builder=f"{type(model).__module__}:{type(model).__name__}", config=model.config,
        training={
            "command": command_line(verb, args, leave_out=("threads", "max_minutes", "log_every")),
            "seed": args.seed, "steps": len(losses),
            "hyperparameters": {"steps": args.steps, "batch_size": args.batch_size,
                                "lr": args.lr, "schedule": "one-cycle", "optimizer": "Adam"},
            "data": scenes_data(args.pool, args.seed, args.test_scenes, args.image_size,
                                args.max_shapes, args.min_shapes),
            "device": str(next(model.parameters()).device), "torch": torch.__version__,
            "wall_time_s": round(seconds, 1), "cpu_time_s": round(cpu, 1),
            "threads": args.threads,
        },
        metrics={**metrics, f"train_final_loss{loss_name}_{_LOSS_UNIT[verb]}":
                 float(np.mean(losses[-50:]))})
    pretrained.save(name, model, record)
    return metrics


_LOSS_UNIT = {"captioner": "nats_per_word", "vqa": "nats_per_question"}


def scenes_data(pool: int, seed: int, test_scenes: int, image_size: int, max_shapes: int = 3,
                min_shapes: int = 1) -> dict:
    """The ``data`` entry of a scene model's record: what the scenes are, and the sha256 of
    the training and test scene descriptions (``scenes.scenes_sha256``)."""
    shapes = "" if (max_shapes, min_shapes) == (3, 1) else f", {max_shapes}, {min_shapes}"
    return {"description": f"rnncourse.data.scenes.make_scenes({pool}, {seed}, {image_size}"
                           f"{shapes}) for training, make_scenes({test_scenes}, {TEST_SEED}, "
                           f"{image_size}{shapes}) for testing",
            "sha256": {"train": sc.scenes_sha256(sc.make_scenes(pool, seed, image_size,
                                                                max_shapes, min_shapes)),
                       "test": sc.scenes_sha256(sc.make_scenes(test_scenes, TEST_SEED,
                                                               image_size, max_shapes,
                                                               min_shapes))}}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``rnncourse captioner``: train a captioner and ship it."""
    parser.add_argument("--model", choices=["plain", "attention"], default="plain")
    parser.add_argument("--hidden-size", type=positive_int, default=128, help="LSTM hidden size H")
    parser.add_argument("--attention-penalty", type=non_negative_float, default=0.0,
                        help="lambda of show, attend and tell's doubly stochastic regulariser "
                             "(attention model only)")
    parser.add_argument("--caption-order", choices=sc.CAPTION_ORDERS, default="random",
                        help="which valid caption trains: any, drawn anew each time, or the one "
                             "that names the shapes from left to right")
    add_training_arguments(parser, lr=3e-3)


def run(args) -> int:
    torch.manual_seed(args.seed)
    cls = Captioner if args.model == "plain" else AttentionCaptioner
    if args.attention_penalty and args.model == "plain":
        raise SystemExit("--attention-penalty needs --model attention")
    test = sc.make_scenes(args.test_scenes, TEST_SEED, args.image_size, args.max_shapes,
                          args.min_shapes)

    def evaluate(model):
        metrics = {f"test_greedy_{k}": v for k, v in evaluate_captions(model, test).items()}
        metrics.update({f"test_beam3_{k}": v
                        for k, v in evaluate_captions(model, test, 3).items()})
        return metrics

    model = cls(image_size=args.image_size, hidden_size=args.hidden_size)
    train_and_ship(args, "captioner", model,
                   lambda model: train_captioner(model, args.steps, args.batch_size, args.lr,
                                                 args.seed, pool=args.pool,
                                                 log_every=args.log_every,
                                                 max_seconds=60 * args.max_minutes,
                                                 attention_penalty=args.attention_penalty,
                                                 max_shapes=args.max_shapes,
                                                 min_shapes=args.min_shapes,
                                                 caption_order=args.caption_order),
                   evaluate, args.name or f"captioner_{args.model}",
                   "_with_penalty" if args.attention_penalty else "")
    return 0
