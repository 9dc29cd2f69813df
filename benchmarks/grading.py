"""Submissions per minute for ``rnncourse grade``: with and without the sandbox, 1 and 2 jobs.

Usage: python benchmarks/grading.py [--assignment NAME] [--copies K]
(default: the first solutions notebook with a check cell, 4 copies).

The submissions are K copies of the solved notebook (every cell runs, as in a
finished assignment), graded four times: ``--sandbox none`` and ``--sandbox
bwrap``, each with ``--jobs 1`` and ``--jobs 2``. Wall-clock and CPU seconds
(this process and all it started: pytest, workers, bwrap, kernels) are printed;
on a shared machine the CPU figures are the steadier ones. The sandbox's cost is
its start-up per kernel (bwrap, a fresh HOME, no shared caches), measured on its
own first: plain and sandboxed kernels started in turn (so load changes hit both),
timed to their first reply and to a reply after ``import matplotlib.pyplot``.
Sandboxed kernels' CPU escapes ``getrusage`` (they live in a PID namespace that is
killed, not waited for, at shutdown), so the CPU column is given without sandbox only.
"""

import argparse
import json
import os
import statistics
import sys
import resource
import shutil
import tempfile
import time
from pathlib import Path

from rnncourse.grading.cli import grade
from rnncourse.grading.prepare import load_assignment
from rnncourse.grading.sandbox import KERNEL_NAME, Limits, probe, read_only_paths, resolve, write_kernelspec
from rnncourse.release import check_spec, read_notebook

ROOT = Path(__file__).resolve().parents[1]


def first_assignment() -> str:
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        if any(check_spec(cell) for cell in read_notebook(path).cells):
            return path.stem
    raise SystemExit("no solutions notebook with a check cell")


def cpu_seconds() -> float:
    """User + system CPU of this process and its waited-for descendants."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def timed(run) -> tuple[float, float]:
    """(wall, CPU) seconds of ``run()``."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    run()
    return time.perf_counter() - wall, cpu_seconds() - cpu


def start_up(kind: str, box: Path, code: str) -> float:
    """Seconds from starting a kernel (``plain`` or ``sandbox``) to the reply to ``code``."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    from rnncourse.grading.plugin import sandboxed_kernel_manager

    os.environ["JUPYTER_PATH"] = str(box / "jupyter")
    if kind == "sandbox":
        manager = sandboxed_kernel_manager(box / "kernels")(kernel_name=KERNEL_NAME,
                                                            kernel_spec_manager=KernelSpecManager())
    else:
        manager = KernelManager(kernel_name="plain-bench", kernel_spec_manager=KernelSpecManager())
    start = time.perf_counter()
    manager.start_kernel(cwd=str(box))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=300)
        reply = client.execute_interactive(code, timeout=300, output_hook=lambda msg: None)
        assert reply["content"]["status"] == "ok", reply["content"]
        return time.perf_counter() - start
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def start_ups(rounds: int) -> None:
    box = Path(tempfile.mkdtemp(prefix="rnncourse-sandbox-", dir="/tmp"))
    try:
        write_kernelspec(box, Limits(), read_only_paths())
        (box / "kernels").mkdir()
        plain = box / "jupyter" / "kernels" / "plain-bench"
        plain.mkdir(parents=True)
        (plain / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "plain", "language": "python"}))
        print(f"kernel start-up, median of {rounds} (plain and sandboxed in turn), seconds")
        for label, code in (("to its first reply", "pass"), ("and import matplotlib.pyplot", "import matplotlib.pyplot")):
            times = {"plain": [], "sandbox": []}
            for _ in range(rounds):
                for kind in times:
                    times[kind].append(start_up(kind, box, code))
            p, b = statistics.median(times["plain"]), statistics.median(times["sandbox"])
            print(f"  {label:<30} plain {p:5.2f}  sandboxed {b:5.2f}  (+{b - p:.2f} s)", flush=True)
    finally:
        os.environ.pop("JUPYTER_PATH", None)
        shutil.rmtree(box, ignore_errors=True)


def graded(submissions: dict, name: str, jobs: int, timeout: float, sandbox: str) -> None:
    rows, _ = grade(submissions, name, ROOT / "solutions", jobs, timeout, sandbox=sandbox)
    assert all(row.passed == "yes" for row in rows), [row.message for row in rows if row.message]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default=None)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--rounds", type=int, default=5, help="kernel start-ups timed per kind")
    args = parser.parse_args()
    name = args.assignment or first_assignment()
    assignment = load_assignment(ROOT / "solutions", name)
    if resolve("auto") != "bwrap":
        raise SystemExit(f"no sandbox here to compare with: {probe()}")
    start_ups(args.rounds)
    folder = Path(tempfile.mkdtemp(prefix="rnncourse-bench-"))
    try:
        submissions = {}
        for k in range(args.copies):
            path = folder / f"student{k}.ipynb"
            shutil.copy(ROOT / "solutions" / f"{name}.ipynb", path)
            submissions[path.stem] = path
        print(f"{name}: {args.copies} solved copies, {len(assignment.checks)} check(s), "
              f"{os.cpu_count()} CPU(s), load {os.getloadavg()[0]:.1f}")
        print(f"{'jobs':>4} {'sandbox':>8} {'per minute':>11} {'wall s/sub':>11} {'CPU s/sub':>10}")
        for jobs in (1, 2):
            for sandbox in ("none", "bwrap"):
                wall, cpu = timed(lambda: graded(submissions, name, jobs, args.timeout, sandbox))
                cpu_text = f"{cpu / args.copies:10.2f}" if sandbox == "none" else f"{'-':>10}"
                print(f"{jobs:>4} {sandbox:>8} {60 * args.copies / wall:11.2f} "
                      f"{wall / args.copies:11.2f} {cpu_text}", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
