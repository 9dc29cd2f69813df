"""Notebook 04's checks accept correct alternative answers and reject plausible slips,
and the bug-hunt listing holds exactly the bugs its key says.

Check cases replace an exercise's solution region(s) by another answer, run the cells
from that exercise up to its check (after the cells before it, run once per
exercise), and execute the check cell, hidden tests included: a correct alternative
must pass, a wrong answer must raise AssertionError. The listing tests take the
numbered listing from the notebook's markdown, apply the fixes below, and run it.
"""

import ast
import contextlib
import functools
import io
import re

import numpy as np
import pytest

from check_harness import assert_question, exercise_cells, run_exercise, solution_notebook
from rnncourse.gradcheck import check_gradients

STEM = "04_min_char_rnn"


def notebook():
    return solution_notebook(STEM)


def group(check_id):
    return exercise_cells(STEM, check_id)


def run_check(check_id, replacements):
    """Run the exercise with ``replacements`` for its solution regions, then its check."""
    run_exercise(STEM, check_id, replacements)


# ---- exercise 4.1: the graded bug list --------------------------------------------------

SOLUTION_BUGS = {23: "storage", 26: "indexing", 27: "unpacking", 34: "axis", 35: "missing",
                 43: "carry", 55: "feedback", 65: "off-by-one", 69: "slice", 72: "name",
                 76: "aliasing", 78: "sign"}


def bugs_answer(bugs):
    return [f"listing_bugs = {bugs!r}"]


def with_changes(drop=(), add=None):
    bugs = {k: v for k, v in SOLUTION_BUGS.items() if k not in drop}
    bugs.update(add or {})
    return bugs


LISTING_CORRECT = [
    SOLUTION_BUGS,
    with_changes(add={23: "name", 43: "indexing", 69: "off-by-one"}),  # accepted alternative kinds
    with_changes(drop=[76]),                                            # one bug missed
    with_changes(drop=[55], add={40: "missing"}),                       # one missed, one false positive
]
LISTING_WRONG = [
    {line: "indexing" for line in range(1, 81)},                         # every line marked
    {**{line: "indexing" for line in range(1, 81)}, **SOLUTION_BUGS},    # every line, bugs right
    {},
    with_changes(drop=[26, 55, 76]),                                     # three bugs missed
    with_changes(add={24: "storage", 33: "storage", 40: "missing"}),     # three consequences listed
    with_changes(add={34: "sign", 78: "axis", 72: "storage"}),           # three kinds wrong
    with_changes(add={23: "typo"}),                                      # not a kind
    {**SOLUTION_BUGS, 0: "sign"},                                        # no line 0
    {str(k): v for k, v in SOLUTION_BUGS.items()},                       # keys must be ints
]


@pytest.mark.parametrize("bugs", LISTING_CORRECT, ids=range(len(LISTING_CORRECT)))
def test_bug_list_accepts_a_correct_answer(bugs):
    run_check("04.listing-bugs", bugs_answer(bugs))


@pytest.mark.parametrize("bugs", LISTING_WRONG, ids=range(len(LISTING_WRONG)))
def test_bug_list_rejects_a_wrong_answer(bugs):
    with pytest.raises(AssertionError):
        run_check("04.listing-bugs", bugs_answer(bugs))


# ---- the listing itself -------------------------------------------------------------------

FIXES = {
    23: ["        hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)"],
    26: ["        loss += -np.log(ps[t][targets[t], 0])"],
    27: ["    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)"],
    34: ["        dby += dy"],
    35: ["        dh = Why.T @ dy + dhnext"],
    43: ["    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]"],
    55: ["        x = np.zeros((V, 1))", "        x[ix] = 1"],
    65: ["    if p + T + 1 > len(text) or n == 0:"],
    69: ["    targets = [char_to_ix[ch] for ch in text[p + 1 : p + T + 1]]"],
    72: ["    loss, dWxh, dWhh, dWhy, dbh, dby, hprev = loss_fn(inputs, targets, hprev)"],
    76: ["                                  [mWxh, mWhh, mWhy, mbh, mby]):"],
    78: ["        param -= lr * dparam / np.sqrt(mem + 1e-8)"],
}


