"""The rnncourse command: one program, one verb per course tool.

Each verb lives in its own module, which provides ``add_arguments(parser)`` and
``run(args) -> int``; this file wires them up, imports only the module of the verb
being run, and holds the argument checkers the verbs share. A bad value ends in one
line on stderr and exit status 2 (as with pip or git); ``--help`` is plain text.
"""

import argparse
import importlib
import shlex
import sys

__all__ = ["COMMANDS", "Parser", "build_parser", "main", "verb_parser", "command_line",
           "positive_int", "non_negative_int", "positive_float", "non_negative_float", "fraction",
           "device_name", "path_text"]

# verb -> (module, one-line help)
COMMANDS = {
    "doctor": ("rnncourse.doctor", "check the environment: versions, device, kernel"),
    "release": ("rnncourse.release", "write lectures/ (student notebooks) from solutions/"),
    "grade": ("rnncourse.grading.cli", "grade student notebooks with nbval into a CSV gradebook"),
    "export": ("rnncourse.export", "write the course as an nbgrader course folder (JupyterHub)"),
    "minchar": ("rnncourse.minchar_batched", "train min-char-rnn (batched NumPy) in notebook 4's settings"),
    "ngram": ("rnncourse.ngram", "compare a character n-gram with the Python char LSTM (notebook 8)"),
    "train": ("rnncourse.train", "train a character LSTM (TBPTT, checkpoints, pretrained export)"),
    "ablation": ("rnncourse.ablation", "train LSTM variants on one task, write their results"),
    "adding": ("rnncourse.long_range", "learning curves of RNNs and an LSTM on the adding problem"),
    "seq2seq": ("rnncourse.seq2seq_train", "train a seq2seq model of notebook 10 and ship it"),
    "captioner": ("rnncourse.captioning", "train an image captioner of notebook 11 and ship it"),
    "vqa": ("rnncourse.vqa", "train a VQA model (or its question-only baseline) and ship it"),
    "handwriting": ("rnncourse.handwriting", "train the handwriting LSTM and ship it"),
    "synthesis": ("rnncourse.synthesis", "train the text-to-handwriting synthesis model and ship it"),
    "music": ("rnncourse.music", "train a piano-roll RNN on the JSB chorales"),
    "speech": ("rnncourse.speech", "train the CTC digit recogniser of notebook 12 and ship it"),
}


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr (exit status 2)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# --- argument checkers: ``type=`` functions that turn a string into a checked value ----

def _number(kind, test, wanted):
    def check(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
        if not test(value):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text}")
        return value
    check.__name__ = wanted.replace(" ", "_")
    return check


positive_int = _number(int, lambda v: v >= 1, "an integer >= 1")
non_negative_int = _number(int, lambda v: v >= 0, "an integer >= 0")
positive_float = _number(float, lambda v: v > 0, "a number > 0")
non_negative_float = _number(float, lambda v: v >= 0, "a number >= 0")
fraction = _number(float, lambda v: 0 <= v < 1, "a number in [0, 1)")


def device_name(text: str) -> str:
    """A device this machine has: cpu, cuda, cuda:N or mps (see ``rnncourse.device``)."""
    from rnncourse.device import get_device

    try:
        get_device(text)
    except (ValueError, RuntimeError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def path_text(text: str) -> str:
    """A non-empty path, kept as text."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return text


def build_parser(argv: list[str] | None = None) -> Parser:
    """The parser; only the verb named in ``argv`` (if any) gets its options, so that
    running one verb never imports the others' modules."""
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = Parser(prog="rnncourse", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="VERB")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(module=module)
        if name == chosen:
            importlib.import_module(module).add_arguments(p)
    return parser


def verb_parser(verb: str) -> Parser:
    """The parser of one verb on its own (``prog`` is ``rnncourse VERB``)."""
    module, help_text = COMMANDS[verb]
    parser = Parser(prog=f"rnncourse {verb}", description=help_text)
    importlib.import_module(module).add_arguments(parser)
    return parser


def command_line(verb: str, args: argparse.Namespace, leave_out=()) -> str:
    """The ``rnncourse VERB ...`` command that parses back into ``args``: every option of
    the verb spelled out with its value (defaults too, so that a later change of a
    default does not change what the command means), except the dests in ``leave_out``
    (options that only say where or how fast a run happens)."""
    words = ["rnncourse", verb]
    options = []
    for action in verb_parser(verb)._actions:
        if isinstance(action, argparse._HelpAction) or action.dest in leave_out:
            continue
        value = getattr(args, action.dest, action.default)
        if not action.option_strings:  # positional
            words += [str(v) for v in value] if isinstance(value, list) else [str(value)]
            continue
        flag = action.option_strings[0]
        if isinstance(action, argparse.BooleanOptionalAction):
            options.append(flag if value else f"--no-{flag[2:]}")
        elif isinstance(action, argparse._StoreTrueAction):
            options += [flag] if value else []
        elif isinstance(action, argparse._StoreFalseAction):
            options += [] if value else [flag]
        elif value is None:
            continue
        elif isinstance(value, list):
            options += [flag, *map(str, value)]
        else:
            options += [flag, str(value)]
    return shlex.join(words + options)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    return importlib.import_module(args.module).run(args)


if __name__ == "__main__":
    sys.exit(main())
