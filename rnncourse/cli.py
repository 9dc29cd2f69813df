"""The ``rnncourse`` command: ``doctor``, ``release`` and the other course tools.

Each subcommand lives in its own module, which provides ``add_arguments(parser)``
and ``run(args) -> int``; this file only wires them up.
"""

import argparse
import importlib
import sys

__all__ = ["main"]

# subcommand -> (module, one-line help)
COMMANDS = {
    "doctor": ("rnncourse.doctor", "check the environment: versions, device, kernel"),
    "release": ("rnncourse.release", "write lectures/ (student notebooks) from solutions/"),
    "grade": ("rnncourse.grading.cli", "grade student notebooks with nbval into a CSV gradebook"),
    "ablation": ("rnncourse.ablation", "train LSTM variants on one task, write their results"),
    "train": ("rnncourse.train", "train a character LSTM (TBPTT, checkpoints, pretrained export)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnncourse", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(module=module)
        importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return importlib.import_module(args.module).run(args)


if __name__ == "__main__":
    sys.exit(main())