@functools.lru_cache(maxsize=None)
def listing():
    """The numbered listing of part 1, as lines without their numbers."""
    for cell in notebook().cells:
        match = re.search(r"```text\n(.*?)```", cell.source, re.S) if cell.cell_type == "markdown" else None
        if match:
            lines = match.group(1).rstrip("\n").splitlines()
            assert all(re.match(r"^\s*\d+", line) for line in lines)
            assert [int(line.split()[0]) for line in lines] == list(range(1, len(lines) + 1))
            return tuple(re.sub(r"^\s*\d+ ?", "", line)[1:] if line.strip() != str(i) else ""
                         for i, line in enumerate(lines, 1))
    raise AssertionError("no numbered listing in notebook 04")


def program(keep_bug=None, steps=40, text="def f(x):\n    return x + 1\n" * 12):
    """The listing with every fix applied except ``keep_bug``, runnable for ``steps`` steps."""
    lines = []
    for number, line in enumerate(listing(), 1):
        lines += FIXES[number] if number in FIXES and number != keep_bug else [line]
    source = "\n".join(lines)
    assert source.count('open("input.txt").read()') == 1 and source.count("while True:") == 1
    source = source.replace('open("input.txt").read()', "TEXT").replace("while True:", "for _ in range(STEPS):")
    source = source.replace("    smooth_loss = smooth_loss * 0.999 + loss * 0.001",
                            "    smooth_loss = smooth_loss * 0.999 + loss * 0.001\n    LOSSES.append(loss)")
    return source, {"TEXT": text, "STEPS": steps, "LOSSES": []}


def run_program(keep_bug=None, **kwargs):
    """(losses, printed output) of the program, or the exception it raised."""
    source, namespace = program(keep_bug, **kwargs)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, "listing", "exec"), namespace)
    except Exception as exc:  # a bug may crash the program: that is one way to show it
        return exc
    return np.array(namespace["LOSSES"]), out.getvalue()


def test_the_key_names_the_lines_the_fixes_change():
    check_source = notebook().cells[group("04.listing-bugs")[1]].source
    key = ast.literal_eval(re.search(r"^KEY = (\{.*\})$", check_source, re.M).group(1))
    assert set(key) == set(FIXES) == set(SOLUTION_BUGS)
    assert all(SOLUTION_BUGS[line] in kinds for line, kinds in key.items())
    markdown = "\n".join(c.source for c in notebook().cells if c.cell_type == "markdown")
    assert f"**{len(key)} bugs**" in markdown
    assert f"N_BUGS, N_LINES = {len(key)}, {len(listing())}" in notebook().cells[group("04.listing-bugs")[0][0]].source


def test_the_fixed_listing_learns():
    losses, out = run_program(steps=200)  # a short repetitive text, swept many times
    assert np.mean(losses[-20:]) < 0.3 * losses[0]
    assert out.strip()  # it printed a sample


def test_the_fixed_listing_has_correct_gradients():
    source, namespace = program(steps=0)
    exec(compile(source, "listing", "exec"), namespace)
    rng = np.random.default_rng(0)
    for name in ("Wxh", "Whh", "Why", "bh", "by"):
        namespace[name][...] = rng.standard_normal(namespace[name].shape) * 0.1  # in place
    inputs, targets = [1, 4, 2, 4, 0, 3], [4, 2, 4, 0, 3, 1]
    hprev = rng.standard_normal((namespace["H"], 1)) * 0.5
    _, *grads, _ = namespace["loss_fn"](inputs, targets, hprev)
    names = ("Wxh", "Whh", "Why", "bh", "by")
    report = check_gradients(lambda: namespace["loss_fn"](inputs, targets, hprev)[0],
                             {k: namespace[k] for k in names}, dict(zip(names, grads)))
    assert report.max_rel_error < 1e-6, report


@pytest.mark.parametrize("line", sorted(FIXES))
def test_every_bug_of_the_key_changes_what_the_program_does(line):
    fixed = run_program()
    buggy = run_program(keep_bug=line)
    assert not isinstance(fixed, Exception), fixed
    if isinstance(buggy, Exception):
        return  # it crashes
    same_losses = len(buggy[0]) == len(fixed[0]) and np.allclose(buggy[0], fixed[0])
    assert not (same_losses and buggy[1] == fixed[1]), f"line {line} left buggy changes nothing"


# ---- exercises 4.2 - 4.9 ------------------------------------------------------------------

