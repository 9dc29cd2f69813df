"""pytest plugin loaded by ``rnncourse grade`` (``-p rnncourse.grading.plugin``).

Two jobs, on the two sides of an xdist run:

- where a notebook cell runs (an xdist worker, or the only process): watch the
  kernel while a cell waits for its reply, so a kernel killed by ``os._exit`` or a
  crash fails that cell at once instead of after the whole cell time limit, and
  attach the first line of each failure (``NameError: name 'h' is not defined``,
  no ANSI colours) to the report's ``user_properties``;
- where reports are gathered (the xdist controller): append one JSON line per
  cell result and per collection error to ``--rnncourse-results``, flushed at once
  so that a run killed half-way still leaves what it had.

With ``--rnncourse-sandbox CONFIG`` (the sandbox's ``sandbox.json``), every
process that starts kernels gives each kernel jupyter's ``ipc`` transport and a
folder of its own for its connection file and sockets, next to ``CONFIG``: the
sandbox shows a kernel that folder only (``rnncourse.grading.sandbox``).

The grader reads that file, never pytest's screen output.
"""

import json
import os
import re
import signal
import tempfile
import time
from pathlib import Path
from queue import Empty

import pytest

__all__ = ["KernelDied", "ResultsWriter", "first_line", "pytest_addoption", "pytest_configure",
           "pytest_runtest_call", "pytest_runtest_makereport", "sandboxed_kernel_manager", "why_stopped"]

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
POLL_S = 0.5  # how often a waiting cell checks that its kernel is still alive
MAX_CHARS = 300  # a gradebook cell stays readable whatever a student raises
REASON = "rnncourse_reason"


class KernelDied(RuntimeError):
    """The notebook's kernel process ended while a cell was running."""


def first_line(text: str) -> str:
    """The first non-empty line of ``text``, without ANSI colour codes, shortened."""
    for line in ANSI.sub("", str(text)).splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= MAX_CHARS else line[: MAX_CHARS - 3] + "..."
    return ""


def pytest_addoption(parser) -> None:
    parser.addoption("--rnncourse-results", default=None,
                     help="append one JSON line per notebook cell result to this file")
    parser.addoption("--rnncourse-sandbox", default=None,
                     help="the grading sandbox's config: kernels get ipc sockets in folders of their own")


def sandboxed_kernel_manager(runtime: Path):
    """A ``KernelManager`` factory: ``ipc`` transport, connection file and sockets
    in a fresh folder under ``runtime`` (the only host folder its sandbox sees)."""
    from jupyter_client.manager import KernelManager

    def manager(**kwargs):
        folder = tempfile.mkdtemp(prefix="k", dir=runtime)
        return KernelManager(transport="ipc", connection_file=os.path.join(folder, "kernel.json"),
                             **kwargs)

    return manager


def pytest_configure(config) -> None:
    path = config.getoption("rnncourse_results")
    if path and not hasattr(config, "workerinput"):  # the controller (or the only process)
        config.pluginmanager.register(ResultsWriter(path), "rnncourse-results")
    sandbox = config.getoption("rnncourse_sandbox")
    if sandbox:  # every process that may start a kernel
        import nbval.kernel

        settings = json.loads(Path(sandbox).read_text(encoding="utf-8"))
        runtime = Path(sandbox).parent / "kernels"
        runtime.mkdir(exist_ok=True)
        nbval.kernel.KernelManager = sandboxed_kernel_manager(runtime)
        config._rnncourse_limits = settings["limits"]


def why_stopped(kernel, limits: dict | None) -> str:
    """Why a kernel process ended, from its exit status, in the gradebook's words."""
    process = getattr(getattr(getattr(kernel, "km", None), "provisioner", None), "process", None)
    code = process.poll() if process is not None else None
    if code is None:
        return "exit(), os._exit, a crash or out of memory"
    number = -code if code < 0 else code - 128 if code > 128 else None
    xcpu = getattr(signal, "SIGXCPU", None)  # POSIX only
    if number == xcpu and limits:
        return f"over the sandbox's CPU limit of {limits['cpu_s']} s per process"
    if number in (getattr(signal, "SIGKILL", None), xcpu) and number is not None:
        return f"killed by {signal.Signals(number).name}: out of memory or over a CPU limit"
    if number is not None and 0 < number < signal.NSIG:
        return f"killed by {signal.Signals(number).name}"
    return f"exit status {code}"


