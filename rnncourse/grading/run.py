"""Run graded copies under pytest + nbval and read back one result per cell.

One pytest process grades every notebook: nbval in lax mode (a cell fails only
when it raises), the kernel of the current environment, a time limit per cell,
xdist with ``--dist loadfile`` so a notebook's cells stay in one kernel on one
worker, pytest-randomly off, collection errors not stopping the run. Results come
from the JSON lines that ``rnncourse.grading.plugin`` writes, never from the
screen. A notebook left without results (its worker or the whole run was killed,
for instance by a student cell killing its parent process) is run once more on
its own, so one hostile submission cannot cost the others their grades.

With a sandbox (``sandbox``: the ``sandbox.json`` that
``rnncourse.grading.sandbox.write_kernelspec`` wrote), nbval starts the sandbox
kernelspec instead of the current environment's kernel, and the grader's plugin
gives each kernel a private folder for its ``ipc`` sockets.
"""

import importlib.util
import json
import os
import signal
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rnncourse.grading.sandbox import KERNEL_NAME

__all__ = ["FORGED", "CellResult", "NotebookResult", "read_results", "run_nbval", "run_isolated"]

STARTUP_S = 120  # pytest, workers and kernels starting, on a loaded machine
SLACK_PER_CELL_S = 10  # nbval's interrupt grace (5 s) and kernel shutdown
FORGED = "more than one result recorded for this cell: the grading run was tampered with"


@dataclass(frozen=True)
class CellResult:
    """The outcome of one notebook cell, as pytest reported it."""

    outcome: str  # passed, failed or skipped
    reason: str  # first line of the failure, or why it did not run
    xfail: bool  # nbval marks cells after a time-out as expected to fail

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    @property
    def ran(self) -> bool:
        return not (self.outcome == "skipped" and not self.xfail) and not self.reason.startswith("not run")


@dataclass
class NotebookResult:
    """Results of one graded copy: by nbval cell number, or why there are none."""

    cells: dict[int, CellResult] = field(default_factory=dict)
    error: str | None = None


def _command(paths: list[str], results: Path, root: Path, jobs: int, timeout: float,
             sandbox: Path | None = None) -> list[str]:
    ini = root / "pytest.ini"
    ini.write_text("[pytest]\n", encoding="utf-8")
    command = [
        sys.executable, "-m", "pytest", "-c", str(ini), "--rootdir", str(root), "-q",
        "-p", "rnncourse.grading.plugin", "-p", "no:randomly", "-p", "no:cacheprovider",
        f"--basetemp={root / 'pytest-tmp'}",
        "--nbval-lax", f"--nbval-cell-timeout={timeout:g}",
        "--continue-on-collection-errors", f"--rnncourse-results={results}",
    ]
    if sandbox is None:
        command.append("--nbval-current-env")
    else:
        command += [f"--nbval-kernel-name={KERNEL_NAME}", f"--rnncourse-sandbox={sandbox}"]
    jobs = min(jobs, len(paths))
    if jobs > 1:  # one job runs in pytest's own process: a worker would only add start-up time
        if importlib.util.find_spec("xdist") is None:
            raise RuntimeError("--jobs above 1 needs pytest-xdist (pip install pytest-xdist)")
        # a crashed worker is not replaced (xdist would hand the replacement the same
        # notebook, which kills it again): its notebooks are run alone afterwards
        command += ["-n", str(jobs), "--dist", "loadfile", "--max-worker-restart=0"]
    return command + paths


