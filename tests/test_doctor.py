"""rnncourse doctor reports versions, the device, and whether the kernel sees the package,
from any folder, checking the Python that Jupyter itself would run."""

import json
import sys

from rnncourse.cli import main
from rnncourse.doctor import kernel_command, kernel_sees_package, report, versions


def _kernelspec(root, name, argv):
    folder = root / "kernels" / name
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps(
        {"argv": argv + ["-m", "ipykernel_launcher", "-f", "{connection_file}"],
         "display_name": name, "language": "python"}))


def _broken_python_first_on_path(tmp_path, monkeypatch):
    """A ``python``/``python3`` on PATH that cannot import anything, and an empty cwd."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("python", "python3"):
        (bin_dir / name).write_text("#!/bin/sh\necho 'ModuleNotFoundError: broken' >&2\nexit 1\n")
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    work = tmp_path / "elsewhere"
    work.mkdir()
    monkeypatch.chdir(work)


def test_versions_cover_the_course_packages():
    found = versions()
    for name in ("python", "rnncourse", "torch", "numpy", "jupyterlab", "nbval"):
        assert found[name] != "missing", f"{name} is not installed"


def test_unknown_kernel_is_reported_not_raised():
    sees, detail = kernel_sees_package("no-such-kernel-xyz")
    assert not sees and "no-such-kernel-xyz" in detail


def test_bare_python_in_a_kernelspec_means_the_python_running_jupyter(tmp_path, monkeypatch):
    """jupyter_client runs sys.executable for argv[0] 'python': so must the doctor,
    whatever ``python`` is first on PATH and whatever the current folder."""
    _kernelspec(tmp_path / "jupyter", "bare", ["python3"])
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    _broken_python_first_on_path(tmp_path, monkeypatch)
    assert kernel_command("bare")[0] == [sys.executable]
    sees, detail = kernel_sees_package("bare")
    assert sees, detail


def test_a_kernel_whose_python_lacks_the_package_is_reported(tmp_path, monkeypatch):
    _broken_python_first_on_path(tmp_path, monkeypatch)
    _kernelspec(tmp_path / "jupyter", "other", [str(tmp_path / "bin" / "python")])
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    sees, detail = kernel_sees_package("other")
    assert not sees and "cannot import rnncourse" in detail


def test_report_names_the_device_and_kernel_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RNNCOURSE_DEVICE", "cpu")
    ok, lines = report()
    text = "\n".join(lines)
    assert "device: cpu" in text
    assert "kernel: ok" in text and "imports" in text
    assert ok


def test_report_flags_an_unavailable_forced_device(monkeypatch):
    monkeypatch.setenv("RNNCOURSE_DEVICE", "tpu")
    ok, lines = report()
    assert not ok and any("ERROR: unknown device 'tpu'" in line for line in lines)


def test_cli_doctor_exit_code(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RNNCOURSE_DEVICE", "cpu")
    assert main(["doctor"]) == 0
    assert "torch" in capsys.readouterr().out
