"""Visual question answering on generated scenes, and the question-only baseline.

As in the VQA slides of [003] (Agrawal et al., "VQA: Visual Question Answering",
ICCV 2015): an LSTM reads the question, a CNN looks at the image, and a classifier
picks the answer from a fixed list (``scenes.ANSWERS``: colours, numbers, yes/no,
shape kinds).
The baseline reads the question only: the gap between the two, per question type,
shows how much the model actually looks at the image (a question-only model can still
guess "what colour" at chance and "how many" from the prior).

Train and ship with ``rnncourse vqa`` (``--question-only`` for the baseline).
"""

import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rnncourse.captioning import (TEST_SEED, SceneCNN, add_training_arguments, scene_loop,
                                  train_and_ship)
from rnncourse.data import scenes as sc
from rnncourse.data.seq_batching import pad
from rnncourse.training import fit

__all__ = ["VQAModel", "answer", "every_question", "train_vqa", "predict", "accuracy_by_type",
           "seed_study", "SEED_RESULTS", "add_arguments", "run"]

SEED_RESULTS = Path(__file__).parent / "results" / "vqa_seeds.json"

_PAD = sc.WORDS.index(sc.PAD)


class VQAModel(nn.Module):
    """Question LSTM + image CNN, every word grounded in the image, a bilinear comparison,
    and how far each shape kind is from the shape the question names.

    1. An LSTM reads the question: states ``h_t``, last state ``q`` ``(N, H)``.
    2. Every word looks for itself in the CNN grid ``a_1..a_L`` (a glimpse per word):
       ``alpha_tl = softmax_l(s * (W_q e_t) . k_l)``, ``e_t`` the word's embedding, ``s`` a
       learned sharpness and ``k_l = W_k relu(conv(a)_l)`` the cell's key, from a trainable
       3x3 convolution over the grid (which kind covers a cell shows in the cell and its
       neighbours, not in the cell's features alone); the glimpse returns what it saw,
       ``z_t = sum_l alpha_tl a_l``, and *where*, ``p_t = sum_l alpha_tl (x_l, y_l)``.
       "circle" finds the circle whatever the question around it.
    3. Signed word weights ``g_mt = tanh(u_m . [e_t, h_t])`` (m = 1..M, from what the word
       is and where it stands in the question) combine the positions, ``Delta_m = sum_t
       g_mt p_t``: +1 on "circle" and -1 on "square" gives ``p_circle - p_square``.
    4. A bilinear comparison ``r_m = d_m(q) . Delta_m``, with ``M`` 2-d directions chosen by
       the question (``"left of"`` should give about (-1, 0)): "is A left of B ?" is one
       product away from the positions. (Without it the answer is an XOR of the relation
       word and the sign of ``x_A - x_B``, which an MLP learns slowly.)
    5. Nearest: each shape kind ``k`` looks for itself as its word would (the glimpse of
       ``e_k``), at ``p_k``, found with strength ``m_k = logsumexp_l s (W_q e_k) . k_l``.
       The question names a kind, the one whose word matches a word of the question,
       ``gamma = softmax_k(s_m max_t cos(e_t, e_k))`` (``s_m`` learned); its position is the
       anchor ``P = sum_k gamma_k p_k``, and ``d_k = |p_k - P|^2`` each kind's squared
       distance to it. A soft choice of the nearest other kind, ``near = softmax_k(log(1 -
       gamma_k) - lambda d_k)`` (``lambda`` learned): "what is nearest to the circle ?"
       is answered by ``near``.
    6. An MLP classifies ``[q, v, z, r, m, near]``: ``v`` a linear map of the whole grid,
       ``z = sum_t sigmoid(c . [e_t, h_t]) z_t`` what the question's words saw.

    ``use_image=False`` is the question-only baseline: the classifier sees ``q`` alone.
    Shapes: images ``(B, 3, S, S)``, questions ``(N, T)`` word ids padded with ``<PAD>``,
    ``scene_of`` ``(N,)`` the image of each question (default: question n asks about image
    n, ``B = N``), logits ``(N, K)`` over ``scenes.ANSWERS``.
    """

    def __init__(self, image_size: int = 32, embed_dim: int = 32, hidden_size: int = 128,
                 features: int = 128, channels: int = 32, attention: int = 32,
                 directions: int = 8, use_image: bool = True):
        super().__init__()
        self.config = dict(image_size=image_size, embed_dim=embed_dim, hidden_size=hidden_size,
                           features=features, channels=channels, attention=attention,
                           directions=directions, use_image=use_image)
        self.embed = nn.Embedding(len(sc.WORDS), embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, batch_first=True)
        width = hidden_size
        if use_image:
            grid = image_size // 4
            self.cnn = SceneCNN(channels)
            self.to_v = nn.Linear(channels * grid * grid, features)
            self.W_q = nn.Linear(embed_dim, attention)
            self.W_k = nn.Linear(channels, attention)
            self.log_sharpness = nn.Parameter(torch.tensor(math.log(4.0)))
            self.signs = nn.Linear(embed_dim + hidden_size, directions)  # u_1..u_M
            self.seen = nn.Linear(embed_dim + hidden_size, 1)  # c
            self.W_d = nn.Linear(hidden_size, directions * 2)
            self.local = nn.Conv2d(channels, channels, 3, padding=1)
            self.register_buffer("kinds", torch.tensor([sc.WORDS.index(k) for k in sc.SHAPES]),
                                 persistent=False)  # (K,): the words "circle", "square", ...
            self.log_match = nn.Parameter(torch.tensor(math.log(10.0)))
            self.log_reach = nn.Parameter(torch.tensor(math.log(10.0)))  # log lambda
            ramp = torch.linspace(-1, 1, grid)
            ys, xs = torch.meshgrid(ramp, ramp, indexing="ij")
            self.register_buffer("cells", torch.stack([xs, ys], dim=2).reshape(-1, 2),
                                 persistent=False)  # (L, 2): each cell's (x, y)
            width += features + channels + directions + 2 * len(sc.SHAPES)
        self.classifier = nn.Sequential(nn.Linear(width, 256), nn.ReLU(),
                                        nn.Linear(256, len(sc.ANSWERS)))

    def read_question(self, questions: torch.Tensor) -> tuple:
        """Embeddings ``(N, T, E)``, LSTM states ``(N, T, H)``, ``q`` ``(N, H)``, real-word mask."""
        if questions.ndim != 2:
            raise ValueError(f"expected questions of shape (N, T), got {tuple(questions.shape)}")
        e = self.embed(questions)
        out, _ = self.lstm(e)
        real = questions != _PAD
        q = out[torch.arange(len(questions)), real.sum(dim=1) - 1]  # the last real word's state
        return e, out, q, real

    def glimpses(self, images: torch.Tensor, questions: torch.Tensor, scene_of=None) -> dict:
        """Everything the image path computes: each word's glimpse ``alpha`` ``(N, T, L)``
        and position ``p`` ``(N, T, 2)`` (x, y in [-1, 1]), signed word weights ``g``
        ``(N, M, T)`` (0 on ``<PAD>``), combined positions ``Delta`` ``(N, M, 2)``, the
        question's directions ``D`` ``(N, M, 2)``, the comparison ``r`` ``(N, M)``, what
        the words saw ``z`` ``(N, C)``, the nearest step's values (``nearest``), ``v``
        ``(N, F)`` and ``q`` ``(N, H)``."""
        e, out, q, real = self.read_question(questions)
        if scene_of is None:
            scene_of = torch.arange(len(questions), device=questions.device)
        features = self.cnn(images)  # (B, C, G, G)
        v = torch.relu(self.to_v(features.flatten(1)))[scene_of]  # (N, F)
        grid = features.flatten(2).transpose(1, 2)[scene_of]  # (N, L, C)
        keys = self.cell_keys(features)[scene_of]  # (N, L, A)
        scores = self.log_sharpness.exp() * self.W_q(e) @ keys.transpose(1, 2)
        alpha = torch.softmax(scores, dim=2)  # (N, T, L)
        p, z_t = alpha @ self.cells, alpha @ grid  # (N, T, 2), (N, T, C)
        words = torch.cat([e, out], dim=2)  # what each word is, and where it stands
        mask = real[:, None].to(e.dtype)  # (N, 1, T)
        g = torch.tanh(self.signs(words)).transpose(1, 2) * mask  # (N, M, T)
        Delta = g @ p  # (N, M, 2)
        D = self.W_d(q).unflatten(1, (-1, 2))  # (N, M, 2)
        z = ((torch.sigmoid(self.seen(words)).transpose(1, 2) * mask) @ z_t)[:, 0]  # (N, C)
        return dict(alpha=alpha, p=p, g=g, Delta=Delta, D=D, r=(D * Delta).sum(dim=2), z=z,
                    nearest=self.nearest(e, real, keys), v=v, q=q)

    def cell_keys(self, features: torch.Tensor) -> torch.Tensor:
        """Each cell's key ``k_l = W_k relu(conv(a)_l)`` ``(B, L, A)`` from the CNN grid
        ``(B, C, G, G)``."""
        return self.W_k(torch.relu(self.local(features)).flatten(2).transpose(1, 2))

    def nearest(self, e: torch.Tensor, real: torch.Tensor, keys: torch.Tensor) -> dict:
        """Step 5 from the question's embeddings ``e`` ``(N, T, E)``, its real-word mask
        ``(N, T)`` and the cells' keys ``(N, L, A)``: each kind's glimpse ``alpha_k`` ``(N,
        K, L)``, position ``p_k`` ``(N, K, 2)`` and strength ``m`` ``(N, K)``, the named
        kind ``gamma`` ``(N, K)``, the anchor ``P`` ``(N, 2)``, the squared distances ``d``
        ``(N, K)`` and ``near`` ``(N, K)``, over ``scenes.SHAPES``."""
        e_k = self.embed(self.kinds)  # (K, E)
        scores = self.log_sharpness.exp() * self.W_q(e_k) @ keys.transpose(1, 2)  # (N, K, L)
        alpha_k = torch.softmax(scores, dim=2)
        p_k = alpha_k @ self.cells  # (N, K, 2)
        cosine = F.normalize(e, dim=2) @ F.normalize(e_k, dim=1).T  # (N, T, K)
        match = cosine.masked_fill(~real[:, :, None], -1.0).amax(dim=1)  # (N, K)
        gamma = torch.softmax(self.log_match.exp() * match, dim=1)
        P = (gamma[:, :, None] * p_k).sum(dim=1)  # (N, 2)
        d = ((p_k - P[:, None]) ** 2).sum(dim=2)  # (N, K)
        not_named = torch.log1p(-gamma.clamp(max=1 - 1e-6))  # log(1 - gamma_k)
        near = torch.softmax(not_named - self.log_reach.exp() * d, dim=1)
        return dict(alpha_k=alpha_k, p_k=p_k, m=torch.logsumexp(scores, dim=2), gamma=gamma,
                    P=P, d=d, near=near)

    def forward(self, images: torch.Tensor, questions: torch.Tensor,
                scene_of: torch.Tensor | None = None) -> torch.Tensor:
        if not self.config["use_image"]:
            return self.classifier(self.read_question(questions)[2])
        g = self.glimpses(images, questions, scene_of)
        n = g["nearest"]
        inputs = [g["q"], g["v"], g["z"], g["r"], n["m"], n["near"]]
        return self.classifier(torch.cat(inputs, dim=1))


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
    padded = pad([sc.encode(q) for _, (q, _, _) in rows], _PAD)[0].numpy()
    answers = np.array([sc.ANSWERS.index(a) for _, (_, a, _) in rows], dtype=np.int64)
    return images, padded, answers, [t for _, (_, _, t) in rows]


