"""Seconds per submission for ``rnncourse grade`` (1 and 2 jobs) against plain nbval.

Usage: python benchmarks/grading.py [--assignment NAME] [--copies K]
(default: the first solutions notebook with a check cell, 4 copies).

The submissions are K copies of the solved notebook (every cell runs, as in a
finished assignment). Plain nbval runs the same copies with the same options
(lax mode, current environment, one notebook per worker); the difference is the
grader's own cost: preparing the copies, its pytest plugin, and the gradebook.
Both wall-clock and CPU seconds (this process and all it started: pytest,
workers, kernels) are printed; on a shared machine the CPU figures are the
steadier ones.
"""

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rnncourse.grading.cli import grade
from rnncourse.grading.prepare import load_assignment
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


def plain_nbval(folder: Path, jobs: int, timeout: float) -> None:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
               "--rootdir", str(folder), "--nbval-lax", "--nbval-current-env",
               f"--nbval-cell-timeout={timeout:g}", str(folder)]
    if jobs > 1:
        command[4:4] = ["-n", str(jobs), "--dist", "loadfile"]
    subprocess.run(command, cwd=folder, stdout=subprocess.DEVNULL, check=False)


def graded(submissions: dict, name: str, jobs: int, timeout: float) -> None:
    rows, _ = grade(submissions, name, ROOT / "solutions", jobs, timeout)
    assert all(row.passed == "yes" for row in rows), [row.message for row in rows if row.message]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default=None)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    name = args.assignment or first_assignment()
    assignment = load_assignment(ROOT / "solutions", name)
    folder = Path(tempfile.mkdtemp(prefix="rnncourse-bench-"))
    try:
        submissions = {}
        for k in range(args.copies):
            path = folder / f"student{k}.ipynb"
            shutil.copy(ROOT / "solutions" / f"{name}.ipynb", path)
            submissions[path.stem] = path
        print(f"{name}: {args.copies} solved copies, {len(assignment.checks)} check(s)")
        print("seconds per submission, wall (CPU)")
        print(f"{'jobs':>4} {'plain nbval':>16} {'rnncourse grade':>16} {'overhead (CPU)':>15}")
        for jobs in (1, 2):
            plain = timed(lambda: plain_nbval(folder, jobs, args.timeout))
            ours = timed(lambda: graded(submissions, name, jobs, args.timeout))
            p_wall, p_cpu, g_wall, g_cpu = (x / args.copies for x in (*plain, *ours))
            print(f"{jobs:>4} {p_wall:8.2f} ({p_cpu:5.2f}) {g_wall:8.2f} ({g_cpu:5.2f}) "
                  f"{g_wall / p_wall - 1:6.0%} ({g_cpu / p_cpu - 1:4.0%})", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
