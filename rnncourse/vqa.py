"""Visual question answering on generated scenes, and the question-only baseline.

As in the VQA slides of [003] (Agrawal et al., "VQA: Visual Question Answering",
ICCV 2015): an LSTM reads the question, a CNN looks at the image, and a classifier
picks the answer from a fixed list (``scenes.ANSWERS``: colours, numbers, yes/no).
The baseline reads the question only: the gap between the two, per question type,
shows how much the model actually looks at the image (a question-only model can still
guess "what colour" at chance and "how many" from the prior).

Train and ship with ``rnncourse vqa`` (``--question-only`` for the baseline).
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rnncourse.captioning import (TEST_SEED, SceneCNN, add_training_arguments, scene_loop,
                                  train_and_ship)
from rnncourse.data import scenes as sc
from rnncourse.training import fit

__all__ = ["VQAModel", "answer", "every_question", "train_vqa", "accuracy_by_type",
           "add_arguments", "run"]

_PAD = sc.WORDS.index(sc.PAD)


class VQAModel(nn.Module):
    """Question LSTM (+ image CNN with two question-guided glimpses) -> MLP -> answers.

    The image enters twice: ``v``, a linear map of the whole CNN grid (enough for
    colours and counts), and two *glimpses*: attention over the grid cells, as in
    show, attend and tell but steered by the question (``e_kl = w^T tanh(W_a a_l +
    W_qk q)`` for glimpse k = 1, 2), each giving the features it looked at and *where*
    it looked (the weighted mean of the cells' coordinates), so that "is the circle left
    of the square ?" could be answered from one glimpse on each shape. (The glimpses
    lift colour questions; in the shipped model's 2,500 steps they did not learn to
    find the two shapes, and spatial questions stay at chance, as with ``v`` alone.)

    Shapes: images ``(N, 3, S, S)``, questions ``(N, T)`` word ids padded with
    ``<PAD>``, question vector ``q`` ``(N, H)``, image vector ``v`` ``(N, F)``, glimpse
    weights ``(N, 2, L)``, logits ``(N, K)`` over ``scenes.ANSWERS``.
    ``use_image=False`` is the baseline: the classifier sees ``q`` alone.
    """

    def __init__(self, image_size: int = 32, embed: int = 32, hidden: int = 128,
                 features: int = 128, channels: int = 32, attention: int = 64,
                 use_image: bool = True):
        super().__init__()
        self.config = dict(image_size=image_size, embed=embed, hidden=hidden, features=features,
                           channels=channels, attention=attention, use_image=use_image)
        self.embed = nn.Embedding(len(sc.WORDS), embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        width = hidden
        if use_image:
            grid = image_size // 4
            self.cnn = SceneCNN(channels)
            self.to_v = nn.Linear(channels * grid * grid, features)
            self.W_a = nn.Linear(channels, attention)
            self.W_q = nn.Linear(hidden, 2 * attention)  # one query per glimpse
            self.w = nn.Linear(attention, 1, bias=False)
            ramp = torch.linspace(-1, 1, grid)
            ys, xs = torch.meshgrid(ramp, ramp, indexing="ij")
            self.register_buffer("cells", torch.stack([xs, ys], dim=2).reshape(-1, 2),
                                 persistent=False)  # (L, 2): each cell's (x, y)
            width += features + 2 * (channels + 2) + 2
        self.classifier = nn.Sequential(nn.Linear(width, 256), nn.ReLU(),
                                        nn.Linear(256, len(sc.ANSWERS)))

    def glimpses(self, grid: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        """Attention weights ``(N, 2, L)`` of the two glimpses over the grid ``(N, L, C)``."""
        queries = self.W_q(q).unflatten(1, (2, -1))  # (N, 2, A)
        scores = self.w(torch.tanh(self.W_a(grid)[:, None] + queries[:, :, None]))  # (N, 2, L, 1)
        return torch.softmax(scores.squeeze(3), dim=2)

    def forward(self, images: torch.Tensor, questions: torch.Tensor) -> torch.Tensor:
        if questions.ndim != 2:
            raise ValueError(f"expected questions of shape (N, T), got {tuple(questions.shape)}")
        out, _ = self.lstm(self.embed(questions))  # (N, T, H)
        last = (questions != _PAD).sum(dim=1) - 1  # index of each question's last word
        q = out[torch.arange(len(questions)), last]  # (N, H)
        if not self.config["use_image"]:
            return self.classifier(q)
        features = self.cnn(images)  # (N, C, G, G)
        v = torch.relu(self.to_v(features.flatten(1)))  # (N, F)
        grid = features.flatten(2).transpose(1, 2)  # (N, L, C)
        alpha = self.glimpses(grid, q)
        seen, where = alpha @ grid, alpha @ self.cells  # (N, 2, C), (N, 2, 2)
        return self.classifier(torch.cat([q, v, seen.flatten(1), where.flatten(1),
                                          where[:, 0] - where[:, 1]], dim=1))


@torch.no_grad()
def answer(model: VQAModel, image, question: str) -> tuple:
    """The model's answer to ``question`` about ``image`` ``(3, S, S)``, and its probability."""
    device = next(model.parameters()).device
    image = torch.as_tensor(image, dtype=torch.float32, device=device)[None]
    words = torch.tensor([sc.encode(question)], device=device)
    p = torch.softmax(model(image, words), dim=1)[0]
    return sc.ANSWERS[int(p.argmax())], float(p.max())


