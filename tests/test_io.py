"""rnncourse._io: the one atomic writer (whole file or nothing, mode 0644)."""

import json

import pytest

from rnncourse._io import atomic_path, write_bytes, write_json, write_text


def test_write_text_is_world_readable_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "sub" / "a.txt"
    assert write_text(path, "héllo\n")
    assert path.read_text(encoding="utf-8") == "héllo\n"
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["a.txt"]


def test_if_changed_skips_identical_content(tmp_path):
    path = tmp_path / "a.bin"
    assert write_bytes(path, b"\x00\x01")
    mtime = path.stat().st_mtime_ns
    assert not write_bytes(path, b"\x00\x01", if_changed=True)
    assert path.stat().st_mtime_ns == mtime
    assert write_bytes(path, b"\x02", if_changed=True) and path.read_bytes() == b"\x02"


def test_write_json_round_trips(tmp_path):
    write_json(tmp_path / "r.json", {"a": [1, 2], "b": "ü"})
    text = (tmp_path / "r.json").read_text(encoding="utf-8")
    assert json.loads(text) == {"a": [1, 2], "b": "ü"} and text.endswith("}\n")


def test_a_failing_writer_leaves_the_old_file_and_no_temp_file(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="crash"):
        with atomic_path(path) as tmp:
            tmp.write_bytes(b"half a fi")
            raise RuntimeError("crash")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]
