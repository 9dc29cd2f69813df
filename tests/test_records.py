"""Every shipped model has one record schema (``rnncourse.pretrained.Record``), with a
reproduction command that parses back with its own verb and names the same run."""

import functools
import importlib
import json
import shlex

import pytest

from rnncourse import pretrained
from rnncourse.cli import COMMANDS, command_line, verb_parser
from rnncourse.pretrained import Record, RecordError

NAMES = pretrained.available()


def _stored(name):
    return json.loads((pretrained.MODEL_DIR / f"{name}.json").read_text(encoding="utf-8"))


def test_models_are_shipped():
    assert len(NAMES) >= 14


@pytest.mark.parametrize("name", NAMES)
def test_every_shipped_record_follows_the_schema(name):
    stored = _stored(name)
    record = Record.from_dict(stored)  # raises RecordError with every problem
    assert record.to_dict() == stored, "the file holds keys outside the schema"
    assert (pretrained.MODEL_DIR / f"{name}.safetensors").is_file()


@pytest.mark.parametrize("name", NAMES)
def test_every_command_is_a_verb_that_parses_back_to_itself(name):
    command = _stored(name)["training"]["command"]
    words = shlex.split(command)
    assert words[0] == "rnncourse" and words[1] in COMMANDS
    args = verb_parser(words[1]).parse_args(words[2:])  # exits on a flag the verb lacks
    # what a verb leaves out of its commands: its module's LEAVE_OUT, else these
    leave_out = getattr(importlib.import_module(COMMANDS[words[1]][0]), "LEAVE_OUT", None) or \
        {"captioner": ("threads", "max_minutes", "log_every"),
         "vqa": ("threads", "max_minutes", "log_every"),
         "seq2seq": ("max_minutes", "threads")}.get(words[1], ("threads",))
    assert command_line(words[1], args, leave_out) == command


@pytest.mark.parametrize("bad, problem", [
    ({"builder": "os:system"}, "builder must look like"),
    ({"training": {"command": "python -m x"}}, "training.command"),
    ({"metrics": {"accuracy": 0.9}}, "<split>_<what>_<unit>"),
    ({"metrics": {"test_accuracy_fraction": "high"}}, "must be a number"),
])
def test_the_schema_rejects_what_it_should(bad, problem):
    good = _stored("seq2seq_dates_plain")
    meta = {**good, **bad}
    if "training" in bad:
        meta["training"] = {**good["training"], **bad["training"]}
    with pytest.raises(RecordError, match=problem):
        Record.from_dict(meta)


def test_record_is_the_file_as_written():
    for name in pretrained.available():
        path = pretrained.MODEL_DIR / f"{name}.json"
        assert pretrained.record(name) == json.loads(path.read_text(encoding="utf-8"))


def test_save_refuses_a_record_off_the_schema(tmp_path):
    import torch

    with pytest.raises(RecordError):
        pretrained.save("x", torch.nn.Linear(1, 1), {"builder": "rnncourse.x:Y", "config": {},
                                                     "training": {}, "metrics": {}},
                        directory=tmp_path)
    assert not list(tmp_path.iterdir())


SCENE_MODELS = ["captioner_plain", "captioner_plain_crowded", "captioner_attention_crowded",
                "captioner_attention_crowded_any_order", "vqa_image", "vqa_image_scratch",
                "vqa_question_only"]


def _scene_args(name):
    command = pretrained.record(name)["training"]["command"]
    return verb_parser(name.split("_")[0]).parse_args(shlex.split(command)[2:])


@functools.cache
def _scenes_data(pool, seed, test_scenes, image_size, max_shapes, min_shapes):
    from rnncourse.captioning import scenes_data

    return scenes_data(pool, seed, test_scenes, image_size, max_shapes, min_shapes)


@pytest.mark.parametrize("name", SCENE_MODELS)
def test_scene_records_hold_the_sha256_of_their_scenes(name):
    args = _scene_args(name)
    assert _scenes_data(args.pool, args.seed, args.test_scenes, args.image_size, args.max_shapes,
                        args.min_shapes) == \
        pretrained.record(name)["training"]["data"]


def test_captioner_reproduces_its_recorded_test_metric():
    from rnncourse.captioning import TEST_SEED, evaluate_captions
    from rnncourse.data.scenes import make_scenes

    args = _scene_args("captioner_plain")
    test = make_scenes(args.test_scenes, TEST_SEED, args.image_size)
    got = evaluate_captions(pretrained.load("captioner_plain", device="cpu"), test)
    want = pretrained.record("captioner_plain")["metrics"]["test_greedy_exact_match_fraction"]
    assert got["exact_match_fraction"] == pytest.approx(want, abs=0.01)
