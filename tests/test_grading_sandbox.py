"""The grading sandbox against a hostile class: real escape attempts, one grading run.

A course folder (``solutions/`` with hidden tests, an instructor home holding a
token) is built in a temporary folder, and ``rnncourse grade`` runs on it as an
instructor would (cwd and ``$PWD`` the course folder, ``$HOME`` the instructor's,
a token in the environment). Every hostile submission is correct plus cells that
try to get out; each must be stopped and the submission still earn its points.
The evidence is taken outside the sandbox: files, hashes, processes, a listening
socket. The run happens once per test session (a file lock shares it between
xdist workers), with 2 jobs and small limits so that the bombs stay cheap.
"""

import csv
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

import nbformat
import pytest
from filelock import FileLock

import rnncourse
from rnncourse.grading.sandbox import probe

from test_grading import NAME, SOLVED, _insert_after, canonical_notebook, student_version

pytestmark = pytest.mark.notebook

if probe() is not None:
    if os.environ.get("RNNCOURSE_REQUIRE_SANDBOX"):  # set by .ci/run, which installs bwrap
        raise RuntimeError(f"the grading sandbox must work here: {probe()}")
    pytestmark = [pytestmark, pytest.mark.skip(reason=f"no grading sandbox here: {probe()}")]

TOKEN = "escaped7f3a"  # in every file name, command line and message an attack leaves
MEMORY_MIB, CELL_TIMEOUT = 1024, 30
PACKAGE = Path(rnncourse.__file__).resolve().parent
SITE = Path(sysconfig.get_paths()["purelib"]).resolve()

# One cell of attempts, with the paths a well-informed attacker would guess.
# Writes are judged outside (files, hashes): a write into the sandbox's own
# private folders is no escape. Reads, the environment and the network are
# judged inside: the cell fails ("ESCAPED: ...", shown in the gradebook) if any
# of them got through.
ATTACK = '''\
import glob, os, socket, subprocess, sys, time
TOKEN, COURSE, HOME, PORT, PACKAGE, SITE, TMP = {token!r}, {course!r}, {home!r}, {port}, {package!r}, {site!r}, {tmp!r}
got = []

def attempt(what, action, judged=True):
    try:
        action()
        if judged:
            got.append(what)
    except Exception:
        pass

def write(folder):
    with open(os.path.join(folder, TOKEN + ".txt"), "w") as handle:
        handle.write(TOKEN)

def read_secret(path):
    text = open(path).read()
    assert "HIDDEN TESTS" in text or TOKEN in text or "root:" in text

def instructor_environment():
    values = " ".join(os.environ.values())
    assert TOKEN in values or COURSE in values or HOME in values

# 1. write outside the temporary folder: $PWD, .., absolute paths, the package, site-packages
for name in ("PWD", "OLDPWD", "HOME"):
    if os.environ.get(name):
        attempt("write $" + name, lambda: write(os.environ[name]), judged=False)
for folder in ("..", "../..", "../../..", COURSE, COURSE + "/solutions", COURSE + "/submissions",
               HOME, TMP, PACKAGE, SITE):
    attempt("write " + folder, lambda: write(folder), judged=False)
attempt("edit rnncourse/checks.py", lambda: open(os.path.join(PACKAGE, "checks.py"), "a").write("# " + TOKEN))
attempt("plant a .pth", lambda: open(os.path.join(SITE, TOKEN + ".pth"), "w").write("import os"))
import rnncourse.checks
attempt("edit the imported package", lambda: open(rnncourse.checks.__file__, "a").write("# " + TOKEN))
# 2. read the solutions, the hidden tests (the graded copies), the instructor's secrets
for path in (COURSE + "/solutions/{name}.ipynb", HOME + "/secret.txt", "/etc/shadow",
             *glob.glob(TMP + "/rnncourse-grade-*/s*/*.ipynb"), *glob.glob("/tmp/rnncourse-grade-*/s*/*.ipynb")):
    attempt("read " + path, lambda: read_secret(path))
attempt("the instructor's environment", instructor_environment)
# 3. processes that outlive the grading: setsid, double fork
sleeper = [sys.executable, "-c", "import time; time.sleep(120)  # " + TOKEN]
subprocess.Popen(sleeper, start_new_session=True, stdin=subprocess.DEVNULL,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, sleeper)
    os._exit(0)
os.wait()
# 4. the network: the grader's own machine, and the world
attempt("connect to the host", lambda: socket.create_connection(("127.0.0.1", PORT), timeout=2))
attempt("connect to the internet", lambda: socket.create_connection(("1.1.1.1", 53), timeout=2))
attempt("resolve a name", lambda: socket.getaddrinfo("pypi.org", 443))
assert not got, "ESCAPED: " + "; ".join(got)
'''

