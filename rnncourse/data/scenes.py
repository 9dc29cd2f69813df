"""Scenes the course draws itself: small RGB images of coloured shapes, with captions
and questions, for image captioning and visual question answering (notebook 11).

No image dataset can be downloaded, so we make one, as the captioning slides of
[003] and "show, attend and tell" [002] need: each scene is a few circles, squares
and triangles with a colour, a size and a position, rendered with numpy (a scene
takes well under a millisecond). Because we know the ground truth, every caption
and every answer can be checked exactly:

- ``captions(scene)`` lists *all* valid captions ("a red circle left of a blue
  square", "a blue square right of a red circle", "two green triangles", ...);
  training picks one at random, or always the one that names the shapes from left to
  right (``reading_order_caption``; ``CAPTION_ORDERS``), evaluation accepts any of them.
- ``questions(scene)`` lists every question we can ask with its answer and type
  (``colour``: "what colour is the circle ?", ``count``: "how many squares are
  there ?", ``spatial``: "is the triangle above the circle ?", ``nearest``: "what is
  nearest to the circle ?", answered with the kind of the other shape whose centre is
  nearest, and asked only when the distance decides it: the other shapes are of two
  kinds or more, and those of another kind than the nearest are ``MIN_GAP`` pixels
  farther at least).

Everything is seeded by a ``numpy.random.Generator``. Coordinates are in pixels,
``x`` to the right and ``y`` downwards (as in an image), so "above" means smaller y.
"""

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass
from itertools import permutations

import numpy as np

from rnncourse.data.seq_batching import pad
from rnncourse.data.vocab import Vocab

__all__ = [
    "COLOURS", "SHAPES", "SIZES", "MAX_SHAPES", "QUESTION_TYPES", "ANSWERS", "WORDS",
    "PAD", "START", "END", "Shape", "Scene",
    "sample_scene", "make_scenes", "scenes_sha256", "shape_mask", "render", "render_batch",
    "captions", "reading_order_caption", "CAPTION_ORDERS", "sample_caption", "questions",
    "sample_question",
    "VOCAB", "encode", "decode", "word_overlap",
    "caption_tokens", "question_tokens",
]

# RGB of each colour; a scene jitters them a little so a colour is a range, not a value
COLOURS = {"red": (215, 45, 40), "green": (50, 175, 70), "blue": (45, 90, 225),
           "yellow": (235, 205, 40)}
SHAPES = ("circle", "square", "triangle")
SIZES = {"small": 0.11, "large": 0.19}  # radius as a fraction of the image side
BACKGROUND = (28, 28, 32)
MIN_GAP = 3.0  # pixels (at 32x32) between centres along an axis before we call it left/above
NUMBERS = ("zero", "one", "two", "three")
QUESTION_TYPES = ("colour", "count", "spatial", "nearest")
ANSWERS = tuple(COLOURS) + NUMBERS + ("yes", "no") + SHAPES
RELATIONS = {"left of": "right of", "right of": "left of", "above": "below", "below": "above"}

PAD, START, END = "<PAD>", "<START>", "<END>"
WORDS = (PAD, START, END, "a", "and", ",", "two", "three", "small", "large",
         *COLOURS, *SHAPES, *(s + "s" for s in SHAPES),
         "left", "right", "of", "above", "below",
         "what", "colour", "is", "the", "how", "many", "are", "there", "shapes", "?",
         "nearest", "to")
VOCAB = Vocab(WORDS, specials=(PAD, START, END), unknown=None, bos=START, eos=END, sort=False,
              separator=" ")  # ids are positions in WORDS


@dataclass(frozen=True)
class Shape:
    """One shape: its kind, colour, size word and centre ``(x, y)`` in pixels."""
    shape: str
    colour: str
    size: str
    x: float
    y: float
    rgb: tuple = (0, 0, 0)

    @property
    def radius_fraction(self) -> float:
        return SIZES[self.size]

    def phrase(self) -> str:
        return f"a {self.colour} {self.shape}"


@dataclass(frozen=True)
class Scene:
    """A list of shapes on an ``image_size`` x ``image_size`` canvas."""
    shapes: tuple
    image_size: int

    def describe(self) -> str:
        """Ground truth, one shape per line: ``large red circle at x=12, y=20``."""
        return "\n".join(f"{s.size} {s.colour} {s.shape} at x={s.x:.0f}, y={s.y:.0f}"
                         for s in self.shapes)