def every_question(scenes: list) -> tuple:
    """Every question about every scene: images ``(N, 3, S, S)`` (one per question),
    questions ``(N, T)``, answer ids ``(N,)`` and types (list of N)."""
    rows = [(i, q) for i, s in enumerate(scenes) for q in sc.questions(s)]
    images = sc.render_batch(scenes)[[i for i, _ in rows]]
    words = [sc.encode(q) for _, (q, _, _) in rows]
    padded = np.full((len(words), max(map(len, words))), _PAD, dtype=np.int64)
    for n, w in enumerate(words):
        padded[n, :len(w)] = w
    answers = np.array([sc.ANSWERS.index(a) for _, (_, a, _) in rows], dtype=np.int64)
    return images, padded, answers, [t for _, (_, _, t) in rows]


def train_vqa(model: VQAModel, steps: int, batch_size: int = 64, lr: float = 2e-3,
              seed: int = 0, pool: int = 6000, log_every: int = 0,
              max_seconds: float | None = None) -> list:
    """Cross-entropy over ``pool`` scenes made with ``seed`` (rendered once; a question
    drawn anew each time a scene is used), one-cycle Adam without clipping
    (``rnncourse.training.fit``); returns the loss of every step."""
    rng = np.random.default_rng(seed)
    device = next(model.parameters()).device
    scenes = sc.make_scenes(pool, seed, model.config["image_size"])
    use_image = model.config["use_image"]
    images = torch.from_numpy(sc.render_batch(scenes)).to(device) if use_image else None

    def next_loss(step):
        index = rng.permutation(pool)[:batch_size]
        words, answers, _ = sc.question_tokens([scenes[i] for i in index], rng)
        batch = images[torch.from_numpy(index).to(device)] if use_image else None
        logits = model(batch, torch.from_numpy(words).to(device))
        return F.cross_entropy(logits, torch.from_numpy(answers).to(device))

    return fit(model, next_loss, scene_loop(steps, lr, None, log_every, max_seconds))


@torch.no_grad()
def accuracy_by_type(model: VQAModel, scenes: list, batch_size: int = 512) -> dict:
    """Accuracy over every question about ``scenes``, per type and ``"all"``."""
    images, words, answers, types = every_question(scenes)
    device = next(model.parameters()).device
    model.eval()
    predicted = np.concatenate([
        model(torch.from_numpy(images[i:i + batch_size]).to(device),
              torch.from_numpy(words[i:i + batch_size]).to(device)).argmax(1).cpu().numpy()
        for i in range(0, len(words), batch_size)])
    right, types = predicted == answers, np.array(types)
    result = {t: float(right[types == t].mean()) for t in sc.QUESTION_TYPES if (types == t).any()}
    result["all"] = float(right.mean())
    return result


def add_arguments(parser) -> None:
    """``rnncourse vqa``: train a VQA model (or the baseline) and ship it."""
    parser.add_argument("--question-only", action="store_true", help="the baseline without image")
    add_training_arguments(parser, lr=2e-3)


def run(args) -> int:
    torch.manual_seed(args.seed)
    test = sc.make_scenes(args.test_scenes, TEST_SEED, args.image_size)
    train_and_ship(args, "vqa",
                   VQAModel(image_size=args.image_size, use_image=not args.question_only),
                   lambda model: train_vqa(model, args.steps, args.batch_size, args.lr, args.seed,
                                           args.pool, args.log_every, 60 * args.max_minutes),
                   lambda model: {f"test_{k}_accuracy_fraction": v
                                  for k, v in accuracy_by_type(model, test).items()},
                   args.name or ("vqa_question_only" if args.question_only else "vqa_image"))
    return 0
