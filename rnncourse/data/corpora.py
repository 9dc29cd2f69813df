"""Text corpora for the character models of notebook 08.

Three sources, all usable offline (COURSE.md, "Data and models"):

* **Python source**: a fixed list of standard-library modules (``STDLIB_SPLITS``),
  split into train/val/test *by module*, never by offset, so a validation module is
  code the model has never seen. The files differ between Python builds, so the exact
  copy the shipped models were trained on ships inside the package as one archive,
  ``rnncourse/data/assets/python_stdlib.zip`` (data, not code: no tool reads it as
  modules), with the PSF licence and a manifest of sha256 sums (``vendor_stdlib``
  wrote it), read through ``importlib.resources`` so it works from an installed wheel.
* **English prose**: ``pydoc_data.topics``, the language reference as shipped with the
  running Python (version-dependent; fine for demos, not for reproducible figures);
  min-char-rnn (notebook 04) reads the same text.
* **Tiny Shakespeare** (karpathy/char-rnn): read from ``path``, ``data_dir()``
  (``$RNNCOURSE_DATA_DIR``, else ``shared/data`` beside a source checkout) or the
  cache; ``download=True`` fetches it from its public URL and checks its sha256. Split
  as nanoGPT does (first 90% train, last 10% val) so losses compare with published ones.
"""

import hashlib
import io
import json
import os
import platform
import sysconfig
import urllib.request
import zipfile
from importlib import resources
from pathlib import Path

from rnncourse._io import write_bytes

__all__ = [
    "STDLIB_SPLITS", "STDLIB_ARCHIVE", "TINY_SHAKESPEARE_URL", "TINY_SHAKESPEARE_SHA256",
    "CORPORA", "sha256_text", "data_dir", "cache_dir", "vendor_stdlib", "python_source",
    "python_docs", "tiny_shakespeare", "split_tail", "load_corpus",
]

_PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # .../rnncourse
STDLIB_ARCHIVE = resources.files("rnncourse.data").joinpath("assets/python_stdlib.zip")

# Module files (relative to the stdlib folder) per split; 2.6 MB of Python 3.11.7 code.
STDLIB_SPLITS = {
    "train": (
        "argparse.py", "ast.py", "collections/__init__.py", "configparser.py",
        "dataclasses.py", "datetime.py", "difflib.py", "doctest.py", "enum.py",
        "functools.py", "gettext.py", "http/client.py", "inspect.py", "ipaddress.py",
        "logging/__init__.py", "optparse.py", "os.py", "pathlib.py", "pdb.py", "pickle.py",
        "platform.py", "plistlib.py", "posixpath.py", "random.py", "selectors.py",
        "shutil.py", "smtplib.py", "socketserver.py", "statistics.py", "subprocess.py",
        "sysconfig.py", "tempfile.py", "threading.py", "timeit.py", "trace.py",
        "traceback.py", "typing.py", "unittest/case.py", "urllib/parse.py", "uuid.py",
        "weakref.py", "zipfile.py",
    ),
    "val": (
        "calendar.py", "csv.py", "heapq.py", "json/__init__.py", "json/decoder.py",
        "json/encoder.py", "queue.py", "shlex.py", "string.py", "textwrap.py",
    ),
    "test": (
        "bisect.py", "contextlib.py", "copy.py", "fnmatch.py", "fractions.py", "glob.py",
        "graphlib.py", "pprint.py", "sched.py", "tokenize.py",
    ),
}

TINY_SHAKESPEARE_URL = (
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
)
TINY_SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
DATA_ENV_VAR = "RNNCOURSE_DATA_DIR"
CACHE_ENV_VAR = "RNNCOURSE_CACHE_DIR"


def sha256_text(text: str) -> str:
    """sha256 of ``text`` encoded as UTF-8 (the data checksum in model records)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def data_dir() -> Path:
    """Where local data files live: ``$RNNCOURSE_DATA_DIR``; else, when the package runs
    from a source checkout, the ``shared/data`` folder beside that checkout; else the
    download cache (``cache_dir()``). Nothing else is searched."""
    env = os.environ.get(DATA_ENV_VAR, "").strip()
    if env:
        return Path(env)
    checkout = _PACKAGE_ROOT.parent
    beside = checkout.parent / "shared" / "data"
    if (checkout / "pyproject.toml").is_file() and beside.is_dir():
        return beside
    return cache_dir()


def cache_dir() -> Path:
    """Download cache: ``$RNNCOURSE_CACHE_DIR``, else ``~/.cache/rnncourse``."""
    env = os.environ.get(CACHE_ENV_VAR, "").strip()
    return Path(env) if env else Path.home() / ".cache" / "rnncourse"


# --- Python source -------------------------------------------------------------------

def _zip_bytes(members: dict[str, bytes]) -> bytes:
    """A reproducible zip of ``members`` (sorted names, fixed timestamps, mode 0644)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, members[name])
    return buffer.getvalue()


