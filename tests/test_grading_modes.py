"""``--sandbox auto|bwrap|none`` and the bwrap command line, without starting a kernel.

The submissions here are unreadable, so no kernel starts: these tests only check
which mode is chosen, what the log and the terminal say, and what the sandbox's
command line shows a kernel (tests/test_grading_sandbox.py attacks a real one).
"""

import csv
from dataclasses import asdict
from pathlib import Path

import pytest

from rnncourse.cli import main
from rnncourse.grading import sandbox
from rnncourse.grading.sandbox import Limits, SandboxError, bwrap_command, read_only_paths, resolve

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def course(tmp_path, monkeypatch):
    from test_grading import NAME, canonical_notebook
    import nbformat

    (tmp_path / "solutions").mkdir()
    nbformat.write(canonical_notebook(), tmp_path / "solutions" / f"{NAME}.ipynb")
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "broken.ipynb").write_text("{ not json")
    monkeypatch.chdir(tmp_path)
    return ["grade", "subs", "--assignment", NAME, "--out", str(tmp_path / "g.csv")]


def _no_bwrap(monkeypatch):
    monkeypatch.setattr(sandbox, "probe", lambda: "bubblewrap (bwrap) is not installed (apt-get install bubblewrap)")


def test_none_grades_with_a_loud_warning_recorded_in_the_log(course, tmp_path, capsys):
    assert main([*course, "--sandbox", "none"]) == 0
    assert "WARNING: grading WITHOUT a sandbox" in capsys.readouterr().err
    log = (tmp_path / "g.log").read_text()
    assert log.startswith("[rnncourse grade] sandbox: none\n[rnncourse grade] WARNING: grading WITHOUT")
    assert [t["status"] for t in csv.DictReader((tmp_path / "g_totals.csv").open())] == ["unreadable"]


def test_auto_without_bwrap_falls_back_to_none_and_warns(course, tmp_path, capsys, monkeypatch):
    _no_bwrap(monkeypatch)
    assert main(course) == 0
    assert "WARNING: grading WITHOUT a sandbox" in capsys.readouterr().err
    assert "sandbox: none" in (tmp_path / "g.log").read_text()


def test_bwrap_without_bwrap_stops_with_one_line(course, tmp_path, capsys, monkeypatch):
    _no_bwrap(monkeypatch)
    assert main([*course, "--sandbox", "bwrap"]) == 1
    assert capsys.readouterr().out.strip() == (
        "rnncourse grade: error: --sandbox bwrap: bubblewrap (bwrap) is not installed "
        "(apt-get install bubblewrap)")
    assert not (tmp_path / "g.csv").exists()


def test_an_unknown_mode_is_refused():
    with pytest.raises(SandboxError, match="--sandbox must be one of auto, bwrap, none"):
        resolve("docker")


def test_the_command_line_shows_the_kernel_nothing_of_the_course(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("PWD", str(ROOT))
    connection = tmp_path / "kernels" / "k1" / "kernel.json"
    config = {"limits": asdict(Limits(memory_mb=1000)), "read_only": read_only_paths()}
    command = bwrap_command(config, str(connection), uid=-1)
    for flag in ("--unshare-user", "--unshare-pid", "--unshare-net", "--die-with-parent",
                 "--new-session", "--clearenv"):
        assert flag in command
    mounts = {command[n + 2] for n, word in enumerate(command) if word in ("--bind", "--ro-bind")}
    writable = {command[n + 2] for n, word in enumerate(command) if word == "--bind"}
    assert writable == {str(connection.parent)}
    assert str(ROOT) not in mounts and str(ROOT / "solutions") not in mounts
    assert str(Path.home()) not in mounts
    assert not any(Path(ROOT / "solutions").is_relative_to(m) for m in mounts)
    env = {command[n + 1]: command[n + 2] for n, word in enumerate(command) if word == "--setenv"}
    assert env["HOME"] == str(connection.parent)
    assert "t0ken" not in env.values() and "PWD" not in env and "GITHUB_TOKEN" not in env
    assert command[-4:-3] == [sandbox.BOOTSTRAP] and command[-3] == f"{1000 << 20},900,256,{1024 << 20}"


def test_a_read_only_folder_holding_the_solutions_is_not_shown(course, tmp_path, monkeypatch):
    # --sandbox-read (or a data folder) set to the course folder would show solutions/
    captured = {}
    monkeypatch.setattr(sandbox, "probe", lambda: None)
    monkeypatch.setattr("rnncourse.grading.cli.write_kernelspec",
                        lambda box, limits, shown, env: captured.setdefault("shown", shown))
    assert main([*course, "--sandbox-read", str(tmp_path)]) == 0
    assert str(tmp_path) not in captured["shown"] and captured["shown"]
    assert f"not shown to the kernels: {tmp_path}" in (tmp_path / "g.log").read_text()