MAX_SHAPES = 5  # at most three of a kind (``NUMBERS`` ends at "three"), see ``sample_scene``


def sample_scene(rng: np.random.Generator, image_size: int = 32, max_shapes: int = 3,
                 min_shapes: int = 1) -> Scene:
    """A scene of ``min_shapes..max_shapes`` shapes that do not overlap and stay inside
    the image. Scenes of four or five shapes (``max_shapes`` up to ``MAX_SHAPES``; they
    need ``image_size >= 48`` to fit) never hold more than three shapes of one kind or
    one colour, so every count has a word."""
    if not 1 <= min_shapes <= max_shapes <= MAX_SHAPES:
        raise ValueError(f"expected 1 <= min_shapes <= max_shapes <= {MAX_SHAPES}, "
                         f"got min_shapes={min_shapes}, max_shapes={max_shapes}")
    if image_size < 16 or (max_shapes > 3 and image_size < 48):
        raise ValueError(f"expected image_size >= 16 (>= 48 for more than three shapes), "
                         f"got {image_size}")
    n = int(rng.integers(min_shapes, max_shapes + 1))
    while True:  # rejection sampling of the whole scene: three shapes fit easily
        placed = [_random_shape(rng, image_size) for _ in range(n if n <= 3 else 0)]
        for _ in range(500 if n > 3 else 0):  # four or five: one shape at a time, else
            if len(placed) == n:                # this takes long (start over if stuck)
                break
            shape = _random_shape(rng, image_size)
            kinds = Counter(s.shape for s in placed)[shape.shape]
            colours = Counter(s.colour for s in placed)[shape.colour]
            if kinds < 3 and colours < 3 and all(_apart(shape, s, image_size) for s in placed):
                placed.append(shape)
        if len(placed) == n and all(_apart(a, b, image_size)
                                    for i, a in enumerate(placed) for b in placed[i + 1:]):
            return Scene(tuple(placed), image_size)


def _random_shape(rng: np.random.Generator, image_size: int) -> Shape:
    size = ("small", "large")[int(rng.integers(2))]
    r = SIZES[size] * image_size
    x, y = rng.uniform(r + 1, image_size - r - 1, size=2)
    colour = tuple(COLOURS)[int(rng.integers(len(COLOURS)))]
    jitter = rng.integers(-20, 21, size=3)
    rgb = tuple(int(c) for c in np.clip(np.array(COLOURS[colour]) + jitter, 0, 255))
    return Shape(SHAPES[int(rng.integers(len(SHAPES)))], colour, size, float(x), float(y), rgb)


def _apart(a: Shape, b: Shape, image_size: int) -> bool:
    # centres at least the two radii apart (a triangle's base corners reach 1.28 r, so two
    # shapes can touch at a corner)
    reach = (a.radius_fraction + b.radius_fraction) * image_size + 1.5
    gap = MIN_GAP * image_size / 32
    # no overlap, and one axis clearly separates them (so a relation is always visible)
    return (np.hypot(a.x - b.x, a.y - b.y) >= reach
            and max(abs(a.x - b.x), abs(a.y - b.y)) >= gap)


def make_scenes(n: int, seed: int, image_size: int = 32, max_shapes: int = 3,
                min_shapes: int = 1) -> list:
    """``n`` scenes drawn from a generator seeded with ``seed`` (the same seed, the same scenes)."""
    rng = np.random.default_rng(seed)
    return [sample_scene(rng, image_size, max_shapes, min_shapes) for _ in range(n)]


def scenes_sha256(scenes: list) -> str:
    """sha256 of the scenes' descriptions (every shape's kind, colour, size, position and
    jittered RGB): the data checksum in the records of the models trained on them."""
    rows = [asdict(scene) for scene in scenes]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def _mask(shape: Shape, X: np.ndarray, Y: np.ndarray, image_size: int) -> np.ndarray:
    r = shape.radius_fraction * image_size
    dx, dy = X - shape.x, Y - shape.y
    if shape.shape == "circle":
        return dx ** 2 + dy ** 2 <= r ** 2
    if shape.shape == "square":
        return (np.abs(dx) <= 0.85 * r) & (np.abs(dy) <= 0.85 * r)
    # triangle pointing up: apex at y - r, base at y + 0.8 r, half-width growing to r
    depth = (dy + r) / (1.8 * r)
    return (depth >= 0) & (depth <= 1) & (np.abs(dx) <= depth * r)


