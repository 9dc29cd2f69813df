"""Execute every solution notebook top to bottom and print seconds per notebook.

Usage: python benchmarks/notebooks.py [NOTEBOOK ...]   (default: solutions/*.ipynb)
Each notebook runs in a fresh kernel of the current environment, one after another,
so the figures are comparable; kernel start-up is included.
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, kernel_name="python3", timeout=600,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def main(paths: list[str]) -> None:
    notebooks = [Path(p) for p in paths] or sorted((ROOT / "solutions").glob("*.ipynb"))
    total = 0.0
    print(f"{'notebook':<32} {'seconds':>8}")
    for path in notebooks:
        seconds = execute(path)
        total += seconds
        print(f"{path.stem:<32} {seconds:8.1f}", flush=True)
    print(f"{'total':<32} {total:8.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