BACKWARD_VECTORISED = """\
T = len(targets)
dy = ps - np.eye(ps.shape[1])[targets]  # (T, V)
dh_out = dy @ params["W_hy"]  # (T, H)
da = np.zeros_like(dh_out)
carry = np.zeros(params["W_hh"].shape[0])
for t in range(T - 1, -1, -1):
    da[t] = (1 - hs[t + 1] ** 2) * (dh_out[t] + carry)
    carry = params["W_hh"].T @ da[t]
dW_xh = np.zeros_like(params["W_xh"])
np.add.at(dW_xh.T, inputs, da)
return {"W_xh": dW_xh, "W_hh": da.T @ hs[:-1], "W_hy": dy.T @ hs[1:], "b_h": da.sum(0),
        "b_y": dy.sum(0)}, carry"""
BACKWARD_ONE_HOT = """\
V, T = ps.shape[1], len(targets)
X, Y = np.eye(V)[inputs], np.eye(V)[targets]  # (T, V) one-hot rows
dy = ps - Y
grads = {k: np.zeros_like(v) for k, v in params.items()}
dh = np.zeros(params["W_hh"].shape[0])
for t in reversed(range(T)):
    dh = dh + params["W_hy"].T @ dy[t]
    da = dh * (1 - np.tanh(np.arctanh(hs[t + 1])) ** 2)
    grads["W_xh"] += np.outer(da, X[t])
    grads["W_hh"] += np.einsum("i,j->ij", da, hs[t])
    grads["b_h"] += da
    grads["W_hy"] += np.outer(dy[t], hs[t + 1])
    grads["b_y"] += dy[t]
    dh = params["W_hh"].T @ da
return grads, dh"""
SOLUTION_BACKWARD = [line[4:] for line in """\
    W_hh, W_hy = params["W_hh"], params["W_hy"]
    T = len(targets)
    dy = ps.copy()
    dy[np.arange(T), targets] -= 1.0
    grads = {"W_hy": dy.T @ hs[1:], "b_y": dy.sum(axis=0)}
    dW_xh, dW_hh, db_h = (np.zeros_like(params[k]) for k in ("W_xh", "W_hh", "b_h"))
    dh_next = np.zeros(W_hh.shape[0])
    for t in reversed(range(T)):
        da = (1.0 - hs[t + 1] ** 2) * (W_hy.T @ dy[t] + dh_next)
        dW_xh[:, inputs[t]] += da
        dW_hh += np.outer(da, hs[t])
        db_h += da
        dh_next = W_hh.T @ da
    grads.update(W_xh=dW_xh, W_hh=dW_hh, b_h=db_h)
    return grads, dh_next""".splitlines()]


def backward_with(old, new):
    text = "\n".join(SOLUTION_BACKWARD)
    assert old in text, old
    return text.replace(old, new)


CORRECT = {
    "04.chunk": ["targets = data[p + 1 : p + 1 + seq_length]",
                 "targets = np.asarray(data)[p + 1 : p + seq_length + 1]",
                 "targets = data[p + 1 : p + len(inputs) + 1]"],
    "04.forward": ["hs[t + 1] = np.tanh(W_xh @ np.eye(W_xh.shape[1])[inputs[t]] + W_hh @ hs[t] + b_h)",
                   "hs[t + 1] = np.tanh(W_xh[:, inputs[t]] + hs[t] @ W_hh.T + b_h)"],
    "04.backward": ["\n".join(SOLUTION_BACKWARD), BACKWARD_VECTORISED, BACKWARD_ONE_HOT],
    "04.carry-state": ["h_last = hs[len(inputs)]", "h_last = hs[-1].copy()", "h_last = hs[len(targets)].copy()"],
    "04.adagrad-memories": ["return {k: np.zeros(v.shape) for k, v in params.items()}",
                            "return dict(zip(params, map(np.zeros_like, params.values())))",
                            "return {k: v * 0.0 for k, v in params.items()}"],
    "04.adagrad-step": ["params[name] = params[name] - lr * grads[name] / np.sqrt(memories[name] + eps)",
                        "params[name] -= lr * grads[name] / (np.sqrt(memories[name]) + eps)"],
    "04.sample-feedback": ["x = np.eye(V)[ix]", "x[:] = 0.0\nx[ix] = 1.0"],
}
TRAINING_CORRECT = [["if p + seq_length >= len(data):\n    p, h = 0, np.zeros(hidden_size)",
                     "smooth = 0.999 * smooth + 0.001 * loss"],
                    ["if len(data) - p < seq_length + 1:\n    p = 0\n    h = np.zeros(hidden_size)",
                     "smooth += 0.001 * (loss - smooth)"],
                    ["if p + seq_length + 1 > len(data):\n    p = 0", None]]  # keeping the state is fine