def vendor_stdlib(dest=STDLIB_ARCHIVE, source: Path | None = None) -> dict:
    """Write the modules of ``STDLIB_SPLITS`` from ``source`` (default: the running
    Python's stdlib) into the zip archive ``dest``, with the PSF licence and
    ``manifest.json``.

    Run once by maintainers; the result is committed so every machine trains and
    evaluates on the same bytes. Returns the manifest.
    """
    origin = f"Python {platform.python_version()}" if source is None else str(source)
    source = Path(source or sysconfig.get_paths()["stdlib"])
    members, files = {}, {}
    for split, names in STDLIB_SPLITS.items():
        for name in names:
            members[name] = (source / name).read_bytes()
            files[name] = {"split": split, "sha256": hashlib.sha256(members[name]).hexdigest()}
    members["LICENSE.txt"] = (source / "LICENSE.txt").read_bytes()
    manifest = {
        "description": "Modules of the Python standard library used as a code corpus "
                       "(rnncourse.data.corpora.STDLIB_SPLITS); PSF licence in LICENSE.txt.",
        "source": origin,
        "files": files,
    }
    members["manifest.json"] = (json.dumps(manifest, indent=1) + "\n").encode()
    write_bytes(Path(str(dest)), _zip_bytes(members))
    return manifest


def _decode(data: bytes) -> str:
    """UTF-8 text with universal newlines, as ``Path.read_text`` reads a file."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8").read()


def python_source(split: str = "train", archive=STDLIB_ARCHIVE) -> str:
    """The vendored modules of ``split`` ('train', 'val' or 'test'), concatenated.

    Every file is checked against the manifest's sha256, so a corrupted or edited
    copy fails loudly instead of silently changing the shipped models' figures.
    """
    if split not in STDLIB_SPLITS:
        raise ValueError(f"split must be one of {list(STDLIB_SPLITS)}, got {split!r}")
    try:
        handle = archive.open("rb") if hasattr(archive, "open") else open(archive, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"no vendored stdlib corpus at {archive}") from None
    with handle, zipfile.ZipFile(handle) as zipped:
        manifest = json.loads(zipped.read("manifest.json"))["files"]
        parts = []
        for name in STDLIB_SPLITS[split]:
            data = zipped.read(name)
            digest = hashlib.sha256(data).hexdigest()
            if digest != manifest[name]["sha256"]:
                raise ValueError(f"{archive}:{name}: sha256 {digest} does not match the manifest")
            parts.append(_decode(data))
    return "\n".join(parts)


# --- English prose -------------------------------------------------------------------

def python_docs(max_chars: int | None = None) -> str:
    """The Python language reference prose of ``pydoc_data.topics``: the topics joined in
    sorted order (depends on the running Python's version), the first ``max_chars``
    characters if given. The course's one prose corpus (min-char-rnn reads it in
    notebook 04)."""
    from pydoc_data.topics import topics

    text = "\n".join(topics[key] for key in sorted(topics))
    return text[:max_chars] if max_chars else text


# --- Tiny Shakespeare ----------------------------------------------------------------

def _download(url: str, target: Path, sha256: str) -> None:
    with urllib.request.urlopen(url, timeout=60) as response:
        data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise ValueError(f"download of {url} has sha256 {digest}, expected {sha256}")
    write_bytes(target, data)


def tiny_shakespeare(path: str | Path | None = None, download: bool = False) -> str:
    """The Tiny Shakespeare text (1,115,394 characters), checked against its sha256.

    Looks at ``path`` if given, else ``data_dir()/tinyshakespeare.txt``, else the cache;
    with ``download=True`` a missing file is fetched from ``TINY_SHAKESPEARE_URL``
    into the cache. Never touches the network otherwise.
    """
    name = "tinyshakespeare.txt"
    candidates = [Path(path)] if path else [data_dir() / name, cache_dir() / name]
    found = next((p for p in candidates if p.is_file()), None)
    if found is None and download and not path:
        found = cache_dir() / name
        _download(TINY_SHAKESPEARE_URL, found, TINY_SHAKESPEARE_SHA256)
    if found is None:
        raise FileNotFoundError(
            f"Tiny Shakespeare not found (looked in {', '.join(map(str, candidates))}); "
            f"set ${DATA_ENV_VAR}, pass path=..., or call with download=True"
        )
    digest = _sha256_file(found)
    if digest != TINY_SHAKESPEARE_SHA256:
        raise ValueError(f"{found}: sha256 {digest}, expected {TINY_SHAKESPEARE_SHA256}")
    return found.read_text(encoding="utf-8")


def split_tail(text: str, split: str, val_fraction: float = 0.1) -> str:
    """nanoGPT's split of one text: 'train' is the first 90%, 'val' the last 10%."""
    cut = int(len(text) * (1 - val_fraction))
    if split == "train":
        return text[:cut]
    if split == "val":
        return text[cut:]
    raise ValueError(f"split must be 'train' or 'val' for this corpus, got {split!r}")


CORPORA = ("python", "python_docs", "shakespeare")


def load_corpus(name: str, split: str = "train", path: str | Path | None = None) -> str:
    """One split of a named corpus: ``'python'`` (train/val/test by module),
    ``'python_docs'`` or ``'shakespeare'`` (train/val, first 90% / last 10%)."""
    if name == "python":
        return python_source(split)
    if name == "python_docs":
        return split_tail(python_docs(), split)
    if name == "shakespeare":
        return split_tail(tiny_shakespeare(path), split)
    raise ValueError(f"unknown corpus {name!r}; expected one of {CORPORA}")