MEMORY_BOMB = "blocks = []\nwhile True:\n    blocks.append(bytearray(32 << 20))"
# bounded by construction (3000), so a broken limit fails the test instead of the machine
FORK_BOMB = '''\
import os, time
children = 0
try:
    while children < 3000:
        if os.fork() == 0:
            time.sleep(120)
            os._exit(0)
        children += 1
except BlockingIOError:
    pass
assert children < 3000, "FORK BOMB NOT STOPPED"'''
CPU_HOG = "while True:\n    pass"


def _sha_tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and proc.name != str(os.getpid()):
            found.append(f"{proc.name}: {cmdline[:200]}")
    return found


def _package_touched() -> list[str]:
    """Files of the package or site-packages an attack created or appended to."""
    named = [str(p) for folder in (PACKAGE, SITE) for p in folder.glob(f"*{TOKEN}*")]
    edited = [str(p) for p in PACKAGE.glob("*.py") if TOKEN in p.read_text(errors="replace")]
    return named + edited


def _grade(base: Path) -> dict:
    course, home, results, tmp = (base / name for name in ("course", "home", "results", "tmp"))
    for folder in (course / "solutions", course / "submissions", home, results, tmp):
        folder.mkdir(parents=True)
    nbformat.write(canonical_notebook(), course / "solutions" / f"{NAME}.ipynb")
    (home / "secret.txt").write_text(f"instructor secret {TOKEN}")

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    accepted, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[1])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()

    attack = ATTACK.format(token=TOKEN, course=str(course), home=str(home), name=NAME, tmp=str(tmp),
                           port=listener.getsockname()[1], package=str(PACKAGE), site=str(SITE))
    planted = {
        "correct": student_version(SOLVED),
        "untouched": student_version(),
        "escape": _insert_after(student_version(SOLVED), "setup", attack),
        "memory_bomb": _insert_after(student_version(SOLVED), "setup", MEMORY_BOMB),
        "fork_bomb": _insert_after(student_version(SOLVED), "setup", FORK_BOMB),
    }
    for student, nb in planted.items():
        nbformat.write(nb, course / "submissions" / f"{student}.ipynb")
    before = _sha_tree(course)
    package_before = _package_touched()
    out = results / "gradebook.csv"
    done = run_grade(course, home, tmp, out, "--memory-limit", str(MEMORY_MIB), "--jobs", "2")
    stop.set()
    return {
        **done,
        "course_unchanged": before == _sha_tree(course),
        "course_files_after": sorted(set(_sha_tree(course)) ^ set(before)),
        "escaped_files": sorted(str(p) for folder in (base, PACKAGE, SITE) for p in folder.rglob(f"*{TOKEN}*")),
        "package_touched": sorted(set(_package_touched()) - set(package_before)),
        "connections": len(accepted),
        "survivors": _processes_mentioning(TOKEN) + _processes_mentioning(str(tmp)) + (
            _processes_mentioning(box[0]) if (box := re.findall(r"sandbox folder: (\S+)", done["log"])) else
            ["no sandbox folder in the log"]),
        "tmp_left": sorted(str(p) for p in tmp.iterdir()) + [
            box for box in re.findall(r"sandbox folder: (\S+)", done["log"]) if Path(box).exists()],
    }


def run_grade(course: Path, home: Path, tmp: Path, out: Path, *options: str,
              timeout: float = CELL_TIMEOUT) -> dict:
    """``rnncourse grade submissions`` from ``course``, as the instructor runs it: cwd
    and ``$PWD`` the course folder, ``$HOME`` theirs, a token in the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    env.update(PWD=str(course), OLDPWD=str(home), HOME=str(home), TMPDIR=str(tmp),
               GITHUB_TOKEN=TOKEN, JPY_PARENT_PID=str(os.getpid()))
    done = subprocess.run(
        [sys.executable, "-m", "rnncourse.cli", "grade", "submissions", "--assignment", NAME,
         "--out", str(out), "--timeout", str(timeout), "--sandbox", "bwrap", *options],
        cwd=course, env=env, capture_output=True, text=True, timeout=900)
    totals = out.parent / f"{out.stem}_totals.csv"
    return {
        "code": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
        "rows": {f"{r['student']}|{r['check']}": r for r in csv.DictReader(out.open())} if out.exists() else {},
        "totals": {t["student"]: t for t in csv.DictReader(totals.open())} if totals.exists() else {},
        "log": out.with_suffix(".log").read_text() if out.exists() else "",
    }


def _shared(tmp_path_factory, name: str, make) -> dict:
    """``make(folder)``, once per test session even under xdist (a file lock)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    cache = shared / f"rnncourse-{name}.json"
    with FileLock(str(cache) + ".lock"):
        if not cache.exists():
            cache.write_text(json.dumps(make(tmp_path_factory.mktemp(name))))
    return json.loads(cache.read_text())


