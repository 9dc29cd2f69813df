"""The JSB chorales loader: the papers' file and split, offline, and one clear error for a
missing or damaged file."""

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from rnncourse.data.jsb import (JSB_FILE, JSB_SHA256, MIDI_LOW, N_KEYS, SPLIT_SIZES, load_jsb,
                                pad_rolls, pitches_to_roll, roll_to_pitches)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "jsb" / "jsb-chorales-quarter.json"


@pytest.fixture(scope="module")
def data():
    return load_jsb()


def test_shipped_file_is_the_upstream_file_gzipped():
    assert hashlib.sha256(gzip.decompress(JSB_FILE.read_bytes())).hexdigest() == JSB_SHA256


def test_split_sizes_are_the_papers(data):
    assert {k: len(v) for k, v in data.items()} == SPLIT_SIZES == {"train": 229, "valid": 76,
                                                                   "test": 77}


def test_rolls_are_binary_over_88_keys(data):
    for split, rolls in data.items():
        for roll in rolls:
            assert roll.ndim == 2 and roll.shape[1] == N_KEYS and roll.shape[0] >= 25
            assert set(np.unique(roll)) <= {0, 1}
    frames = sum(len(r) for r in data["train"])
    notes = sum(int(r.sum()) for r in data["train"])
    assert frames == 13807 and 3.5 < notes / frames < 4.0  # four voices, sometimes fewer


@pytest.mark.skipif(not SHARED.exists(), reason="shared data folder not present")
def test_plain_json_from_the_shared_folder_gives_the_same_rolls(data):
    other = load_jsb(SHARED)
    for split in data:
        assert all(np.array_equal(a, b) for a, b in zip(data[split], other[split]))


def test_missing_file_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_jsb(tmp_path / "nothing.json.gz")


def test_damaged_gzip_is_reported_as_corrupt(tmp_path):
    raw = bytearray(JSB_FILE.read_bytes())
    truncated = tmp_path / "truncated.json.gz"
    truncated.write_bytes(bytes(raw[: len(raw) // 2]))
    with pytest.raises(ValueError, match="corrupt"):
        load_jsb(truncated)
    flipped = tmp_path / "flipped.json.gz"
    raw[len(raw) // 2] ^= 0xFF
    flipped.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="corrupt"):
        load_jsb(flipped)


def test_altered_content_fails_the_checksum(tmp_path):
    text = gzip.decompress(JSB_FILE.read_bytes()).replace(b"[60, 72, 79, 88]", b"[60, 72, 79, 89]", 1)
    altered = tmp_path / "altered.json.gz"
    altered.write_bytes(gzip.compress(text))
    with pytest.raises(ValueError, match="sha256"):
        load_jsb(altered)
    count = lambda d: sum(int(r[:, 89 - MIDI_LOW].sum()) for rolls in d.values() for r in rolls)
    assert count(load_jsb(altered, verify=False)) == count(load_jsb()) + 1


def test_pitches_and_rolls_round_trip():
    frames = [[21, 60, 108], [], [64, 67]]
    roll = pitches_to_roll(frames)
    assert roll.shape == (3, 88) and roll[0, 0] == roll[0, 87] == roll[0, 39] == 1
    assert roll_to_pitches(roll) == frames
    with pytest.raises(ValueError, match="21..108"):
        pitches_to_roll([[20]])


def test_pad_rolls_pads_with_silence_and_masks_it():
    a, b = np.ones((3, 88), np.uint8), np.ones((5, 88), np.uint8)
    x, mask = pad_rolls([a, b])
    assert x.shape == (2, 5, 88) and x.dtype == torch.float32
    assert mask.tolist() == [[True] * 3 + [False] * 2, [True] * 5]
    assert x[0, 3:].sum() == 0 and x[1].sum() == 5 * 88
