"""Run notebook cells one at a time in a kernel of the current environment.

Used by the notebook tests to execute cells in an order of their choosing (a stub,
then its check, then the solution), which nbval's fixed top-to-bottom run cannot do.
"""

import copy
from contextlib import contextmanager
from pathlib import Path

import nbformat
from jupyter_client import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

CELL_TIMEOUT = 300


class Kernel:
    """A live kernel; ``run(cell)`` returns None on success, else the error's first line."""

    def __init__(self, client: NotebookClient):
        self._client = client

    def run(self, cell, index: int) -> str | None:
        try:
            self._client.execute_cell(copy.deepcopy(cell), index)
        except CellExecutionError as exc:
            return f"{exc.ename}: {exc.evalue}".splitlines()[0]
        return None


def source_cell(source: str):
    """A code cell holding ``source`` (for setup and inspection code)."""
    return nbformat.v4.new_code_cell(source)


@contextmanager
def kernel(nb, cwd: Path):
    """A kernel running the current Python, with ``cwd`` as working directory."""
    manager = KernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME,
                            kernel_spec_manager=NbvalKernelspecManager())
    # nbclient writes each executed cell back into its notebook: give it a copy so
    # the caller's cells (solutions and stubs) stay as they were.
    client = NotebookClient(copy.deepcopy(nb), km=manager, timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(cwd)}})
    with client.setup_kernel():
        yield Kernel(client)
