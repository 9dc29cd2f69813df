"""Seconds per submission for ``rnncourse grade`` (1 and 2 jobs) against plain nbval.

Usage: python benchmarks/grading.py [--assignment NAME] [--copies K]
(default: the first solutions notebook with a check cell, 4 copies).

The submissions are K copies of the solved notebook (every cell runs, as in a
finished assignment). Plain nbval runs the same copies with the same options
(lax mode, current environment, one notebook per worker); the difference is the
grader's own cost: preparing the copies, its pytest plugin, and the gradebook.
"""

import argparse
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


def plain_nbval(folder: Path, jobs: int, timeout: float) -> float:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
               "--rootdir", str(folder), "--nbval-lax", "--nbval-current-env",
               f"--nbval-cell-timeout={timeout:g}", str(folder)]
    if jobs > 1:
        command[4:4] = ["-n", str(jobs), "--dist", "loadfile"]
    start = time.perf_counter()
    subprocess.run(command, cwd=folder, stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


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
        print(f"{'jobs':>4} {'plain nbval s/sub':>18} {'rnncourse grade s/sub':>22} {'overhead':>9}")
        for jobs in (1, 2):
            plain = plain_nbval(folder, jobs, args.timeout) / args.copies
            start = time.perf_counter()
            rows, _ = grade(submissions, name, ROOT / "solutions", jobs, args.timeout)
            graded = (time.perf_counter() - start) / args.copies
            assert all(row.passed == "yes" for row in rows), [r.message for r in rows if r.message]
            print(f"{jobs:>4} {plain:18.2f} {graded:22.2f} {graded / plain - 1:8.0%}", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
