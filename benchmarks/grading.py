"""Submissions per minute for ``rnncourse grade``: with and without the sandbox, 1 and 2 jobs.

Usage: python benchmarks/grading.py [--assignment NAME] [--copies K]
(default: the first solutions notebook with a check cell, 4 copies).

The submissions are K copies of the solved notebook (every cell runs, as in a
finished assignment), graded four times: ``--sandbox none`` and ``--sandbox
bwrap``, each with ``--jobs 1`` and ``--jobs 2``. Wall-clock and CPU seconds
(this process and all it started: pytest, workers, bwrap, kernels) are printed;
on a shared machine the CPU figures are the steadier ones. The sandbox's cost is
its start-up per kernel (bwrap, a fresh HOME, no shared caches).
"""

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from rnncourse.grading.cli import grade
from rnncourse.grading.prepare import load_assignment
from rnncourse.grading.sandbox import probe, resolve
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


def graded(submissions: dict, name: str, jobs: int, timeout: float, sandbox: str) -> None:
    rows, _ = grade(submissions, name, ROOT / "solutions", jobs, timeout, sandbox=sandbox)
    assert all(row.passed == "yes" for row in rows), [row.message for row in rows if row.message]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default=None)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    name = args.assignment or first_assignment()
    assignment = load_assignment(ROOT / "solutions", name)
    if resolve("auto") != "bwrap":
        raise SystemExit(f"no sandbox here to compare with: {probe()}")
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
                print(f"{jobs:>4} {sandbox:>8} {60 * args.copies / wall:11.2f} "
                      f"{wall / args.copies:11.2f} {cpu / args.copies:10.2f}", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