def train_vqa(model: VQAModel, steps: int, batch_size: int = 32, lr: float = 2e-3,
              seed: int = 0, pool: int = 6000, log_every: int = 0,
              max_seconds: float | None = None, cnn_from: str | None = None) -> list:
    """Cross-entropy over ``pool`` scenes made with ``seed`` (rendered once), one-cycle Adam
    without clipping (``rnncourse.training.fit``); returns the loss of every step.

    Each step takes ``batch_size`` scenes and asks *every* question about them (about 11
    a scene, ``scenes.questions``): the CNN runs once per scene, and every question type
    is in every batch. Each type weighs the same in the loss (the mean over types of the
    mean loss of each): there are about fifty count questions to one nearest question, and
    a plain mean would leave nearest, asked only about scenes of three kinds, to the last
    few percent of the loss. ``cnn_from``: the name of a shipped captioner whose CNN the model
    starts from and keeps frozen (transfer learning, as VQA models reuse an image
    classifier's CNN): captions name every shape, so that CNN already tells circles from
    squares, which the answers alone teach slowly.
    """
    rng = np.random.default_rng(seed)
    device = next(model.parameters()).device
    use_image = model.config["use_image"]
    if cnn_from is not None:
        if not use_image:
            raise ValueError("cnn_from needs a model that uses the image")
        from rnncourse.pretrained import load
        model.cnn.load_state_dict(load(cnn_from, device=device).cnn.state_dict())
        model.cnn.requires_grad_(False)
    scenes = sc.make_scenes(pool, seed, model.config["image_size"])
    images = torch.from_numpy(sc.render_batch(scenes)).to(device) if use_image else None
    asked = [[(sc.encode(q), sc.ANSWERS.index(a), sc.QUESTION_TYPES.index(t))
              for q, a, t in sc.questions(s)] for s in scenes]

    def next_loss(step):
        index = rng.permutation(pool)[:batch_size]
        rows = [(k, *question) for k, i in enumerate(index) for question in asked[i]]
        words = pad([w for _, w, _, _ in rows], _PAD)[0]
        scene_of = torch.tensor([k for k, _, _, _ in rows], device=device)
        batch = images[torch.from_numpy(index).to(device)] if use_image else None
        logits = model(batch, words.to(device), scene_of)
        losses = F.cross_entropy(logits, torch.tensor([a for _, _, a, _ in rows], device=device),
                                 reduction="none")
        types = torch.tensor([t for _, _, _, t in rows], device=device)
        per_type = torch.zeros(len(sc.QUESTION_TYPES), device=device).index_add_(0, types, losses)
        asked_n = torch.bincount(types, minlength=len(sc.QUESTION_TYPES))
        return (per_type[asked_n > 0] / asked_n[asked_n > 0]).mean()  # each type weighs the same

    return fit(model, next_loss, scene_loop(steps, lr, None, log_every, max_seconds))


