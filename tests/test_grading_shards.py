"""``rnncourse grade --shard K/N`` and ``rnncourse grade merge``.

The merge checks run on hand-made shard gradebooks (no kernel). One test grades
four submissions once in a single run and once as two shards in two processes at
the same time (what a job array does on two machines), merges the shards and
compares the files byte for byte.
"""

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from rnncourse.cli import main
from rnncourse.grading.cli import manifest_path, merge, parse_shard, shard_of
from rnncourse.grading.gradebook import Row, Total, totals_path, write_csv

from test_grading import NAME, PLANTED, canonical_notebook

STUDENTS = ["ada", "bo", "cy", "di", "ed", "flo"]


def _shard_files(folder: Path, count: int, students=STUDENTS, skip=(), extra=None) -> list[Path]:
    """Shard gradebooks as ``--shard K/count`` would write them (one check each)."""
    paths = []
    for k in range(1, count + 1):
        if k in skip:
            continue
        mine = sorted(s for s in students if shard_of(s, count) == k)
        if extra and k == 1:
            mine = sorted(mine + [extra])
        out = folder / f"gradebook-{k}-of-{count}.csv"
        rows = [Row(s, f"subs/{s}.ipynb", "01.double", 1, 1, "yes", "passed", "", "") for s in mine]
        totals = [Total(s, f"subs/{s}.ipynb", 1, 1, 1, 1, "graded", "", "") for s in mine]
        write_csv(out, rows, Row)
        write_csv(totals_path(out), totals, Total)
        out.with_suffix(".log").write_text(f"log of shard {k}\n")
        listing = sorted(students)
        manifest_path(out).write_text(json.dumps({
            "shard": k, "of": count, "assignment": NAME, "students": mine, "listing": len(listing),
            "listing_sha256": hashlib.sha256("\n".join(listing).encode()).hexdigest(), "sandbox": "bwrap"}))
        paths.append(out)
    return paths


def test_shards_split_every_student_into_exactly_one_slice():
    names = [f"student{n}" for n in range(200)]
    counts = [sum(shard_of(s, 4) == k for s in names) for k in range(1, 5)]
    assert sum(counts) == 200 and min(counts) > 25  # deterministic and roughly even
    assert [shard_of(s, 4) for s in names] == [shard_of(s, 4) for s in names]


def test_parse_shard_gives_one_clear_error():
    assert parse_shard("2/8") == (2, 8)
    for bad in ("0/4", "5/4", "2", "a/b", "1/2/3"):
        with pytest.raises(ValueError, match="--shard"):
            parse_shard(bad)


def test_merge_puts_students_back_in_order(tmp_path):
    rows, totals, log = merge(_shard_files(tmp_path, 3))
    assert [t.student for t in totals] == sorted(STUDENTS)
    assert [r.student for r in rows] == sorted(STUDENTS)
    assert log.count("log of shard") == 3


def test_merge_refuses_a_missing_shard(tmp_path):
    with pytest.raises(ValueError, match=r"missing shard\(s\) 2/3: grade them with --shard K/3"):
        merge(_shard_files(tmp_path, 3, skip=(2,)))


def test_merge_refuses_a_shard_given_twice(tmp_path):
    paths = _shard_files(tmp_path, 2)
    with pytest.raises(ValueError, match="shard 1/2 given twice"):
        merge([paths[0], paths[0], paths[1]])


def test_merge_refuses_overlapping_shards(tmp_path):
    other = next(s for s in STUDENTS if shard_of(s, 2) == 2)
    with pytest.raises(ValueError, match=f"student '{other}' is in shard 1 and shard 2"):
        merge(_shard_files(tmp_path, 2, extra=other))


def test_merge_refuses_shards_of_another_split_or_a_plain_gradebook(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    two, three = _shard_files(tmp_path / "a", 2), _shard_files(tmp_path / "b", 3)
    with pytest.raises(ValueError, match="belongs to another split: of 3 against 2"):
        merge([two[0], three[1]])
    (tmp_path / "plain.csv").write_text("student\n")
    with pytest.raises(ValueError, match="is not a shard gradebook: no plain.shard.json"):
        merge([tmp_path / "plain.csv"])


def test_merge_command_reports_errors_in_one_line(tmp_path, capsys):
    paths = _shard_files(tmp_path, 3, skip=(3,))
    assert main(["grade", "merge", *map(str, paths), "--out", str(tmp_path / "g.csv")]) == 1
    assert capsys.readouterr().out.strip().splitlines() == [
        "rnncourse grade merge: error: missing shard(s) 3/3: grade them with --shard K/3"]
    assert not (tmp_path / "g.csv").exists()


# --- N local processes against one run ----------------------------------------------

SHARDED = ["correct", "untouched", "hidden_wrong", "crash"]


@pytest.mark.notebook
def test_two_shard_processes_merged_equal_one_run(tmp_path):
    (tmp_path / "solutions").mkdir()
    nbformat.write(canonical_notebook(), tmp_path / "solutions" / f"{NAME}.ipynb")
    (tmp_path / "subs").mkdir()
    for student in SHARDED:
        nbformat.write(PLANTED[student](), tmp_path / "subs" / f"{student}.ipynb")
    assert {shard_of(s, 2) for s in SHARDED} == {1, 2}, "both shards must have work"
    base = [sys.executable, "-m", "rnncourse.cli", "grade", "subs", "--assignment", NAME,
            "--timeout", "30"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}

    def start(*options):
        return subprocess.Popen([*base, *options], cwd=tmp_path, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    start_time = time.monotonic()
    shards = [start("--shard", f"{k}/2", "--jobs", "1") for k in (1, 2)]  # at the same time
    single = start("--out", "single.csv", "--jobs", "2")
    outputs = [p.communicate(timeout=900)[0] for p in (*shards, single)]
    assert [p.returncode for p in (*shards, single)] == [0, 0, 0], outputs
    assert time.monotonic() - start_time < 900
    assert "wrote gradebook-1-of-2.csv" in outputs[0]
    done = subprocess.run([*base[:4], "merge", "gradebook-1-of-2.csv", "gradebook-2-of-2.csv",
                           "--out", "merged.csv"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("merged.csv", "merged_totals.csv"):
        assert (tmp_path / name).read_text() == (tmp_path / name.replace("merged", "single")).read_text()
    assert (tmp_path / "single_totals.csv").read_text().count("\n") == 1 + len(SHARDED)
    manifest = json.loads((tmp_path / "gradebook-1-of-2.shard.json").read_text())
    assert (manifest["shard"], manifest["of"], manifest["listing"]) == (1, 2, len(SHARDED))
    assert "sandbox: " in (tmp_path / "merged.log").read_text()


def test_merge_accepts_empty_shards(tmp_path):
    paths = _shard_files(tmp_path, 12)  # 6 students: some of the 12 slices are empty
    assert any(json.loads(manifest_path(p).read_text())["students"] == [] for p in paths)
    rows, totals, _ = merge(paths)
    assert [t.student for t in totals] == sorted(STUDENTS)
