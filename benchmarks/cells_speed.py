"""Forward+backward time of the from-scratch recording path against torch.nn.

For each of LSTM, GRU and RNN: ``torch.nn.<Module>`` (fused kernel), and our
``from_torch`` copy of it run three ways: the fast path (the same kernel, reached by
``functional_call``), recording internals (``record=True``: the kernel, then the
gates of all steps recomputed at once), and the from-scratch Python loop over time
(``layer.fast = False``, recording, as every variant cell runs). Prints median
milliseconds per forward+backward and ratios to torch.nn (lower is better).

    python benchmarks/cells_speed.py                     # CPU, N=32 T=100 D=64 H=128
    python benchmarks/cells_speed.py --device cuda --threads 0
"""

import argparse
import statistics
import time

import torch
from torch import nn

from rnncourse.device import get_device
from rnncourse.sequence import from_torch

MODULES = {"LSTM": nn.LSTM, "GRU": nn.GRU, "RNN": nn.RNN}


def time_fn(fn, repeats: int, device) -> float:
    """Median seconds of ``fn()`` after two warm-up calls."""
    for _ in range(2):
        fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def forward_backward(run, x):
    def step():
        outputs = run(x)
        outputs.square().mean().backward()
    return step


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--N", type=int, default=32)
    parser.add_argument("--T", type=int, default=100)
    parser.add_argument("--D", type=int, default=64)
    parser.add_argument("--H", type=int, default=128)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (0: leave as is)")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: best)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = get_device(args.device)
    torch.manual_seed(0)
    x = torch.randn(args.N, args.T, args.D, device=device)
    print(f"device={device} threads={torch.get_num_threads()} N={args.N} T={args.T} "
          f"D={args.D} H={args.H} layers={args.layers}  (ms per forward+backward)")
    print(f"{'cell':6} {'torch.nn':>9} {'fast':>8} {'record':>8} {'loop':>8} "
          f"{'fast/nn':>8} {'record/nn':>10} {'loop/nn':>8}")
    for name, cls in MODULES.items():
        module = cls(args.D, args.H, args.layers, batch_first=True).to(device)
        layer, loop = from_torch(module), from_torch(module)
        loop.fast = False
        runs = {
            "nn": lambda x: module(x)[0],
            "fast": lambda x: layer(x)[0],
            "record": lambda x: layer(x, record=True)[0],
            "loop": lambda x: loop(x, record=True)[0],
        }
        ms = {k: 1e3 * time_fn(forward_backward(run, x), args.repeats, device)
              for k, run in runs.items()}
        print(f"{name:6} {ms['nn']:9.2f} {ms['fast']:8.2f} {ms['record']:8.2f} "
              f"{ms['loop']:8.2f} {ms['fast'] / ms['nn']:8.2f} "
              f"{ms['record'] / ms['nn']:10.2f} {ms['loop'] / ms['nn']:8.2f}")


if __name__ == "__main__":
    main()