@pytest.fixture(scope="session")
def hostile(tmp_path_factory):
    return _shared(tmp_path_factory, "grading-hostile", _grade)


CPU_S = 5  # above a kernel's start-up CPU (about 1 s), far below the cell's time limit


def _cpu_hog(base: Path) -> dict:
    """A kernel spinning past the CPU limit, its cell time limit far away."""
    course, home, tmp = base / "course", base / "home", base / "tmp"
    for folder in (course / "solutions", course / "submissions", home, tmp):
        folder.mkdir(parents=True)
    nbformat.write(canonical_notebook(), course / "solutions" / f"{NAME}.ipynb")
    nbformat.write(_insert_after(student_version(SOLVED), "setup", CPU_HOG),
                   course / "submissions" / "cpu_hog.ipynb")
    return run_grade(course, home, tmp, base / "gradebook.csv", "--cpu-limit", str(CPU_S), "--jobs", "1",
                     timeout=300)


@pytest.fixture(scope="session")
def cpu_hog(tmp_path_factory):
    return _shared(tmp_path_factory, "grading-cpu-hog", _cpu_hog)


def test_run_succeeds_in_the_sandbox_and_says_so(hostile):
    assert hostile["code"] == 0, hostile["stdout"] + hostile["stderr"]
    assert "[rnncourse grade] sandbox: bwrap (memory 1024 MiB" in hostile["log"]
    assert "WARNING" not in hostile["stderr"]


def test_ordinary_submissions_are_graded_as_without_a_sandbox(hostile):
    assert hostile["totals"]["correct"]["points_earned"] == "3"
    assert hostile["totals"]["correct"]["note"] == ""
    r = hostile["rows"][f"untouched|01.double"]
    assert (r["points_earned"], r["status"]) == ("0", "failed")
    assert r["message"].startswith("NotImplementedError: Exercise 1.1")


def test_every_escape_attempt_is_stopped_and_the_work_still_counts(hostile):
    # the attack cell raises "ESCAPED: ..." if any attempt got through
    total = hostile["totals"]["escape"]
    assert (total["points_earned"], total["note"]) == ("3", ""), total


def test_nothing_outside_the_temporary_folder_changed(hostile):
    assert hostile["course_unchanged"], hostile["course_files_after"]
    assert hostile["escaped_files"] == []
    assert hostile["package_touched"] == []
    assert hostile["tmp_left"] == [], "the grader's temporary folders were not removed"


def test_no_connection_reached_the_host(hostile):
    assert hostile["connections"] == 0


def test_no_process_of_a_submission_is_alive_after_grading(hostile):
    # setsid and double-forked sleepers (TOKEN in their command line) and the fork
    # bomb's children (forked kernels, whose command line names the grading folder)
    assert hostile["survivors"] == []


def test_memory_bomb_gets_a_clear_row_and_the_checks_still_run(hostile):
    total = hostile["totals"]["memory_bomb"]
    assert total["points_earned"] == "3"
    assert total["note"].startswith(f"cell 3: over the sandbox's memory limit of {MEMORY_MIB} MiB "
                                    "per process: MemoryError"), total["note"]


def test_fork_bomb_is_stopped_at_the_process_limit(hostile):
    total = hostile["totals"]["fork_bomb"]
    assert (total["points_earned"], total["note"]) == ("3", ""), total


def test_cpu_hog_is_killed_at_the_cpu_limit_with_a_clear_row(cpu_hog):
    assert cpu_hog["code"] == 0, cpu_hog["stdout"] + cpu_hog["stderr"]
    total = cpu_hog["totals"]["cpu_hog"]
    assert total["note"] == ("cell 3: KernelDied: the kernel stopped during or just before this cell "
                             f"(over the sandbox's CPU limit of {CPU_S} s per process)"), total
    assert cpu_hog["rows"]["cpu_hog|01.double"]["message"].startswith(
        "not run: the kernel had stopped in an earlier cell")