def shape_mask(shape: Shape, image_size: int) -> np.ndarray:
    """The pixels ``(S, S)`` whose centre lies inside ``shape`` (True = covered)."""
    coords = np.arange(image_size) + 0.5
    X, Y = np.meshgrid(coords, coords)
    return _mask(shape, X, Y, image_size)


def render(scene: Scene, supersample: int = 3) -> np.ndarray:
    """The scene as an ``(S, S, 3)`` uint8 image, anti-aliased by ``supersample``."""
    S, k = scene.image_size, supersample
    coords = (np.arange(S * k) + 0.5) / k  # sub-pixel centres, in pixels
    X, Y = np.meshgrid(coords, coords)  # (S k, S k), Y grows downwards
    canvas = np.empty((S * k, S * k, 3), dtype=np.float32)
    canvas[:] = BACKGROUND
    for shape in scene.shapes:
        canvas[_mask(shape, X, Y, S)] = shape.rgb
    image = canvas.reshape(S, k, S, k, 3).mean(axis=(1, 3))  # average each k x k block
    return np.round(image).astype(np.uint8)


def render_batch(scenes: list) -> np.ndarray:
    """Images of ``scenes`` as a float32 array ``(N, 3, S, S)`` with values in [0, 1]."""
    return np.stack([render(s) for s in scenes]).transpose(0, 3, 1, 2).astype(np.float32) / 255


def _relation(a: Shape, b: Shape) -> str:
    """Where ``a`` is relative to ``b``, along the axis that separates them more."""
    dx, dy = a.x - b.x, a.y - b.y
    if abs(dx) >= abs(dy):
        return "left of" if dx < 0 else "right of"
    return "above" if dy < 0 else "below"


def _group_phrase(colour: str, shape: str, count: int) -> str:
    return f"a {colour} {shape}" if count == 1 else f"{NUMBERS[count]} {colour} {shape}s"


def _listing(parts) -> str:
    """Group phrases as one caption: "A", "A and B", "A , B and C", ..."""
    return parts[0] if len(parts) == 1 else " , ".join(parts[:-1]) + " and " + parts[-1]


def captions(scene: Scene) -> list:
    """Every valid caption of ``scene`` (sorted, without ``<END>``)."""
    shapes = scene.shapes
    if len(shapes) == 1:
        s = shapes[0]
        return sorted([s.phrase(), f"a {s.size} {s.colour} {s.shape}"])
    groups = Counter((s.colour, s.shape) for s in shapes)
    if len(shapes) == 2 and len(groups) == 2:
        a, b = shapes
        rel = _relation(a, b)
        return sorted([f"{a.phrase()} {rel} {b.phrase()}",
                       f"{b.phrase()} {RELATIONS[rel]} {a.phrase()}"])
    parts = [_group_phrase(c, s, k) for (c, s), k in groups.items()]
    return sorted({_listing(order) for order in permutations(parts)})


def reading_order_caption(scene: Scene) -> str:
    """The valid caption that names the shapes from left to right: groups in the order
    of their leftmost shape ("a red circle , two blue squares and a green triangle"); two
    different shapes as "<the left one> <relation> <the other>"; one shape without its size."""
    shapes = sorted(scene.shapes, key=lambda s: s.x)
    if len(shapes) == 1:
        return shapes[0].phrase()
    groups = Counter((s.colour, s.shape) for s in shapes)  # insertion order: left to right
    if len(shapes) == 2 and len(groups) == 2:
        a, b = shapes
        return f"{a.phrase()} {_relation(a, b)} {b.phrase()}"
    return _listing([_group_phrase(c, s, k) for (c, s), k in groups.items()])


CAPTION_ORDERS = ("random", "left-to-right")


def sample_caption(scene: Scene, rng: np.random.Generator, order: str = "random") -> str:
    """One of the valid captions: chosen uniformly (``order="random"``), or the one that
    names the shapes from left to right (``"left-to-right"``, ``reading_order_caption``)."""
    if order == "left-to-right":
        return reading_order_caption(scene)
    if order != "random":
        raise ValueError(f"expected a caption order in {CAPTION_ORDERS}, got {order!r}")
    options = captions(scene)
    return options[int(rng.integers(len(options)))]


