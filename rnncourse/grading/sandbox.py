"""Each submission's kernel in a bubblewrap sandbox (Linux).

Only the *kernel* goes into the sandbox: the grader, pytest, nbval and the
grader's plugin (which records the results) stay outside, so student code can
neither forge results nor see the grader's files. ``rnncourse grade`` writes a
kernelspec (``KERNEL_NAME``) whose argv runs this module as a launcher:
``python -m rnncourse.grading.sandbox CONFIG CONNECTION_FILE``. The launcher
builds a ``bwrap`` command and replaces itself with it, so the kernel manager's
process *is* bwrap, and killing it (``--die-with-parent``) ends everything the
submission started. Inside:

- nothing of the host is visible but the Python environment, the ``rnncourse``
  package, the course data folder and the system folders a Python process needs
  (``/usr``, ``/lib``..., a few files of ``/etc``), all read-only; the course
  folder, ``solutions/``, the instructor's home and the grading folder are not
  mounted at all;
- the only writable places are the kernel's own fresh folder (HOME and cwd; it
  also holds the connection file and jupyter's ``ipc`` sockets, since
  ``--unshare-net`` cuts TCP loopback) and a size-limited ``/tmp``; both vanish
  after grading;
- no network, its own PID namespace (every process it starts dies with it, a
  ``setsid`` or double-forked one too), its own IPC and UTS namespaces, a new
  session (no terminal to inject into);
- a scrubbed environment: no PWD/OLDPWD/HOME of the instructor, no tokens; only
  PATH, HOME, TMPDIR, locale, MPLBACKEND and a few settings are set;
- rlimits: address space (memory), CPU seconds, processes and file size. When
  the grader runs as root, the kernel drops to an unprivileged uid of its own
  (root ignores the process limit); otherwise bwrap's user namespace makes the
  process limit count only the sandbox's processes.

``probe()`` runs a trivial command the same way to tell whether the sandbox
works here; ``resolve()`` turns ``--sandbox none|bwrap|auto`` into the mode
used. This module imports nothing heavy: it starts once per kernel.
"""

import functools
import json
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["KERNEL_NAME", "MODES", "Limits", "SandboxError", "probe", "resolve", "home_files",
           "read_only_paths", "write_kernelspec", "bwrap_command", "main", "WARNING"]

KERNEL_NAME = "rnncourse-sandbox"
MODES = ("auto", "bwrap", "none")
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "fonts", "alternatives",
       "nsswitch.conf", "passwd", "group", "mime.types", "ssl/certs", "matplotlibrc")
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt/conda")
KEEP_ENV = ("LANG", "LC_ALL", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "CUDA_VISIBLE_DEVICES",
            "RNNCOURSE_DEVICE", "PYTHONHASHSEED")
UNPRIVILEGED_UIDS = (60000, 64999)  # a uid per kernel when the grader runs as root
WARNING = ("WARNING: grading WITHOUT a sandbox: each submission's code runs as you, can read "
           "and write your files (solutions/ included), reach the network and leave processes "
           "behind. Grade untrusted notebooks on Linux with bubblewrap installed "
           "(apt-get install bubblewrap), or inside a throw-away container.")


class SandboxError(RuntimeError):
    """The sandbox was asked for but cannot run here."""


@dataclass(frozen=True)
class Limits:
    """Per-kernel resource limits (rlimits; each process of the submission)."""

    memory_mb: int = 8192  # address space (virtual) of each process (RLIMIT_AS)
    cpu_s: int = 900  # CPU seconds of each process (RLIMIT_CPU)
    processes: int = 256  # processes and threads (RLIMIT_NPROC)
    file_mb: int = 1024  # largest file it may write (RLIMIT_FSIZE)
    tmp_mb: int = 512  # size of its /tmp

    def describe(self) -> str:
        return (f"memory {self.memory_mb} MiB per process, CPU {self.cpu_s} s per process, "
                f"{self.processes} processes, files up to {self.file_mb} MiB, /tmp {self.tmp_mb} MiB")


