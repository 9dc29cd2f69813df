"""``rnncourse grade SUBMISSIONS --assignment NAME``: a gradebook from student notebooks.

Each submission is read (never written), turned into a graded copy in a temporary
folder (``rnncourse.grading.prepare``), all copies are run in one pytest + nbval
run (``rnncourse.grading.run``), and the gradebook and totals are written
(``rnncourse.grading.gradebook``), with pytest's full output in a log next to them.
A submission that cannot be read or belongs to another assignment gets its rows
with the reason; the others are graded as usual.

Each kernel runs in a sandbox (``rnncourse.grading.sandbox``) where one works
(``--sandbox auto``, the default; ``bwrap`` insists, ``none`` turns it off with a
loud warning); the log records which. ``--shard K/N`` grades only the submissions
whose name hashes to slice K of N, into a gradebook of its own with a manifest
(``.shard.json``); ``rnncourse grade merge`` joins the N shard gradebooks into one,
refusing overlaps, missing or foreign shards.
"""

import argparse
import csv
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from rnncourse._io import write_text
from rnncourse.grading.gradebook import (
    Row, Total, broken_rows, check_rows, summary, total, totals_path, write_csv,
)
from rnncourse.grading.plugin import ANSI, first_line
from rnncourse.grading.prepare import find_submissions, load_assignment, prepare_submission
from rnncourse.grading.run import run_isolated
from rnncourse.grading.sandbox import MODES, WARNING, Limits, SandboxError, read_only_paths, resolve, write_kernelspec
from rnncourse.data.corpora import data_dir
from rnncourse.release import ReleaseError, read_notebook

__all__ = ["grade", "add_arguments", "run", "shard_of", "parse_shard", "merge", "manifest_path"]


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:  # gone or unreadable: compared, never fatal
        return f"unreadable: {exc}"


def grade(submissions: dict[str, Path], assignment_name: str, solutions: str | Path = "solutions",
          jobs: int = 2, timeout: float = 60, log: list[str] | None = None, sandbox: str = "auto",
          limits: Limits | None = None, read_only: tuple = ()):
    """Grade ``{student: notebook path}``; return ``(rows, totals)``.

    ``log`` (a list) receives pytest's output and the grader's notes, starting
    with ``sandbox: bwrap (...)`` or ``sandbox: none``. ``sandbox`` is ``auto``,
    ``bwrap`` or ``none``; ``limits`` and ``read_only`` (extra folders the kernels
    may read) apply to the sandbox.
    """
    assignment = load_assignment(solutions, assignment_name)
    log = [] if log is None else log
    mode = resolve(sandbox)
    limits = limits or Limits()
    if mode == "none":
        log.append(f"[rnncourse grade] sandbox: none\n[rnncourse grade] {WARNING}\n")
        print(WARNING, file=sys.stderr)
    else:
        log.append(f"[rnncourse grade] sandbox: bwrap ({limits.describe()})\n")
    before = {student: _sha256(path) for student, path in submissions.items()}
    root = Path(tempfile.mkdtemp(prefix="rnncourse-grade-"))
    # the kernels' ipc sockets live under the sandbox folder: a short path, since a
    # socket path may not pass 107 characters (a long $TMPDIR would break them)
    box = Path(tempfile.mkdtemp(prefix="rnncourse-sandbox-", dir="/tmp")) if mode == "bwrap" else None
    try:
        config = None
        if box is not None:
            env = {"RNNCOURSE_DATA_DIR": str(data_dir())} if data_dir().is_dir() else {}
            secret = Path(solutions).resolve()
            shown = read_only_paths(read_only)
            for path in shown:  # e.g. a data folder set to the course folder itself
                if secret.is_relative_to(path):
                    log.append(f"[rnncourse grade] not shown to the kernels: {path} (it holds {secret})\n")
            write_kernelspec(box, limits, [p for p in shown if not secret.is_relative_to(p)], env)
            config = box / "sandbox.json"
            log.append(f"[rnncourse grade] sandbox folder: {box}\n")
        prepared, broken, paths, copies = {}, {}, {}, {}
        for n, (student, path) in enumerate(sorted(submissions.items()), 1):
            try:
                graded = prepare_submission(read_notebook(path), assignment)
            except Exception as exc:  # any malformed notebook: its row says why
                broken[student] = ("unreadable", f"not gradable: {first_line(str(exc))}")
                continue
            if graded.foreign:
                broken[student] = ("wrong assignment", graded.foreign)
                continue
            folder = root / f"s{n:04d}"
            folder.mkdir()
            paths[student] = folder / f"{assignment.name}.ipynb"
            copies[paths[student]] = nbformat.writes(graded.notebook)
            prepared[student] = graded
            log.append(f"[rnncourse grade] {folder.name} = {student} ({path})\n")
        code_cells = {paths[s]: len(p.origins) for s, p in prepared.items()}
        expected = {paths[s]: {n for n, o in enumerate(p.origins) if o[0] == "check"}
                    for s, p in prepared.items()}
        results = (run_isolated(copies, root, jobs, timeout, code_cells, expected, log, config)
                   if copies else {})
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if box is not None:
            shutil.rmtree(box, ignore_errors=True)

    rows, totals = [], []
    for student, path in sorted(submissions.items()):
        if student in broken:
            status, reason = broken[student]
            these = broken_rows(student, str(path), assignment, reason)
            totals.append(total(these, status, note=reason))
        else:
            graded = prepared[student]
            these, first = check_rows(student, str(path), assignment, graded, results[paths[student]])
            totals.append(total(these, "graded", graded.markers_stripped, note=first))
        if _sha256(path) != before[student]:
            totals[-1].note = f"WARNING: the submission file changed during grading. {totals[-1].note}"
        rows += these
    return rows, totals


