"""Shared test setup.

Tests run in parallel workers (pytest-xdist), one per core: each worker uses one
torch thread, because small recurrent models slow down badly when worker threads
compete for the same cores.

Local data (Tiny Shakespeare) sits in ``shared/data`` beside the clone, on developer
machines and in CI alike: unless ``$RNNCOURSE_DATA_DIR`` says otherwise, the tests (and
the notebook kernels they start, which inherit the environment) read it from there, so
the tests that need it run instead of skipping.
"""

import os
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

torch.set_num_threads(1)
if SHARED_DATA.is_dir() and not os.environ.get("RNNCOURSE_DATA_DIR", "").strip():
    os.environ["RNNCOURSE_DATA_DIR"] = str(SHARED_DATA)