# Runs first inside the sandbox: rlimits (set here, after bwrap made the user
# namespace, so the process limit counts only this sandbox), the unprivileged uid
# when started as root, then the kernel in place of itself.
BOOTSTRAP = """\
import os, resource, sys
limits, uid, connection = sys.argv[1], int(sys.argv[2]), sys.argv[3]
memory, cpu, nproc, fsize = (int(x) for x in limits.split(","))
# CPU: SIGXCPU at the limit (its row names the limit), SIGKILL 5 s later if ignored
for name, soft, hard in ((resource.RLIMIT_AS, memory, memory), (resource.RLIMIT_CPU, cpu, cpu + 5),
                         (resource.RLIMIT_NPROC, nproc, nproc), (resource.RLIMIT_FSIZE, fsize, fsize),
                         (resource.RLIMIT_CORE, 0, 0)):
    resource.setrlimit(name, (soft, hard))
if uid >= 0:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", connection])
"""


def _existing(paths) -> list[str]:
    out = []
    for path in paths:
        path = os.path.realpath(path)
        if os.path.exists(path) and path not in out:
            out.append(path)
    return out


def read_only_paths(extra=()) -> list[str]:
    """What a kernel needs to see, read-only: the Python environment (its prefixes
    and the interpreter's real folder), the ``rnncourse`` package (an editable
    install points into the source checkout: only the package folder is shown),
    the course data folder and cache, and ``extra``."""
    import rnncourse
    from rnncourse.data.corpora import cache_dir, data_dir

    python = os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))
    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, python,
             os.path.dirname(os.path.abspath(rnncourse.__file__)), data_dir(), cache_dir(), *extra]
    return [p for p in _existing(paths) if not any(p.startswith(s + "/") or p == s for s in SYSTEM)]


def _uid() -> int:
    """The uid the kernel drops to: -1 (keep) unless the grader runs as root."""
    if os.geteuid() != 0:
        return -1
    low, high = UNPRIVILEGED_UIDS
    return low + secrets.randbelow(high - low + 1)


def _parents(path: str) -> list[str]:
    """Make the folders above a mount point traversable: bwrap would copy the
    host's modes (a 0700 home or temporary folder locks out an unprivileged uid)."""
    out = []
    for parent in reversed(Path(path).parents[:-1]):
        out += ["--perms", "0755", "--dir", str(parent)]
    return out


def bwrap_command(config: dict, connection_file: str, uid: int = -1) -> list[str]:
    """The bwrap command line that runs a kernel for ``connection_file``."""
    limits = Limits(**config["limits"])
    folder = os.path.dirname(os.path.abspath(connection_file))
    command = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
               "--unshare-cgroup-try", "--die-with-parent", "--new-session",
               "--hostname", "sandbox", "--proc", "/proc", "--dev", "/dev"]
    if uid < 0:
        command.insert(1, "--unshare-user")
    for path in SYSTEM:
        if os.path.islink(path):
            command += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            command += ["--ro-bind", path, path]
    for name in ETC:
        if os.path.exists(f"/etc/{name}"):
            command += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    for device in sorted(Path("/dev").glob("nvidia*")):  # a GPU, where there is one
        command += ["--dev-bind-try", str(device), str(device)]
    command += ["--size", str(limits.tmp_mb << 20), "--tmpfs", "/tmp"]
    for path in config["read_only"]:
        command += [*_parents(path), "--ro-bind", path, path]
    command += [*_parents(folder), "--bind", folder, folder, "--chdir", folder, "--clearenv"]
    env = {"HOME": folder, "TMPDIR": "/tmp", "USER": "student", "LOGNAME": "student",
           "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
           "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONNOUSERSITE": "1", **config.get("env", {})}
    env.update({k: os.environ[k] for k in KEEP_ENV if k in os.environ})
    for key, value in sorted(env.items()):
        command += ["--setenv", key, value]
    rlimits = ",".join(str(x) for x in (limits.memory_mb << 20, limits.cpu_s, limits.processes,
                                         limits.file_mb << 20))
    return command + ["--", sys.executable, "-I", "-c", BOOTSTRAP, rlimits, str(uid), connection_file]


