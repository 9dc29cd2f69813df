"""Shared test setup.

Tests run in parallel workers (pytest-xdist), one per core: each worker, and each
notebook kernel it starts, uses one torch / BLAS thread, because small recurrent models
slow down badly when threads compete for the same cores.

Local data (Tiny Shakespeare) sits in ``shared/data`` beside the clone, on developer
machines and in CI alike: unless ``$RNNCOURSE_DATA_DIR`` says otherwise, the tests (and
the notebook kernels they start, which inherit the environment) read it from there, so
the tests that need it run instead of skipping.
"""

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

torch.set_num_threads(1)
# the notebook kernels the tests start inherit these: one BLAS / OpenMP thread each, since
# the workers already fill the cores and small matrices run slower on several threads
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
if SHARED_DATA.is_dir() and not os.environ.get("RNNCOURSE_DATA_DIR", "").strip():
    os.environ["RNNCOURSE_DATA_DIR"] = str(SHARED_DATA)


@pytest.fixture(autouse=True)
def _torch_global_state_restored():
    """Tests that run notebook cells in-process (the check tests) may change torch's
    global settings, as notebooks 02 and 03 do (float64 by default): undo that after
    every test, so that no test depends on which tests ran before it in its worker."""
    dtype, threads, grad = torch.get_default_dtype(), torch.get_num_threads(), torch.is_grad_enabled()
    yield
    torch.set_default_dtype(dtype)
    torch.set_num_threads(threads)
    torch.set_grad_enabled(grad)
