"""Characters per second of min-char-rnn: one sequence versus batched and vectorised.

Both versions (rnncourse.minchar, rnncourse.minchar_batched) train the same model
(H = 100, T = 25, Adagrad) on the Python language reference, one after the other in
this process, and the table reports what each processed per second of wall time.

    .venv/bin/python benchmarks/minchar_speed.py [--seconds 3]
"""

import argparse
import os
import platform

# numpy reads this when it is imported: these matrices are small, one BLAS thread is fastest
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from rnncourse.data.corpora import python_docs  # noqa: E402
from rnncourse.minchar import TrainConfig, train  # noqa: E402
from rnncourse.minchar_batched import train_batched  # noqa: E402


def measure(run, seconds: float):
    """Run with growing step counts until one run takes at least ``seconds``."""
    steps = 10
    while True:
        log = run(steps)
        if log.seconds >= seconds:
            return log
        steps = int(steps * max(2.0, 1.2 * seconds / max(log.seconds, 1e-3)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="minimum time per measurement")
    parser.add_argument("--hidden-size", type=int, default=100)
    args = parser.parse_args()
    text = python_docs()

    def config(steps):
        return TrainConfig(hidden_size=args.hidden_size, seq_length=25, steps=steps)

    rows = [("one sequence (minchar)", measure(lambda s: train(text, config(s))[2], args.seconds))]
    for N in (8, 32, 128):
        log = measure(lambda s: train_batched(text, config(s), batch_size=N)[2], args.seconds)
        rows.append((f"batched N={N} (minchar_batched)", log))
    print(f"min-char-rnn speed, H={args.hidden_size}, T=25, numpy {np.__version__}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    print(f"{'version':32s} {'characters':>11s} {'seconds':>8s} {'chars/s':>10s} {'speed-up':>8s}")
    base = rows[0][1].chars_per_second
    for name, log in rows:
        print(f"{name:32s} {log.chars:11,d} {log.seconds:8.2f} {log.chars_per_second:10,.0f} "
              f"{log.chars_per_second / base:7.1f}x")


if __name__ == "__main__":
    main()