def home_files() -> dict[str, str]:
    """Files each kernel's fresh HOME starts with, ``{path in HOME: source}``: the
    grader's matplotlib font list, which would otherwise be rebuilt (about 2 s) by
    every kernel that plots."""
    if os.environ.get("MPLCONFIGDIR"):
        cache = Path(os.environ["MPLCONFIGDIR"])
    else:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "matplotlib"
    return {f".cache/matplotlib/{p.name}": str(p) for p in sorted(cache.glob("fontlist-v*.json"))}


def write_kernelspec(folder: Path, limits: Limits, read_only: list[str], env: dict | None = None) -> Path:
    """Write the sandbox kernelspec and its config under ``folder``; return the
    folder to put on ``JUPYTER_PATH``."""
    folder = Path(folder)
    config = folder / "sandbox.json"
    config.write_text(json.dumps({"limits": asdict(limits), "read_only": read_only,
                                  "env": env or {}, "home": home_files()}), encoding="utf-8")
    spec = folder / "jupyter" / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "rnncourse.grading.sandbox", str(config), "{connection_file}"],
        "display_name": "rnncourse grading sandbox", "language": "python",
        # bwrap does not pass SIGINT on into the sandbox: ask the kernel by message
        "interrupt_mode": "message",
    }), encoding="utf-8")
    return folder / "jupyter"


def _launch(config_path: str, connection_file: str, exec_=os.execvp) -> None:
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    uid = _uid()
    folder = os.path.dirname(os.path.abspath(connection_file))
    made = [folder, connection_file]
    for name, source in config.get("home", {}).items():
        target = Path(folder, name)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        except OSError:  # a cache: without it the kernel only starts slower
            continue
        made += [str(p) for p in (*reversed(target.relative_to(folder).parents[:-1]), target)]
    if uid >= 0:  # the kernel's folder and what is in it become the kernel's own
        for path in dict.fromkeys(made):
            path = path if os.path.isabs(path) else os.path.join(folder, path)
            os.chown(path, uid, uid)
        os.chmod(folder, 0o700)
    command = bwrap_command(config, connection_file, uid)
    exec_(command[0], command)


@functools.lru_cache(maxsize=1)
def probe() -> str | None:
    """None if a bwrap sandbox runs here (and its Python can import ipykernel and
    rnncourse), else why not (one line)."""
    if not sys.platform.startswith("linux"):
        return f"no sandbox on {sys.platform} (bubblewrap is Linux only)"
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed (apt-get install bubblewrap)"
    import tempfile

    with tempfile.TemporaryDirectory(prefix="rnncourse-probe-") as folder:
        connection = os.path.join(folder, "k", "kernel.json")
        os.mkdir(os.path.dirname(connection))
        Path(connection).write_text("{}", encoding="utf-8")
        config = {"limits": asdict(Limits()), "read_only": read_only_paths()}
        uid = _uid()
        if uid >= 0:
            os.chown(os.path.dirname(connection), uid, uid)
        command = bwrap_command(config, connection, uid)
        # the same sandbox, running a check instead of the kernel
        command[command.index("-c") + 1] = BOOTSTRAP.replace(
            'os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", connection])',
            'import ipykernel, rnncourse\n'
            'open(os.path.join(os.path.dirname(connection), "ok"), "w").write("ok")')
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"the bwrap sandbox does not work here: {exc}"
        if done.returncode != 0 or not os.path.exists(os.path.join(folder, "k", "ok")):
            lines = (done.stderr or done.stdout or f"exit status {done.returncode}").strip().splitlines()
            return f"the bwrap sandbox does not work here: {lines[-1] if lines else done.returncode}"
    return None


def resolve(mode: str) -> str:
    """``auto`` -> ``bwrap`` where it works, else ``none``; ``bwrap`` where it does
    not work raises ``SandboxError`` with the reason."""
    if mode not in MODES:
        raise SandboxError(f"--sandbox must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "none":
        return "none"
    why = probe()
    if why is None:
        return "bwrap"
    if mode == "bwrap":
        raise SandboxError(f"--sandbox bwrap: {why}")
    return "none"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        raise SystemExit("usage: python -m rnncourse.grading.sandbox CONFIG CONNECTION_FILE "
                         "(started by the rnncourse grading kernelspec)")
    _launch(*argv)


if __name__ == "__main__":
    main()