WRONG = {
    "04.chunk": ["targets = data[p + seq_length - 1 : p + seq_length + 1]", "targets = data[p : p + seq_length]",
                 "targets = data[p + 1 : p + seq_length]", "targets = inputs[1:]"],
    "04.forward": ["hs[t + 1] = np.tanh(W_xh[:, t] + W_hh @ hs[t] + b_h)",
                   "hs[t + 1] = np.tanh(W_xh[:, inputs[t]] + W_hh.T @ hs[t] + b_h)",
                   "hs[t + 1] = np.tanh(W_xh[:, inputs[t]] + W_hh @ hs[t])",
                   "hs[t + 1] = np.tanh(W_xh[:, inputs[t]] + W_hh @ hs[t + 1] + b_h)"],
    "04.backward": [
        backward_with("(W_hy.T @ dy[t] + dh_next)", "(W_hy.T @ dy[t])"),                 # truncated BPTT
        backward_with("(1.0 - hs[t + 1] ** 2)", "(1.0 - hs[t] ** 2)"),                   # wrong step's tanh'
        backward_with('"b_y": dy.sum(axis=0)', '"b_y": dy.sum(axis=1)'),                 # wrong axis
        backward_with("dh_next = W_hh.T @ da", "dh_next = W_hh @ da"),                   # no transpose
        backward_with("np.outer(da, hs[t])", "np.outer(da, hs[t + 1])"),                 # h_t, not h_{t-1}
        backward_with("return grads, dh_next", "return grads, da"),                      # dh_prev is not da
        backward_with("return grads, dh_next",
                      "return {k: v / T for k, v in grads.items()}, dh_next / T"),       # mean, not sum
        backward_with("(1.0 - hs[t + 1] ** 2)", "(1.0 - hs[t + 1]) ** 2"),               # (1 - h)^2
        BACKWARD_VECTORISED.replace("np.add.at(dW_xh.T, inputs, da)",
                                    "dW_xh[:, inputs] += da.T"),                          # repeats add once
        "from rnncourse import minchar as m\n"
        "_, grads, _ = m.loss_and_grads(params, inputs, targets, hs[0])\n"
        "return grads, np.zeros(len(hs[0]))",                                            # the reference
    ],
    "04.carry-state": ["h_last = hs[0]", "h_last = hs[-2]", "h_last = hs[1:]"],
    "04.adagrad-memories": ['m_W, m_b = np.zeros_like(params["W_hh"]), np.zeros_like(params["b_h"])\n'
                            'return {"W_xh": m_W, "W_hh": m_W, "W_hy": m_W, "b_h": m_b, "b_y": m_b}',
                            "return dict(params)", "return {k: v for k, v in params.items()}",
                            "z = {k: np.zeros_like(v) for k, v in params.items()}\nz['b_y'] = z['b_h']\nreturn z"],
    "04.adagrad-step": ["params[name] -= -lr * grads[name] / np.sqrt(memories[name] + eps)",
                        "params[name] -= lr * grads[name] / (memories[name] + eps)",
                        "params[name] -= lr * grads[name]"],
    "04.sample-feedback": ["x[ix] = 1.0", "x = np.zeros(V)\nx[seed_ix] = 1.0", "x = np.zeros(V)"],
}
TRAINING_WRONG = [["if p + seq_length - 1 > len(data):\n    p, h = 0, np.zeros(hidden_size)", None],
                  ["if p + seq_length > len(data):\n    p, h = 0, np.zeros(hidden_size)", None],
                  [None, "smooth = smooth * 0.99 + loss * 0.001"],
                  [None, "smooth = 0.999 * smooth + loss"]]
QUESTIONS = {"04.q-one-hot": ("answer_4_1", "b", "acd"), "04.q-carry-gradient": ("answer_4_2", "d", "abc"),
             "04.q-initial-loss": ("answer_4_3", "a", "bcd")}


def cases(table):
    return [(check_id, [answer]) for check_id, answers in table.items() for answer in answers]


CORRECT_CASES = cases(CORRECT) + [("04.training", answer) for answer in TRAINING_CORRECT]
WRONG_CASES = cases(WRONG) + [("04.training", answer) for answer in TRAINING_WRONG]


@pytest.mark.parametrize("check_id,answer", CORRECT_CASES,
                         ids=[f"{c}-{i}" for i, (c, _) in enumerate(CORRECT_CASES)])
def test_check_accepts_a_correct_alternative(check_id, answer):
    run_check(check_id, answer)