def _watch_kernel(kernel, limits: dict | None = None) -> None:
    """Make ``kernel.await_reply`` give up as soon as the kernel process is gone."""
    if getattr(kernel, "_rnncourse_watched", False):
        return
    wait = kernel.await_reply

    def await_reply(msg_id, timeout=None):
        deadline = None if timeout is None else time.monotonic() + float(timeout)
        while True:
            left = POLL_S if deadline is None else min(POLL_S, deadline - time.monotonic())
            if left <= 0:
                raise Empty
            try:
                return wait(msg_id, timeout=left)
            except Empty:
                if not kernel.is_alive():
                    raise KernelDied("the kernel stopped during or just before this cell "
                                     f"({why_stopped(kernel, limits)})") from None

    kernel.await_reply = await_reply
    kernel._rnncourse_watched = True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item) -> None:
    kernel = getattr(getattr(item, "parent", None), "kernel", None)
    if kernel is not None and hasattr(kernel, "await_reply") and hasattr(kernel, "is_alive"):
        _watch_kernel(kernel, getattr(item.config, "_rnncourse_limits", None))


MEMORY = ("MemoryError", "can't allocate memory", "Cannot allocate memory")


def _reason(item, exc: BaseException) -> str:
    """One line saying why a cell failed (a memory error names the sandbox's limit)."""
    reason = _first_reason(item, exc)
    limits = getattr(item.config, "_rnncourse_limits", None)
    if limits and any(text in reason for text in MEMORY):
        reason = first_line(f"over the sandbox's memory limit of {limits['memory_mb']} MiB per "
                            f"process: {reason}")
    return reason


def _first_reason(item, exc: BaseException) -> str:
    errors = [out for out in getattr(item, "test_outputs", None) or []
              if out.get("output_type") == "error"]
    message = first_line(exc.args[0]) if exc.args else ""
    if message.startswith("Timeout"):
        return message
    if errors and errors[-1].get("ename") != "KeyboardInterrupt":
        ename, evalue = errors[-1].get("ename", "Error"), first_line(errors[-1].get("evalue", ""))
        return f"{ename}: {evalue}" if evalue else ename
    if message == "Kernel dead on test start":
        return "not run: the kernel had stopped in an earlier cell"
    return first_line(f"{type(exc).__name__}: {exc}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.when == "call" and call.excinfo is not None:
        # a new list: the report shares item.user_properties with later reports
        report.user_properties = [*report.user_properties, (REASON, _reason(item, call.excinfo.value))]
    return report


def _last_line(text: str) -> str:
    lines = [line for line in ANSI.sub("", text or "").splitlines() if line.strip()]
    return first_line(lines[-1]) if lines else ""


class ResultsWriter:
    """Controller side: one JSON line per cell result or collection error."""

    def __init__(self, path: str):
        self.handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed at unconfigure)

    def write(self, record: dict) -> None:
        self.handle.write(json.dumps(record) + "\n")
        self.handle.flush()

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report) -> None:
        if report.when != "call" and report.passed:
            return
        reason = dict(report.user_properties).get(REASON)
        if reason is None and not report.passed:
            reason = _last_line(report.longreprtext)
        self.write({"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
                    "xfail": hasattr(report, "wasxfail"), "reason": reason or "",
                    "duration": round(report.duration, 3)})

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.write({"nodeid": report.nodeid, "when": "collect", "outcome": "failed",
                        "xfail": False, "reason": _last_line(report.longreprtext),
                        "duration": 0.0})

    def pytest_unconfigure(self, config) -> None:
        self.handle.close()
