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

The grader reads that file, never pytest's screen output.
"""

import json
import re
import time
from queue import Empty

import pytest

__all__ = ["KernelDied", "ResultsWriter", "first_line", "pytest_addoption", "pytest_configure",
           "pytest_runtest_call", "pytest_runtest_makereport"]

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


def pytest_configure(config) -> None:
    path = config.getoption("rnncourse_results")
    if path and not hasattr(config, "workerinput"):  # the controller (or the only process)
        config.pluginmanager.register(ResultsWriter(path), "rnncourse-results")


def _watch_kernel(kernel) -> None:
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
                                     "(exit(), os._exit, a crash or out of memory)") from None

    kernel.await_reply = await_reply
    kernel._rnncourse_watched = True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item) -> None:
    kernel = getattr(getattr(item, "parent", None), "kernel", None)
    if kernel is not None and hasattr(kernel, "await_reply") and hasattr(kernel, "is_alive"):
        _watch_kernel(kernel)


def _reason(item, exc: BaseException) -> str:
    """One line saying why a cell failed."""
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
