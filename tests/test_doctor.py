"""rnncourse doctor reports versions, the device, and whether the kernel sees the package."""

from rnncourse.cli import main
from rnncourse.doctor import kernel_sees_package, report, versions


def test_versions_cover_the_course_packages():
    found = versions()
    for name in ("python", "rnncourse", "torch", "numpy", "jupyterlab", "nbval"):
        assert found[name] != "missing", f"{name} is not installed"


def test_unknown_kernel_is_reported_not_raised():
    sees, detail = kernel_sees_package("no-such-kernel-xyz")
    assert not sees and "no-such-kernel-xyz" in detail


def test_report_names_the_device_and_kernel(monkeypatch):
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


def test_cli_doctor_exit_code(monkeypatch, capsys):
    monkeypatch.setenv("RNNCOURSE_DEVICE", "cpu")
    assert main(["doctor"]) == 0
    assert "torch" in capsys.readouterr().out