@torch.no_grad()
def predict(model: VQAModel, scenes: list, batch_size: int = 512, types=None) -> dict:
    """The model's answer to every question about ``scenes`` (each image through the CNN
    once), or only to those of ``types`` (e.g. ``("nearest",)``): ``predicted`` and
    ``answers`` (ids into ``scenes.ANSWERS``), ``types`` and ``questions`` (strings),
    ``scene_of`` (the scene of each question), all length N."""
    rows = [(i, q) for i, s in enumerate(scenes) for q in sc.questions(s)
            if types is None or q[2] in types]
    device = next(model.parameters()).device
    images = torch.from_numpy(sc.render_batch(scenes)).to(device)
    padded = pad([sc.encode(q) for _, (q, _, _) in rows], _PAD)[0]
    scene_of = np.array([i for i, _ in rows])
    model.eval()
    predicted = []
    for start in range(0, len(rows), batch_size):
        part = scene_of[start:start + batch_size]
        first, last = part[0], part[-1] + 1  # questions come scene by scene
        words = padded[start:start + batch_size].to(device)
        logits = model(images[first:last], words, torch.from_numpy(part - first).to(device))
        predicted.append(logits.argmax(1).cpu().numpy())
    return dict(predicted=np.concatenate(predicted),
                answers=np.array([sc.ANSWERS.index(a) for _, (_, a, _) in rows]),
                types=np.array([t for _, (_, _, t) in rows]),
                questions=[q for _, (q, _, _) in rows], scene_of=scene_of)