def _environment(sandbox: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")}
    env.update(MPLBACKEND="Agg", NO_COLOR="1", PYTHONDONTWRITEBYTECODE="1")
    if sandbox is not None:  # where nbval finds the sandbox kernelspec
        env["JUPYTER_PATH"] = os.pathsep.join(
            [str(sandbox.parent / "jupyter")] + ([env["JUPYTER_PATH"]] if env.get("JUPYTER_PATH") else []))
    return env


def read_results(results: Path, root: Path, notebooks: list[Path]) -> dict[Path, NotebookResult]:
    """Parse the plugin's JSON lines; a cell reported twice means forged lines."""
    by_name = {path.relative_to(root).as_posix(): path for path in notebooks}
    out = {path: NotebookResult() for path in notebooks}
    lines = results.read_text(encoding="utf-8").splitlines() if results.exists() else []
    for line in lines:
        try:
            record = json.loads(line)
            file, _, cell = record["nodeid"].partition("::")
            result, number = out.get(by_name.get(file)), int(cell.split()[1]) if cell else None
            when, outcome, reason = record["when"], record["outcome"], str(record["reason"])
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            continue  # a line cut short by a killed run, or not ours
        if result is None or when == "teardown":
            continue
        if when == "collect":
            result.error = f"could not be collected: {reason}"
        elif number in result.cells:
            result.cells[number] = CellResult("failed", FORGED, False)
        else:
            if when == "setup" and outcome != "passed":
                reason = f"not run: {reason}"
            result.cells[number] = CellResult(outcome, reason, bool(record.get("xfail")))
    return out


def run_nbval(notebooks: list[Path], root: Path, jobs: int, timeout: float,
              code_cells: dict[Path, int], log: list[str],
              sandbox: Path | None = None) -> dict[Path, NotebookResult]:
    """Grade ``notebooks`` (all under ``root``) in one pytest run; append its output to ``log``.

    ``code_cells`` (code cells per notebook) bounds the run's wall time: a cell never
    takes more than its time limit plus nbval's grace, so a longer run is killed.
    The results go to a folder of their own, out of the notebooks' way.
    """
    private = Path(tempfile.mkdtemp(prefix="rnncourse-results-"))
    try:
        return _run(notebooks, root, jobs, timeout, code_cells, log, private / "results.jsonl", sandbox)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _kill_strays(root: Path) -> list[int]:
    """Kill processes still working in ``root`` (kernels orphaned by a killed run,
    background processes a student cell started); Linux only, else a no-op."""
    killed = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            inside = Path(os.readlink(proc / "cwd")).is_relative_to(root)
            if inside and int(proc.name) != os.getpid():
                os.kill(int(proc.name), signal.SIGKILL)
                killed.append(int(proc.name))
        except (OSError, ValueError):  # gone, not ours, or no /proc
            continue
    return killed


def _run(notebooks: list[Path], root: Path, jobs: int, timeout: float, code_cells: dict[Path, int],
         log: list[str], results: Path, sandbox: Path | None) -> dict[Path, NotebookResult]:
    paths = [path.relative_to(root).as_posix() for path in notebooks]
    limit = STARTUP_S + sum(code_cells[path] for path in notebooks) * (timeout + SLACK_PER_CELL_S)
    process = subprocess.Popen(
        _command(paths, results, root, jobs, timeout, sandbox), cwd=root, env=_environment(sandbox),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True, text=True, errors="replace")
    try:
        output, _ = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        output += f"\n[rnncourse grade] run killed after {limit:.0f} s (over its time bound)\n"
    strays = _kill_strays(root)
    if strays:
        output += f"\n[rnncourse grade] killed {len(strays)} process(es) left running: {strays}\n"
    log.append(output)
    return read_results(results, root, notebooks)


def run_isolated(copies: dict[Path, str], root: Path, jobs: int, timeout: float,
                 code_cells: dict[Path, int], expected: dict[Path, set[int]],
                 log: list[str], sandbox: Path | None = None) -> dict[Path, NotebookResult]:
    """Write ``copies`` ({path: notebook text}) and ``run_nbval`` them; then run each
    notebook missing an ``expected`` cell, or with forged results, once more on its
    own from a fresh copy (what it gets then is its own doing)."""
    for path, text in copies.items():
        path.write_text(text, encoding="utf-8")
    results = run_nbval(list(copies), root, jobs, timeout, code_cells, log, sandbox)
    for path in copies:
        result = results[path]
        missing = not expected[path] <= result.cells.keys()
        forged = any(cell.reason == FORGED for cell in result.cells.values())
        if result.error is None and (missing or forged):
            why = "results missing" if missing else "results forged"
            log.append(f"[rnncourse grade] {path.relative_to(root)}: {why}, run alone\n")
            path.write_text(copies[path], encoding="utf-8")  # other cells may have spoilt it
            again = run_nbval([path], root, 1, timeout, code_cells, log, sandbox)[path]
            if again.error or forged or len(again.cells) >= len(result.cells):
                results[path] = again
    return results