def shard_of(student: str, count: int) -> int:
    """The shard (1..count) that grades ``student``: a hash of the name, so every
    machine computes the same split from the same listing."""
    return int(hashlib.sha256(student.encode("utf-8")).hexdigest()[:16], 16) % count + 1


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/8"`` -> ``(2, 8)``; a clear ValueError otherwise."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard must look like K/N (e.g. 2/8), not {text!r}") from None
    if not 1 <= k <= n:
        raise ValueError(f"--shard {text}: K must be between 1 and N")
    return k, n


def manifest_path(out: str | Path) -> Path:
    """``gradebook-2-of-8.csv`` -> ``gradebook-2-of-8.shard.json``."""
    return Path(out).with_suffix(".shard.json")


def _listing_sha256(students) -> str:
    return hashlib.sha256("\n".join(sorted(students)).encode("utf-8")).hexdigest()


def _positive(kind):
    """An argparse type: a number above zero, else one clear line."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not value > 0:
            raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
        return value
    parse.__name__ = kind.__name__
    return parse


def add_arguments(parser) -> None:
    parser.add_argument("submissions", nargs="+",
                        help="notebooks, or folders of them (alice.ipynb, or alice/NAME.ipynb); "
                             "or 'merge' followed by the shard gradebooks to combine")
    parser.add_argument("--assignment",
                        help="notebook stem of the assignment, e.g. 01_toy_rnns (required to grade)")
    parser.add_argument("--solutions", default="solutions",
                        help="folder of the canonical notebooks (default: solutions)")
    parser.add_argument("--out", default=None,
                        help="gradebook CSV (default: gradebook.csv, or gradebook-K-of-N.csv with "
                             "--shard; totals go to *_totals.csv, pytest's output to *.log)")
    parser.add_argument("--jobs", type=_positive(int), default=2,
                        help="notebooks graded at once, one kernel each (default: 2)")
    parser.add_argument("--timeout", type=_positive(float), default=60,
                        help="time limit per cell in seconds (default: 60)")
    parser.add_argument("--sandbox", choices=MODES, default="auto",
                        help="run each kernel in a bubblewrap sandbox: auto (default: where it "
                             "works, else warn), bwrap (fail if it cannot), none")
    parser.add_argument("--sandbox-read", action="append", default=[], metavar="FOLDER",
                        help="a further folder the sandboxed kernels may read (repeatable)")
    defaults = Limits()
    parser.add_argument("--memory-limit", type=_positive(int), default=defaults.memory_mb, metavar="MIB",
                        help=f"sandbox: memory per process in MiB (default: {defaults.memory_mb})")
    parser.add_argument("--cpu-limit", type=_positive(int), default=defaults.cpu_s, metavar="SECONDS",
                        help=f"sandbox: CPU seconds per process (default: {defaults.cpu_s})")
    parser.add_argument("--process-limit", type=_positive(int), default=defaults.processes, metavar="N",
                        help=f"sandbox: processes and threads (default: {defaults.processes})")
    parser.add_argument("--shard", default=None, metavar="K/N",
                        help="grade only slice K of N (by a hash of the student name), for a "
                             "cluster job array; combine the N gradebooks with 'rnncourse grade merge'")


def run(args) -> int:
    if args.submissions[0] == "merge":
        return _run_merge(args)
    start = time.monotonic()
    try:
        if not args.assignment:
            raise ValueError("--assignment is required to grade (e.g. --assignment 01_toy_rnns)")
        shard = parse_shard(args.shard) if args.shard else None
        submissions = find_submissions(args.submissions, args.assignment)
        if not submissions:
            raise ValueError(f"no .ipynb files found in {args.submissions}")
        listing = sorted(submissions)
        if shard:
            submissions = {s: p for s, p in submissions.items() if shard_of(s, shard[1]) == shard[0]}
        log = []
        limits = Limits(memory_mb=args.memory_limit, cpu_s=args.cpu_limit, processes=args.process_limit)
        if submissions:
            rows, totals = grade(submissions, args.assignment, args.solutions, args.jobs,
                                 args.timeout, log, args.sandbox, limits, tuple(args.sandbox_read))
        else:  # a shard can be empty: its gradebook says so, and merge still needs it
            rows, totals = [], []
            log.append(f"[rnncourse grade] shard {args.shard}: no submission falls in it\n")
    except (ReleaseError, ValueError, FileNotFoundError, RuntimeError, SandboxError) as exc:
        print(f"rnncourse grade: error: {exc}")
        return 1
    out = Path(args.out or ("gradebook.csv" if not shard else f"gradebook-{shard[0]}-of-{shard[1]}.csv"))
    _write(out, rows, totals, "".join(log))
    written = [out, totals_path(out), out.with_suffix(".log")]
    if shard:
        sandbox = next((line.split("sandbox: ")[1].split()[0] for line in log if "sandbox: " in line),
                       "none (nothing graded)")
        write_text(manifest_path(out), json.dumps({
            "shard": shard[0], "of": shard[1], "assignment": args.assignment,
            "students": sorted(submissions), "listing": len(listing),
            "listing_sha256": _listing_sha256(listing), "sandbox": sandbox}, indent=1) + "\n")
        written.append(manifest_path(out))
    print(summary(totals, time.monotonic() - start))
    print(f"wrote {', '.join(map(str, written[:-1]))} and {written[-1]}")
    return 0


def _write(out: Path, rows: list, totals: list, log: str) -> None:
    write_csv(out, rows, Row)
    write_csv(totals_path(out), totals, Total)
    write_text(out.with_suffix(".log"), ANSI.sub("", log))


def _read_csv(path: Path, kind) -> list:
    if not path.is_file():
        raise ValueError(f"{path} is missing")
    with path.open(encoding="utf-8", newline="") as handle:
        return [kind(**record) for record in csv.DictReader(handle)]


def merge(paths: list[str | Path]) -> tuple[list[Row], list[Total], str]:
    """Combine shard gradebooks (each with its totals, log and ``.shard.json``) into
    the rows, totals and log one run over all submissions would have written.

    Raises ValueError when a shard is missing, given twice, from another split or
    assignment, or when a student appears in two shards."""
    if not paths:
        raise ValueError("give the shard gradebooks to merge (gradebook-1-of-N.csv ...)")
    shards = {}
    for path in map(Path, paths):
        manifest = manifest_path(path)
        if not manifest.is_file():
            raise ValueError(f"{path} is not a shard gradebook: no {manifest.name} beside it "
                             f"(written by rnncourse grade --shard K/N)")
        info = json.loads(manifest.read_text(encoding="utf-8"))
        first = next(iter(shards.values()), (None, info))[1]
        for key in ("of", "assignment", "listing_sha256"):
            if info[key] != first[key]:
                raise ValueError(f"{path} belongs to another split: {key} {info[key]!r} "
                                 f"against {first[key]!r}")
        if info["shard"] in shards:
            raise ValueError(f"shard {info['shard']}/{info['of']} given twice: "
                             f"{shards[info['shard']][0]} and {path}")
        shards[info["shard"]] = (path, info)
    count = first["of"]
    missing = [k for k in range(1, count + 1) if k not in shards]
    if missing:
        raise ValueError(f"missing shard(s) {', '.join(f'{k}/{count}' for k in missing)}: "
                         f"grade them with --shard K/{count}")
    owner, rows, totals, logs = {}, [], [], []
    for k in sorted(shards):
        path, info = shards[k]
        for student in info["students"]:
            if student in owner:
                raise ValueError(f"student {student!r} is in shard {owner[student]} and shard {k}")
            owner[student] = k
        these, sums = _read_csv(path, Row), _read_csv(totals_path(path), Total)
        if {r.student for r in these} != set(info["students"]) or {t.student for t in sums} != set(info["students"]):
            raise ValueError(f"{path} does not hold the students its {manifest_path(path).name} lists")
        rows += these
        totals += sums
        log = path.with_suffix(".log")
        logs.append(f"[rnncourse grade merge] shard {k}/{count}: {path}\n"
                    + (log.read_text(encoding="utf-8") if log.is_file() else "(no log)\n"))
    if len(owner) != first["listing"]:
        raise ValueError(f"the shards hold {len(owner)} of the {first['listing']} submissions listed")
    order = {student: n for n, student in enumerate(sorted(owner))}
    rows.sort(key=lambda r: order[r.student])  # stable: checks keep their order
    totals.sort(key=lambda t: order[t.student])
    return rows, totals, "".join(logs)


def _run_merge(args) -> int:
    start = time.monotonic()
    try:
        rows, totals, log = merge(args.submissions[1:])
    except (ValueError, OSError, KeyError, TypeError) as exc:
        print(f"rnncourse grade merge: error: {exc}")
        return 1
    out = Path(args.out or "gradebook.csv")
    _write(out, rows, totals, log)
    print(summary(totals, time.monotonic() - start))
    print(f"wrote {out}, {totals_path(out)} and {out.with_suffix('.log')}")
    return 0
