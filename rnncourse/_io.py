"""The package's one way to write a file: whole or not at all, readable by everyone.

Every file the course writes (student notebooks, shipped models and their records,
results, checkpoints, gradebooks) goes through ``atomic_path``: the content is written
to a temporary file in the target's folder, flushed to disk, given mode 0644 (``mkstemp``
creates 0600, which students on a shared JupyterHub could not read), and renamed over
the target. A crash or an exception leaves the old file or the new one, never half of
one, and no temporary file behind.

    write_text(path, text)                     # str, UTF-8
    write_bytes(path, data)                    # bytes
    write_json(path, obj)                      # json.dumps(obj, indent=2) + newline
    with atomic_path(path) as tmp:             # for writers that want a file name
        torch.save(payload, tmp)

``write_text``/``write_bytes``/``write_json`` return False (and write nothing) when the
file already holds exactly that content and ``if_changed=True``.
"""

import contextlib
import json
import os
import tempfile
from pathlib import Path

__all__ = ["FILE_MODE", "atomic_path", "write_bytes", "write_text", "write_json"]

FILE_MODE = 0o644


@contextlib.contextmanager
def atomic_path(path: str | Path, mode: int = FILE_MODE):
    """Yield a temporary path next to ``path``; on success it replaces ``path``.

    The parent folder is created if needed. If the body raises, ``path`` is left as it
    was and the temporary file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as handle:  # the bytes reach the disk before the rename
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_bytes(path: str | Path, data: bytes, if_changed: bool = False,
                mode: int = FILE_MODE) -> bool:
    """Write ``data`` to ``path`` atomically; False if ``if_changed`` and nothing changed."""
    path = Path(path)
    if if_changed and path.is_file() and path.read_bytes() == data:
        return False
    with atomic_path(path, mode) as tmp:
        tmp.write_bytes(data)
    return True


def write_text(path: str | Path, text: str, if_changed: bool = False,
               mode: int = FILE_MODE) -> bool:
    """Write ``text`` (UTF-8) to ``path`` atomically; see ``write_bytes``."""
    return write_bytes(path, text.encode("utf-8"), if_changed, mode)


def write_json(path: str | Path, obj, indent: int | None = 2, if_changed: bool = False) -> bool:
    """Write ``obj`` as JSON (``indent``, non-ASCII kept, newline at the end) atomically."""
    return write_text(path, json.dumps(obj, indent=indent, ensure_ascii=False) + "\n", if_changed)
