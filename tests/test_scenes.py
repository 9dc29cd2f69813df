import re
from collections import Counter

import numpy as np
import pytest

from rnncourse.data import scenes as sc

SCENES = sc.make_scenes(300, seed=7)
PHRASE = re.compile(r"(a|two|three) (?:small |large )?(\w+) (circle|square|triangle)s?")
COUNT = {"a": 1, "two": 2, "three": 3}


def parse(caption):
    """(colour, shape) -> count, read back from a caption."""
    found = Counter()
    for number, colour, shape in PHRASE.findall(caption):
        found[(colour, shape)] += COUNT[number]
    return found


def test_same_seed_gives_same_scenes_and_images():
    again = sc.make_scenes(300, seed=7)
    assert again == SCENES
    assert np.array_equal(sc.render_batch(again[:20]), sc.render_batch(SCENES[:20]))


def test_different_seeds_give_different_scenes():
    assert sc.make_scenes(20, seed=8) != SCENES[:20]


def test_scenes_have_one_to_three_shapes_inside_the_image():
    counts = Counter(len(s.shapes) for s in SCENES)
    assert set(counts) == {1, 2, 3} and min(counts.values()) > 50
    for s in SCENES:
        for shape in s.shapes:
            r = shape.radius_fraction * s.image_size
            assert r <= shape.x <= s.image_size - r and r <= shape.y <= s.image_size - r


def test_each_shape_is_drawn_in_its_colour_and_the_rest_is_background():
    for s in SCENES[:60]:
        image = sc.render(s).astype(int)
        for shape in s.shapes:
            pixel = image[int(shape.y), int(shape.x)]
            assert np.abs(pixel - np.array(shape.rgb)).max() <= 2, (s.describe(), pixel)
        corner_free = all(np.hypot(sh.x, sh.y) > 12 for sh in s.shapes)
        if corner_free:
            assert np.array_equal(image[0, 0], sc.BACKGROUND)


def test_render_size_follows_image_size():
    scene = sc.make_scenes(1, seed=0, image_size=48)[0]
    assert sc.render(scene).shape == (48, 48, 3)
    assert sc.render_batch([scene]).shape == (1, 3, 48, 48)


def test_every_caption_names_exactly_the_shapes_of_its_scene():
    for s in SCENES:
        truth = Counter((shape.colour, shape.shape) for shape in s.shapes)
        for caption in sc.captions(s):
            assert parse(caption) == truth, (s.describe(), caption)


def test_relations_in_captions_agree_with_positions():
    checked = 0
    for s in SCENES:
        for caption in sc.captions(s):
            m = re.fullmatch(r"a (\w+) (\w+) (left of|right of|above|below) a (\w+) (\w+)", caption)
            if not m:
                continue
            a = next(x for x in s.shapes if (x.colour, x.shape) == m.group(1, 2))
            b = next(x for x in s.shapes if (x.colour, x.shape) == m.group(4, 5))
            dx, dy = a.x - b.x, a.y - b.y
            expected = {"left of": dx < 0 and abs(dx) >= abs(dy),
                        "right of": dx > 0 and abs(dx) >= abs(dy),
                        "above": dy < 0 and abs(dy) > abs(dx),
                        "below": dy > 0 and abs(dy) > abs(dx)}[m.group(3)]
            assert expected, (s.describe(), caption)
            checked += 1
    assert checked > 50


def test_answers_agree_with_the_scene():
    for s in SCENES:
        for question, answer, qtype in sc.questions(s):
            if qtype == "colour":
                shape = question.split()[-2]
                assert [x.colour for x in s.shapes if x.shape == shape] == [answer]
            elif qtype == "count":
                word = question.split()[2]
                n = sum(word in (x.shape + "s", x.colour) for x in s.shapes)
                assert sc.NUMBERS[n] == answer, (s.describe(), question, answer)
            elif qtype == "spatial":
                words = question.split()
                a = next(x for x in s.shapes if x.shape == words[2])
                b = next(x for x in s.shapes if x.shape == words[-2])
                truth = {"left": a.x < b.x, "right": a.x > b.x,
                         "above": a.y < b.y, "below": a.y > b.y}[words[3]]
                assert answer == ("yes" if truth else "no"), (s.describe(), question)
            else:
                assert qtype == "nearest", qtype
                named = question.split()[-2]
                assert question == f"what is nearest to the {named} ?"
                assert answer == nearest_by_brute_force(s, named)[0][1], (s.describe(), question)


def nearest_by_brute_force(scene, named):
    """(distance, kind) of every other shape to the only ``named`` shape, nearest first."""
    [a] = [x for x in scene.shapes if x.shape == named]
    return sorted((((a.x - b.x) ** 2 + (a.y - b.y) ** 2) ** 0.5, b.shape)
                  for b in scene.shapes if b is not a)


