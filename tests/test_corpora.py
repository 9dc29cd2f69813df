"""Corpora: the vendored stdlib split by module, pydoc prose, Tiny Shakespeare offline."""

import hashlib
import json
import zipfile

import pytest

from rnncourse.data import corpora
from rnncourse.data.corpora import (STDLIB_ARCHIVE, STDLIB_SPLITS, TINY_SHAKESPEARE_SHA256,
                                    load_corpus, python_docs, python_source, split_tail,
                                    tiny_shakespeare)


def _shakespeare_path():
    path = corpora.data_dir() / "tinyshakespeare.txt"
    if not path.is_file():  # conftest points $RNNCOURSE_DATA_DIR at ../shared/data if it exists
        pytest.skip(f"Tiny Shakespeare not found at {path}: set $RNNCOURSE_DATA_DIR to the "
                    "folder holding tinyshakespeare.txt (tests never download it)")
    return path


def test_stdlib_splits_are_disjoint_modules():
    names = [n for split in STDLIB_SPLITS.values() for n in split]
    assert len(names) == len(set(names))


def _members():
    with STDLIB_ARCHIVE.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_vendored_archive_matches_the_manifest():
    members = _members()
    manifest = json.loads(members.pop("manifest.json"))["files"]
    assert set(manifest) == {n for split in STDLIB_SPLITS.values() for n in split}
    assert set(members) == set(manifest) | {"LICENSE.txt"}
    for name, entry in manifest.items():
        assert hashlib.sha256(members[name]).hexdigest() == entry["sha256"], name
    assert members["LICENSE.txt"].decode().count("PYTHON SOFTWARE FOUNDATION") >= 1


def test_vendor_stdlib_rebuilds_the_same_files(tmp_path):
    source = tmp_path / "stdlib"
    for name, data in _members().items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    manifest = corpora.vendor_stdlib(tmp_path / "again.zip", source)
    assert manifest["files"] == json.loads(_members()["manifest.json"])["files"]
    for split in STDLIB_SPLITS:
        assert python_source(split, tmp_path / "again.zip") == python_source(split)


def test_no_python_files_outside_the_package_code():
    """Data is not code: the corpus ships as an archive, not as importable modules."""
    root = corpora._PACKAGE_ROOT.parent
    assert not (root / "datasets" / "python_stdlib").exists()


def test_python_source_splits_hold_their_own_modules():
    val = python_source("val")
    assert "class JSONDecoder" in val       # json/decoder.py is a validation module
    assert "class ArgumentParser" not in val
    assert "class ArgumentParser" in python_source("train")
    assert 100_000 < len(python_source("test")) < len(python_source("train"))


def test_python_source_rejects_an_edited_copy(tmp_path):
    members = _members()
    members["csv.py"] = b"# tampered\n"
    (tmp_path / "stdlib.zip").write_bytes(corpora._zip_bytes(members))
    with pytest.raises(ValueError, match="csv.py: sha256"):
        python_source("val", tmp_path / "stdlib.zip")


def test_python_source_missing_archive_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no vendored stdlib corpus"):
        python_source("val", tmp_path / "none.zip")


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


def test_data_dir_does_not_search_parent_folders(monkeypatch, tmp_path):
    monkeypatch.delenv("RNNCOURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("RNNCOURSE_CACHE_DIR", str(tmp_path / "cache"))
    found = corpora.data_dir()
    beside = corpora._PACKAGE_ROOT.parent.parent / "shared" / "data"
    assert found in (beside, tmp_path / "cache")


def test_load_corpus_rejects_unknown_name():
    with pytest.raises(ValueError, match="unknown corpus"):
        load_corpus("klingon")
