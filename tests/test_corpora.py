"""Corpora: the vendored stdlib split by module, pydoc prose, Tiny Shakespeare offline."""

import hashlib
import json

import pytest

from rnncourse.data import corpora
from rnncourse.data.corpora import (STDLIB_DIR, STDLIB_SPLITS, TINY_SHAKESPEARE_SHA256,
                                    load_corpus, python_docs, python_source, split_tail,
                                    tiny_shakespeare)


def _shakespeare_path():
    path = corpora.data_dir() / "tinyshakespeare.txt"
    if not path.is_file():
        pytest.skip(f"Tiny Shakespeare not found at {path}: set $RNNCOURSE_DATA_DIR to the "
                    "folder holding tinyshakespeare.txt (tests never download it)")
    return path


def test_stdlib_splits_are_disjoint_modules():
    names = [n for split in STDLIB_SPLITS.values() for n in split]
    assert len(names) == len(set(names))


def test_vendored_files_match_the_manifest():
    manifest = json.loads((STDLIB_DIR / "manifest.json").read_text())["files"]
    assert set(manifest) == {n for split in STDLIB_SPLITS.values() for n in split}
    for name, entry in manifest.items():
        digest = hashlib.sha256((STDLIB_DIR / name).read_bytes()).hexdigest()
        assert digest == entry["sha256"], name
    assert (STDLIB_DIR / "LICENSE.txt").read_text().count("PYTHON SOFTWARE FOUNDATION") >= 1


def test_python_source_splits_hold_their_own_modules():
    val = python_source("val")
    assert "class JSONDecoder" in val       # json/decoder.py is a validation module
    assert "class ArgumentParser" not in val
    assert "class ArgumentParser" in python_source("train")
    assert 100_000 < len(python_source("test")) < len(python_source("train"))


def test_python_source_rejects_an_edited_copy(tmp_path):
    root = tmp_path / "stdlib"
    corpora.vendor_stdlib(root, STDLIB_DIR)
    (root / "csv.py").write_text("# tampered\n")
    with pytest.raises(ValueError, match="sha256"):
        python_source("val", root)


def test_python_source_rejects_unknown_split():
    with pytest.raises(ValueError, match="split must be one of"):
        python_source("dev")


def test_python_docs_is_english_prose():
    text = python_docs()
    assert len(text) > 100_000
    assert "the" in text.split()[:2000]


def test_split_tail_is_nanogpt_split():
    text = "abcdefghij" * 10
    assert split_tail(text, "train") + split_tail(text, "val") == text
    assert len(split_tail(text, "val")) == 10
    with pytest.raises(ValueError, match="'train' or 'val'"):
        split_tail(text, "test")


def test_tiny_shakespeare_from_shared_data():
    text = tiny_shakespeare(_shakespeare_path())
    assert len(text) == 1_115_394
    assert text.startswith("First Citizen:")
    assert len(load_corpus("shakespeare", "val")) == len(text) - int(len(text) * 0.9)


def test_tiny_shakespeare_found_through_env_var(monkeypatch):
    path = _shakespeare_path()
    monkeypatch.setenv("RNNCOURSE_DATA_DIR", str(path.parent))
    assert tiny_shakespeare().startswith("First Citizen:")


def test_tiny_shakespeare_checks_its_sha256(tmp_path):
    bad = tmp_path / "tinyshakespeare.txt"
    bad.write_text("To be or not to be\n")
    with pytest.raises(ValueError, match=TINY_SHAKESPEARE_SHA256):
        tiny_shakespeare(bad)


def test_tiny_shakespeare_missing_never_downloads(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNCOURSE_DATA_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("RNNCOURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(corpora, "_download", lambda *a: pytest.fail("network used"))
    with pytest.raises(FileNotFoundError, match="download=True"):
        tiny_shakespeare()


def test_load_corpus_rejects_unknown_name():
    with pytest.raises(ValueError, match="unknown corpus"):
        load_corpus("klingon")