def accuracy_by_type(model: VQAModel, scenes: list, batch_size: int = 512) -> dict:
    """Accuracy over every question about ``scenes``, per type and ``"all"``."""
    found = predict(model, scenes, batch_size)
    right, types = found["predicted"] == found["answers"], found["types"]
    result = {t: float(right[types == t].mean()) for t in sc.QUESTION_TYPES if (types == t).any()}
    result["all"] = float(right.mean())
    return result


def seed_study(seeds=(1, 2), steps: int = 1200, batch_size: int = 32, lr: float = 2e-3,
               cnn_from: str | None = "captioner_plain", test_scenes: int = 500,
               path=SEED_RESULTS) -> dict:
    """Train the shipped VQA recipe (``rnncourse vqa --cnn-from captioner_plain``, seed 0)
    again with other ``seeds`` (the training scenes change with the seed, the test scenes
    do not), on one thread, and write each run's test accuracy per question type to
    ``path`` after every run: does the result hold beyond one run?"""
    from rnncourse._io import write_json
    from rnncourse.runtime import threads

    made_by = (f"rnncourse.vqa.seed_study(seeds={tuple(seeds)}, steps={steps}, "
               f"batch_size={batch_size}, lr={lr}, cnn_from={cnn_from!r}, "
               f"test_scenes={test_scenes})")
    test = sc.make_scenes(test_scenes, TEST_SEED)
    result = {"made_by": made_by, "runs": []}
    with threads(1):
        for seed in seeds:
            torch.manual_seed(seed)
            model = VQAModel()
            start = time.process_time()
            losses = train_vqa(model, steps, batch_size, lr, seed, cnn_from=cnn_from)
            result["runs"].append({"seed": seed, "steps": len(losses),
                                   "cpu_seconds": round(time.process_time() - start, 1),
                                   "test_accuracy": accuracy_by_type(model, test)})
            write_json(path, result)
    return result


