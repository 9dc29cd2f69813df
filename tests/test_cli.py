"""One program with verbs: bad values are one line on stderr with exit status 2, help is
plain text, and a verb imports only its own module."""

import subprocess
import sys

import pytest

from rnncourse.cli import COMMANDS, main


@pytest.mark.parametrize("argv, where", [
    (["train", "--corpus", "x"], "--corpus"),
    (["train", "--device", "gpu"], "--device"),
    (["train", "--dropout", "2"], "--dropout"),
    (["train", "--batch-size", "0"], "--batch-size"),
    (["train", "--steps", "-5"], "--steps"),
    (["train", "--lr", "fast"], "--lr"),
    (["speech", "--stop-after", "x"], "--stop-after"),
    (["speech", "--dropout", "1.5"], "--dropout"),
    (["music", "--batch-size", "0"], "--batch-size"),
    (["music", "--device", "gpu"], "--device"),
    (["minchar", "--steps", "0"], "--steps"),
    (["ngram", "--order", "0"], "--order"),
    (["ablation", "--kinds", "LSTM"], "--kinds"),
    (["no-such-verb"], "invalid choice"),
    ([], "VERB"),
])
def test_bad_values_are_one_line_on_stderr_with_status_2(argv, where, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert not captured.out
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and where in lines[0] and "error" in lines[0], captured.err


@pytest.mark.parametrize("verb", [None, *COMMANDS])
def test_help_is_plain_text(verb, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(([verb] if verb else []) + ["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "usage: rnncourse" in text and "``" not in text and "`" not in text


def test_missing_shakespeare_is_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RNNCOURSE_DATA_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("RNNCOURSE_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["train", "--corpus", "shakespeare", "--steps", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Tiny Shakespeare not found" in err[0] and "--data-path" in err[0]


def test_a_verb_imports_only_its_own_module():
    probe = ("import sys; from rnncourse.cli import build_parser; build_parser(['release']);"
             "print(sorted(m for m in sys.modules if m.startswith('rnncourse.')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert "rnncourse.release" in out and "rnncourse.train" not in out