def questions(scene: Scene) -> list:
    """Every question about ``scene``, as ``(question, answer, type)`` triples."""
    shapes = scene.shapes
    kinds = Counter(s.shape for s in shapes)
    unique = [s for s in shapes if kinds[s.shape] == 1]  # "the circle" must mean one shape
    found = [(f"what colour is the {s.shape} ?", s.colour, "colour") for s in unique]
    found += [(f"how many {k}s are there ?", NUMBERS[kinds[k]], "count") for k in SHAPES]
    colours = Counter(s.colour for s in shapes)
    found += [(f"how many {c} shapes are there ?", NUMBERS[colours[c]], "count") for c in COLOURS]
    gap = MIN_GAP * scene.image_size / 32
    for a in unique:
        for b in unique:
            if a is b:
                continue
            if abs(a.x - b.x) >= gap:
                for rel, truth in (("left of", a.x < b.x), ("right of", a.x > b.x)):
                    found.append((f"is the {a.shape} {rel} the {b.shape} ?",
                                  "yes" if truth else "no", "spatial"))
            if abs(a.y - b.y) >= gap:
                for rel, truth in (("above", a.y < b.y), ("below", a.y > b.y)):
                    found.append((f"is the {a.shape} {rel} the {b.shape} ?",
                                  "yes" if truth else "no", "spatial"))
    for a in unique:
        kind = _nearest_kind(a, shapes, gap)
        if kind is not None:
            found.append((f"what is nearest to the {a.shape} ?", kind, "nearest"))
    return found


def _nearest_kind(a: Shape, shapes: tuple, gap: float) -> str | None:
    """The kind of the shape whose centre is nearest to ``a``'s, or None unless the other
    shapes are of two kinds or more (else the answer is simply the kind that is there, no
    distance needed) and every shape of another kind than the nearest one's is ``gap``
    pixels farther at least (else it is too close a call to see). Other shapes of the
    nearest one's kind may be as near: the answer is the same."""
    others = sorted((np.hypot(b.x - a.x, b.y - a.y), b.shape) for b in shapes if b is not a)
    if len({k for _, k in others}) < 2:
        return None
    nearest, kind = others[0]
    rivals = [d for d, k in others if k != kind]
    return kind if rivals[0] >= nearest + gap else None


def sample_question(scene: Scene, rng: np.random.Generator) -> tuple:
    """A question about ``scene``: first a type (uniform among those that can be
    asked), then a question of that type (uniform)."""
    options = questions(scene)
    types = sorted({t for _, _, t in options}, key=QUESTION_TYPES.index)
    qtype = types[int(rng.integers(len(types)))]
    of_type = [q for q in options if q[2] == qtype]
    return of_type[int(rng.integers(len(of_type)))]


def encode(sentence: str, start: bool = False, end: bool = False) -> list:
    """Word ids of a sentence (words separated by spaces), optionally framed."""
    return VOCAB.ids(sentence, start, end)


def decode(ids) -> str:
    """The sentence of word ids, stopping at ``<END>`` and skipping ``<START>``/``<PAD>``."""
    return VOCAB.decode(ids)


def word_overlap(candidate: str, references: list) -> float:
    """Best unigram F1 between ``candidate`` and any reference (1.0 for an exact match
    up to word order; counts repeated words, like BLEU's clipped counts)."""
    cand = Counter(candidate.split())
    best = 0.0
    for ref in references:
        ref_counts = Counter(ref.split())
        common = sum((cand & ref_counts).values())
        if common:
            p, r = common / sum(cand.values()), common / sum(ref_counts.values())
            best = max(best, 2 * p * r / (p + r))
    return best


def _pad(rows: list) -> np.ndarray:
    return pad(rows, VOCAB.stoi[PAD])[0].numpy()  # (N, T) int64


def caption_tokens(scenes: list, rng: np.random.Generator, order: str = "random") -> np.ndarray:
    """One caption drawn per scene (``sample_caption``), as word ids ``(N, T)``: ``<START>
    words <END> <PAD>...`` (render the images with ``render_batch``, once: captions change,
    images do not)."""
    return _pad([encode(sample_caption(s, rng, order), start=True, end=True) for s in scenes])


def question_tokens(scenes: list, rng: np.random.Generator) -> tuple:
    """One question drawn per scene: word ids ``(N, T)`` padded with ``<PAD>``, answer
    ids ``(N,)`` into ``ANSWERS``, and the question types (a list of N strings)."""
    drawn = [sample_question(s, rng) for s in scenes]
    words = _pad([encode(q) for q, _, _ in drawn])
    answers = np.array([ANSWERS.index(a) for _, a, _ in drawn], dtype=np.int64)
    return words, answers, [t for _, _, t in drawn]