def add_arguments(parser) -> None:
    """``rnncourse vqa``: train a VQA model (or the baseline) and ship it."""
    parser.add_argument("--question-only", action="store_true", help="the baseline without image")
    parser.add_argument("--cnn-from", default=None,
                        help="start from this shipped captioner's CNN, frozen "
                             "(e.g. captioner_plain)")
    add_training_arguments(parser, lr=2e-3, steps=1200)


def run(args) -> int:
    if args.max_shapes != 3 or args.min_shapes != 1:
        raise SystemExit("rnncourse vqa: the questions are about scenes of 1 to 3 shapes "
                         "(--max-shapes 3 --min-shapes 1)")
    torch.manual_seed(args.seed)
    test = sc.make_scenes(args.test_scenes, TEST_SEED, args.image_size)
    train_and_ship(args, "vqa",
                   VQAModel(image_size=args.image_size, use_image=not args.question_only),
                   lambda model: train_vqa(model, args.steps, args.batch_size, args.lr, args.seed,
                                           args.pool, args.log_every, 60 * args.max_minutes,
                                           args.cnn_from),
                   lambda model: {f"test_{k}_accuracy_fraction": v
                                  for k, v in accuracy_by_type(model, test).items()},
                   args.name or ("vqa_question_only" if args.question_only else "vqa_image"))
    return 0
