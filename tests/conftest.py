"""Shared test setup.

Tests run in parallel workers (pytest-xdist), one per core: each worker uses one
torch thread, because small recurrent models slow down badly when worker threads
compete for the same cores.
"""

import torch

torch.set_num_threads(1)
