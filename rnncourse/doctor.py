"""``rnncourse doctor``: is this machine ready for the course?

Prints the versions of the packages the course needs, the device that
``rnncourse.device.get_device`` picks, and whether the default Jupyter kernel
(the one the notebooks open with) can import ``rnncourse``.
"""

import importlib.metadata
import os
import platform
import subprocess
import sys
import tempfile

__all__ = ["versions", "kernel_command", "kernel_sees_package", "report", "add_arguments", "run"]

PACKAGES = ("rnncourse", "numpy", "torch", "matplotlib", "jupyterlab", "ipywidgets",
            "ipykernel", "nbval", "tqdm")


def versions() -> dict[str, str]:
    """Installed version of each package the course needs ("missing" if absent)."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def kernel_command(kernel_name: str = "python3") -> tuple[list[str], dict]:
    """The interpreter part of the command Jupyter runs for ``kernel_name``, and the
    environment it runs it with, resolved exactly as ``jupyter_client`` does: a
    kernelspec ``argv[0]`` of ``python``/``python3`` means the Python running Jupyter
    (``sys.executable``), not whatever ``python`` is first on PATH; the spec's ``env``
    is added to the current environment."""
    from jupyter_client.manager import KernelManager

    manager = KernelManager(kernel_name=kernel_name)
    argv = manager.format_kernel_cmd()
    # keep the interpreter and its own options (e.g. -Xfrozen_modules=off), drop the launcher
    interpreter = argv[: argv.index("-m")] if "-m" in argv else argv[:1]
    return interpreter, {**os.environ, **(manager.kernel_spec.env or {})}


def kernel_sees_package(kernel_name: str = "python3") -> tuple[bool, str]:
    """Whether the Jupyter kernel ``kernel_name`` can import rnncourse, and where from.

    The probe runs the kernel's own interpreter from an empty temporary folder, so the
    answer does not depend on the folder ``rnncourse doctor`` is run from.
    """
    try:
        interpreter, env = kernel_command(kernel_name)
    except Exception as exc:
        return False, f"no Jupyter kernel {kernel_name!r}: {exc}"
    python = interpreter[0]
    probe = "import rnncourse, sys; print(rnncourse.__file__)"
    try:
        with tempfile.TemporaryDirectory() as neutral:
            done = subprocess.run([*interpreter, "-c", probe], capture_output=True, text=True,
                                  timeout=60, cwd=neutral, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"kernel python {python} could not run: {exc}"
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["unknown error"])[-1]
        return False, f"kernel python {python} cannot import rnncourse: {last}"
    return True, f"kernel python {python} imports {done.stdout.strip()}"


def report() -> tuple[bool, list[str]]:
    """(everything fine, lines to print)."""
    from rnncourse.device import available_devices, get_device

    lines = [f"{name:>11}: {version}" for name, version in versions().items()]
    ok = "missing" not in versions().values()
    try:
        device = str(get_device())
    except (ValueError, RuntimeError) as exc:
        device, ok = f"ERROR: {exc}", False
    lines.append(f"{'device':>11}: {device} (available: {', '.join(available_devices())})")
    sees, detail = kernel_sees_package()
    ok = ok and sees
    lines.append(f"{'kernel':>11}: {'ok' if sees else 'PROBLEM'}: {detail}")
    lines.append("all good: run `make lab` to open the course" if ok
                 else "some checks failed: see the lines above (README.md, Troubleshooting)")
    return ok, lines


def add_arguments(parser) -> None:
    """``doctor`` takes no options."""


def run(args) -> int:
    ok, lines = report()
    print("\n".join(lines[:-1]))
    print(lines[-1], file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1
