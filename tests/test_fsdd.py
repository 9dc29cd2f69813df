"""The shipped Free Spoken Digit Dataset: checksums, the official split, connected digits."""

import json
import shutil

import numpy as np
import pytest

from rnncourse.data import fsdd
from rnncourse.data.fsdd import (ASSET_DIR, ASSET_FILE, SAMPLE_RATE, SPEAKERS, hold_out_speaker,
                                 load_recordings, make_connected, mu_law_decode, mu_law_encode,
                                 official_split, read_archive)
from rnncourse.data.corpora import data_dir

ARCHIVE = data_dir() / "fsdd" / "fsdd-recordings.tar.gz"


@pytest.fixture(scope="module")
def recordings():
    return load_recordings()


def test_shipped_asset_is_small_and_listed_in_the_manifest():
    manifest = json.loads((ASSET_DIR / "MANIFEST.json").read_text())
    size = (ASSET_DIR / ASSET_FILE).stat().st_size
    assert manifest["files"][ASSET_FILE]["bytes"] == size <= 8 * 2**20
    assert manifest["source_sha256"] == fsdd.SOURCE_SHA256
    assert "CC BY-SA 4.0" in (ASSET_DIR / "LICENSE.txt").read_text()
    assert "FSDD" in (ASSET_DIR / "SOURCE.md").read_text()


def test_all_3000_recordings_load_with_their_labels(recordings):
    assert len(recordings) == 3000
    keys = {(r.speaker, r.digit, r.take) for r in recordings}
    assert keys == {(s, d, t) for s in SPEAKERS for d in range(10) for t in range(50)}
    assert all(r.audio.dtype == np.float32 and np.abs(r.audio).max() <= 1 for r in recordings)
    lengths = np.array([len(r.audio) for r in recordings]) / SAMPLE_RATE
    assert 0.1 < lengths.min() and lengths.max() < 2.5  # seconds


def test_official_split_is_takes_0_to_4_for_test(recordings):
    train, test = official_split(recordings)
    assert len(test) == 300 and len(train) == 2700
    assert {r.take for r in test} == set(range(5))
    assert min(r.take for r in train) == 5
    # every speaker says every digit five times in the test set
    counts = {}
    for r in test:
        counts[r.speaker, r.digit] = counts.get((r.speaker, r.digit), 0) + 1
    assert set(counts.values()) == {5} and len(counts) == 60


def test_hold_out_speaker_keeps_every_recording_of_that_speaker_apart(recordings):
    others, held = hold_out_speaker(recordings, "george")
    assert len(held) == 500 and {r.speaker for r in held} == {"george"}
    assert "george" not in {r.speaker for r in others} and len(others) == 2500
    with pytest.raises(ValueError, match="unknown speaker 'bob'"):
        hold_out_speaker(recordings, "bob")


def test_missing_asset_gives_one_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="FSDD asset not found"):
        load_recordings(tmp_path / ASSET_FILE)


def test_damaged_asset_is_refused(tmp_path):
    shutil.copy(ASSET_DIR / "MANIFEST.json", tmp_path / "MANIFEST.json")
    data = bytearray((ASSET_DIR / ASSET_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / ASSET_FILE).write_bytes(bytes(data))
    with pytest.raises(ValueError, match="is damaged: sha256"):
        load_recordings(tmp_path / ASSET_FILE)


def _snr_db(clean, noisy):
    clean = np.asarray(clean, dtype=np.float64)
    return 10 * np.log10(np.sum(clean ** 2) / np.sum((clean - noisy) ** 2))


def test_mu_law_keeps_quiet_and_loud_sounds_about_30_db_above_the_quantisation_noise():
    t = np.arange(4000) / SAMPLE_RATE
    for amplitude in (0.01, 0.1, 0.9):
        tone = amplitude * np.sin(2 * np.pi * 440 * t)
        assert _snr_db(tone, mu_law_decode(mu_law_encode(tone))) > 25
    assert np.array_equal(mu_law_encode(mu_law_decode(np.arange(256))), np.arange(256))


@pytest.mark.skipif(not ARCHIVE.exists(), reason="the original FSDD archive is not here")
def test_shipped_asset_is_the_mu_law_of_the_original_archive(recordings):
    original = read_archive(ARCHIVE)
    assert len(original) == 3000
    for a, b in zip(original[::97], recordings[::97]):
        assert (a.speaker, a.digit, a.take) == (b.speaker, b.digit, b.take)
        assert np.array_equal(mu_law_encode(a.audio), mu_law_encode(b.audio))
        assert _snr_db(a.audio, b.audio) > 25


def test_an_archive_with_the_wrong_checksum_is_refused(tmp_path):
    bad = tmp_path / "fsdd-recordings.tar.gz"
    bad.write_bytes(b"not the archive")
    with pytest.raises(ValueError, match="expected 0ffed349"):
        read_archive(bad)
    with pytest.raises(FileNotFoundError, match="FSDD archive not found"):
        read_archive(tmp_path / "missing.tar.gz")


def test_connected_utterances_are_seeded_and_one_speaker_each(recordings):
    test = official_split(recordings)[1]
    a = make_connected(test, 20, seed=3)
    b = make_connected(test, 20, seed=3)
    assert all(np.array_equal(x.audio, y.audio) and x.digits == y.digits for x, y in zip(a, b))
    assert make_connected(test, 1, seed=4)[0].digits != a[0].digits or \
        not np.array_equal(make_connected(test, 1, seed=4)[0].audio, a[0].audio)
    for u in a:
        assert 1 <= len(u.digits) <= 7 and len(u.spans) == len(u.digits)
        assert all(0 <= s < e <= len(u.audio) for s, e in u.spans)
        assert all(e1 <= s2 for (_, e1), (s2, _) in zip(u.spans, u.spans[1:]))  # in order


def test_connected_utterance_contains_the_recordings_plus_light_noise(recordings):
    test = official_split(recordings)[1]
    u = make_connected(test, 1, seed=5, min_digits=3, max_digits=3, snr_db=(30, 30))[0]
    pool = [r for r in test if r.speaker == u.speaker]
    for digit, (s, e) in zip(u.digits, u.spans):
        piece = u.audio[s:e]
        # one of the speaker's test takes of that digit, 30 dB below the noise-free speech
        errors = [np.mean((piece - r.audio) ** 2) / np.mean(r.audio ** 2)
                  for r in pool if r.digit == digit and len(r.audio) == e - s]
        assert errors and min(errors) < 10 ** (-20 / 10)


def test_make_connected_rejects_a_bad_number_of_digits(recordings):
    with pytest.raises(ValueError, match="min_digits <= max_digits"):
        make_connected(recordings, 1, seed=0, min_digits=3, max_digits=2)
