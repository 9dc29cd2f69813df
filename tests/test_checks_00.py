"""Fair checks for notebook 00: correct alternatives pass, plausible slips fail.

Each case replaces the solution region of one exercise by other code, runs the
notebook's code cells up to that exercise's check in-process (slow demo cells
skipped), then runs the check cell with its hidden tests, as the grader does.

The harness is ``tests/check_harness.py``.
"""

import pytest

from check_harness import run_notebook_check as run_check


NAME = "00_welcome"
SKIP = ("9dc9f995b5cf", "46dbb1238faf")  # the environment report, the shapes figure

QUESTIONS = [("00.q-tagging-shape", "answer_0_1", "c"), ("00.q-chain-rule", "answer_0_2", "c"),
             ("00.q-hmm-vs-rnn", "answer_0_3", "b")]

CORRECT = {
    "product-then-log": """
        p = 1.0
        for a, b in zip(["<s>"] + sentence.split(), sentence.split() + ["</s>"]):
            p *= cond.get(a, {}).get(b, 0.0)
        return math.log(p) if p > 0 else float("-inf")
    """,
    "numpy-sum": """
        import numpy as np
        ws = ["<s>"] + sentence.split() + ["</s>"]
        ps = np.array([cond.get(a, {}).get(b, 0.0) for a, b in zip(ws, ws[1:])])
        return float(np.sum(np.log(ps))) if np.all(ps > 0) else -math.inf
    """,
}

WRONG = {
    "forgot the start symbol": ("""
        ws = sentence.split() + ["</s>"]
        return sum(math.log(cond.get(a, {}).get(b, 0.0) or 1e-300) for a, b in zip(ws, ws[1:]))
    """, "P\\(first word \\| <s>\\)"),
    "forgot the end symbol": ("""
        ws = ["<s>"] + sentence.split()
        ps = [cond.get(a, {}).get(b, 0.0) for a, b in zip(ws, ws[1:])]
        return sum(math.log(p) for p in ps) if all(ps) else -math.inf
    """, "sum to 1"),
    "log base 10": ("""
        ws = ["<s>"] + sentence.split() + ["</s>"]
        ps = [cond.get(a, {}).get(b, 0.0) for a, b in zip(ws, ws[1:])]
        return sum(math.log10(p) for p in ps) if all(ps) else -math.inf
    """, "expected"),
    "the probability, not its log": ("""
        ws = ["<s>"] + sentence.split() + ["</s>"]
        return float(math.prod(cond.get(a, {}).get(b, 0.0) for a, b in zip(ws, ws[1:])))
    """, "expected"),
    "unseen pair skipped instead of -inf": ("""
        ws = ["<s>"] + sentence.split() + ["</s>"]
        return sum(math.log(p) for p in (cond.get(a, {}).get(b, 0.0) for a, b in zip(ws, ws[1:])) if p > 0)
    """, "never seen"),
    "the empty sentence gets probability one": ("""
        ws = sentence.split()
        if not ws:
            return 0.0
        ws = ["<s>"] + ws + ["</s>"]
        ps = [cond.get(a, {}).get(b, 0.0) for a, b in zip(ws, ws[1:])]
        return sum(math.log(p) for p in ps) if all(ps) else -math.inf
    """, "empty sentence"),
}


@pytest.mark.parametrize("label", sorted(CORRECT))
def test_sentence_log_prob_accepts_a_correct_alternative(label):
    run_check(NAME, "00.sentence-log-prob", CORRECT[label], SKIP)


@pytest.mark.parametrize("label", sorted(WRONG))
def test_sentence_log_prob_rejects_a_slip_and_names_it(label):
    body, message = WRONG[label]
    with pytest.raises(AssertionError, match=message):
        run_check(NAME, "00.sentence-log-prob", body, SKIP)


@pytest.mark.parametrize("check_id,name,key", QUESTIONS)
def test_question_accepts_the_key_in_any_case_and_spacing(check_id, name, key):
    run_check(NAME, check_id, f'{name} = " {key.upper()} "', SKIP)


@pytest.mark.parametrize("check_id,name,key", QUESTIONS)
def test_question_rejects_every_other_option_with_an_explanation(check_id, name, key):
    for wrong in sorted(set("abcd") - {key}):
        with pytest.raises(AssertionError, match=f"{name} = '{wrong}' is not right. .+"):
            run_check(NAME, check_id, f'{name} = "{wrong}"', SKIP)


@pytest.mark.parametrize("check_id,name,key", QUESTIONS)
def test_question_rejects_an_answer_outside_the_options(check_id, name, key):
    with pytest.raises(AssertionError, match="must be one of"):
        run_check(NAME, check_id, f'{name} = "e"', SKIP)