def test_nearest_is_asked_exactly_when_distance_decides_it():
    """Asked about every shape that is alone of its kind when the other shapes are of two
    kinds or more, unless a shape of another kind than the nearest one's is less than
    MIN_GAP pixels farther."""
    asked = skipped = 0
    for scene in SCENES + sc.make_scenes(100, seed=3, image_size=48, max_shapes=5, min_shapes=3):
        gap = sc.MIN_GAP * scene.image_size / 32
        nearest = {q.split()[-2]: a for q, a, t in sc.questions(scene) if t == "nearest"}
        kinds = Counter(x.shape for x in scene.shapes)
        for named in (k for k, n in kinds.items() if n == 1 and len(scene.shapes) > 1):
            ranked = nearest_by_brute_force(scene, named)
            rivals = [d for d, kind in ranked if kind != ranked[0][1]]
            clear = bool(rivals) and rivals[0] >= ranked[0][0] + gap
            assert (named in nearest) == clear, (scene.describe(), named)
            asked += clear
            skipped += not clear
        assert set(nearest) <= {k for k, n in kinds.items() if n == 1}
    assert asked > 50 and skipped > 20


def test_nearest_answer_is_another_kind_present_in_the_scene():
    seen = Counter()
    for scene in SCENES:
        for question, answer, qtype in sc.questions(scene):
            if qtype == "nearest":
                assert answer in sc.SHAPES and answer != question.split()[-2]
                assert answer in {x.shape for x in scene.shapes}
                seen[answer] += 1
    assert set(seen) == set(sc.SHAPES)


def test_nearest_is_not_asked_when_one_kind_is_all_there_is_to_see():
    """Not about a lone shape or a repeated kind, nor when the other shapes are all of one
    kind (the answer would be that kind, whatever the distances)."""
    def scene(*kinds):
        return sc.Scene(tuple(sc.Shape(k, "red", "small", 6 + 10 * i, 6 + 10 * i)
                              for i, k in enumerate(kinds)), 32)
    for kinds in [("circle",), ("circle", "circle"), ("circle", "square"),
                  ("circle", "square", "square"), ("square", "circle", "square")]:
        assert not [q for q in sc.questions(scene(*kinds)) if q[2] == "nearest"], kinds
    assert [q for q in sc.questions(scene("circle", "square", "triangle")) if q[2] == "nearest"]


def test_nearest_margin_on_hand_placed_shapes():
    """A square 10 px from the circle, a triangle 12 or 14 px away (MIN_GAP is 3 px)."""
    def scene(triangle_x):
        return sc.Scene((sc.Shape("circle", "red", "small", 6, 16),
                         sc.Shape("square", "blue", "small", 16, 16),
                         sc.Shape("triangle", "green", "small", triangle_x, 16)), 32)
    close, clear = sc.questions(scene(18)), sc.questions(scene(20))
    assert ("what is nearest to the circle ?", "square", "nearest") in clear
    assert "what is nearest to the circle ?" not in [q for q, _, _ in close]
    assert ("what is nearest to the triangle ?", "square", "nearest") in close


def test_question_tokens_encode_a_question_of_each_scene_and_its_answer():
    words, answers, types = sc.question_tokens(SCENES[:20], np.random.default_rng(0))
    assert words.shape[0] == len(answers) == len(types) == 20
    for scene, row, a, t in zip(SCENES, words, answers, types):
        assert (sc.decode(row), sc.ANSWERS[a], t) in sc.questions(scene)


def test_sampled_questions_cover_every_type_and_both_yes_and_no():
    rng = np.random.default_rng(0)
    drawn = [sc.sample_question(s, rng) for s in SCENES]
    assert {t for _, _, t in drawn} == set(sc.QUESTION_TYPES)
    assert {"yes", "no"} <= {a for _, a, _ in drawn}


def test_encode_decode_round_trip_and_unknown_words():
    sentence = "a red circle left of a blue square"
    ids = sc.encode(sentence, start=True, end=True)
    assert ids[0] == sc.WORDS.index(sc.START) and ids[-1] == sc.WORDS.index(sc.END)
    assert sc.decode(ids + [0, 0]) == sentence
    with pytest.raises(ValueError, match="purple"):
        sc.encode("a purple circle")


def test_render_batch_is_channels_first_in_zero_one():
    images = sc.render_batch(SCENES[:4])
    assert images.shape == (4, 3, 32, 32) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1
    np.testing.assert_array_equal(images[2].transpose(1, 2, 0) * 255, sc.render(SCENES[2]))


def test_caption_tokens_frame_each_caption_with_start_end_and_padding():
    words = sc.caption_tokens(SCENES[:16], np.random.default_rng(0))
    end = sc.WORDS.index(sc.END)
    for scene, row in zip(SCENES[:16], words):
        assert row[0] == sc.WORDS.index(sc.START)
        assert sc.decode(row) in sc.captions(scene)
        after = row[list(row).index(end) + 1:]
        assert (after == sc.WORDS.index(sc.PAD)).all()


def test_word_overlap_is_one_for_a_reference_zero_for_no_common_word():
    refs = ["a red circle", "a large red circle"]
    assert sc.word_overlap("a red circle", refs) == 1.0
    assert sc.word_overlap("two blue squares", refs) == 0.0
    assert sc.word_overlap("a red square", refs) == pytest.approx(2 / 3)


def test_shape_mask_covers_the_pixels_painted_in_the_shapes_colour():
    for s in SCENES[:30]:
        image = sc.render(s, supersample=1).astype(int)
        for shape in s.shapes:
            mask = sc.shape_mask(shape, s.image_size)
            assert mask.sum() > 10
            assert (np.abs(image[mask] - np.array(shape.rgb)).max(axis=1) == 0).all()