@pytest.mark.parametrize("check_id,answer", WRONG_CASES,
                         ids=[f"{c}-{i}" for i, (c, _) in enumerate(WRONG_CASES)])
def test_check_rejects_a_wrong_answer(check_id, answer):
    with pytest.raises(AssertionError):
        run_check(check_id, answer)


def test_backward_check_says_write_your_own_when_the_reference_is_called():
    with pytest.raises(AssertionError, match="write your own"):
        run_check("04.backward", [WRONG["04.backward"][-1]])


@pytest.mark.parametrize("check_id", sorted(QUESTIONS))
def test_question_accepts_the_key_in_any_case_and_rejects_the_others(check_id):
    name, key, others = QUESTIONS[check_id]
    assert_question(lambda check, source: run_check(check, [source]), check_id, name, key, key.upper(),
                    options=key + "".join(others), wrong_message="not right")


# ---- the shipped training runs of part 3 ----------------------------------------------------

def test_loss_per_char_is_the_mean_chunk_loss_with_the_state_carried():
    from rnncourse.minchar import init_params, loss_and_grads
    from rnncourse.minchar_batched import loss_per_char

    rng = np.random.default_rng(0)
    params = init_params(7, 5, rng, scale=0.5)
    data = rng.integers(0, 7, 2 * 3 * 4 + 2)  # one track of 26 characters when batch_size=1
    h, total = np.zeros(5), 0.0
    for p in range(0, 24 - 3 + 1, 3):
        loss, _, h = loss_and_grads(params, data[p:p + 3], data[p + 1:p + 4], h)
        total += loss
    expected = total / 24
    assert abs(loss_per_char(params, data, seq_length=3, batch_size=1) - expected) < 1e-12


@pytest.mark.parametrize("name,min_seeds", [("minchar_training", 3), ("minchar_training_long", 1)])
def test_shipped_runs_hold_both_settings_with_their_record(name, min_seeds):
    from rnncourse.minchar_batched import SETTINGS, load_training

    record = load_training(name)
    assert record["command"].startswith("rnncourse minchar ")
    assert f"--out rnncourse/results/{name}.json" in record["command"]
    assert len(record["seeds"]) >= min_seeds
    runs = {(r["setting"], r["seed"]) for r in record["runs"]}
    assert runs == {(s, seed) for s in SETTINGS for seed in record["seeds"]}
    for run in record["runs"]:
        assert run["steps"][0] == 0 and run["steps"][-1] == record["steps"]
        assert len(run["val_loss_per_char"]) == len(run["steps"]) == len(run["chars"])
        assert [s["step"] for s in run["samples"]][0] == 0 and run["samples"][-1]["step"] == record["steps"]
        assert run["val_loss_per_char"][-1] < run["val_loss_per_char"][0]


def test_training_run_records_losses_and_samples_at_the_asked_steps():
    from rnncourse.data.corpora import python_docs
    from rnncourse.minchar_batched import training_run

    record = training_run(python_docs(20000), "small", seed=0, steps=40, batch_size=4,
                          eval_every=20, sample_steps=(0, 40), sample_length=50)
    assert record["steps"] == [0, 20, 40] and record["chars"] == [0, 20 * 4 * 25, 40 * 4 * 25]
    assert [s["step"] for s in record["samples"]] == [0, 40]
    assert all(len(s["text"]) == 50 for s in record["samples"])
    assert record["val_loss_per_char"][-1] < record["val_loss_per_char"][0]
    with pytest.raises(ValueError, match="setting"):
        training_run("abc" * 100, "large")


def test_retrain_runs_the_recorded_command_without_writing(monkeypatch):
    import rnncourse.minchar_batched as mb

    seen = []
    monkeypatch.setattr(mb, "training_record", lambda args: seen.append(args) or {})
    mb.retrain("minchar_training_long")
    args = seen[0]
    assert args.out is None and (args.steps, args.batch_size, args.seeds) == (16000, 8, [0])
    assert args.settings == sorted(mb.SETTINGS)


def test_shipped_training_commands_parse_back_to_themselves():
    import shlex

    from rnncourse.cli import command_line, verb_parser
    from rnncourse.minchar_batched import load_training

    for name in ("minchar_training", "minchar_training_long"):
        command = load_training(name)["command"]
        args = verb_parser("minchar").parse_args(shlex.split(command)[2:])
        assert command_line("minchar", args, leave_out=("jobs",)) == command
