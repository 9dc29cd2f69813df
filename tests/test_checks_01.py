"""Fair checks for notebook 01 (toy RNNs): correct alternatives pass, plausible slips fail.

Harness: ``run_notebook_check`` of ``tests/check_harness.py`` (the exercise's solution region replaced,
the notebook's cells up to the check run in-process, training and figures skipped).
"""

import pytest

from check_harness import assert_question, case_tests, assert_question_key, run_notebook_check as run_check

NAME = "01_toy_rnns"
SKIP = ("c12", "u01", "c27", "c32", "c33a")  # drawings, the FSM construction demo, training


def check(check_id, body):
    return run_check(NAME, check_id, body, SKIP)


CASES = {
    "01.summing": {
        "correct": {
            "state holds twice the total": 'return {"W": [[1.0]], "U": [[2.0]], "b": [0.0], "V": [[0.5]], "c": [0.0]}',
            "numpy arrays": 'return {k: np.array(v) for k, v in '
                            '{"W": [[1.0]], "U": [[1.0]], "b": [0.0], "V": [[1.0]], "c": [0.0]}.items()}',
        },
        "wrong": {
            "no memory (W = 0)": ('return {"W": [[0.0]], "U": [[1.0]], "b": [0.0], "V": [[1.0]], "c": [0.0]}',
                                  "running totals"),
            "output bias 1": ('return {"W": [[1.0]], "U": [[1.0]], "b": [0.0], "V": [[1.0]], "c": [1.0]}',
                              "running totals"),
            "b of shape (1, 1)": ('return {"W": [[1.0]], "U": [[1.0]], "b": [[0.0]], "V": [[1.0]], "c": [0.0]}',
                                  "expected b of shape"),
        },
    },
    "01.comparator": {
        "correct": {
            "difference the other way round, negative readout":
                'return {"W": [[1.0]], "U": [[-1.0, 1.0]], "b": [0.0], "V": [[-1.0]], "c": [0.0]}',
            "scaled difference": 'return {"W": [[1.0]], "U": [[3.0, -3.0]], "b": [0.0], "V": [[2.0]], "c": [0.0]}',
        },
        "wrong": {
            "signs reversed": ('return {"W": [[1.0]], "U": [[-1.0, 1.0]], "b": [0.0], "V": [[1.0]], "c": [0.0]}',
                               "expected y = "),
            "no memory": ('return {"W": [[0.0]], "U": [[1.0, -1.0]], "b": [0.0], "V": [[1.0]], "c": [0.0]}',
                          "the totals are"),
            "U of shape (2, 1)": ('return {"W": [[1.0]], "U": [[1.0], [-1.0]], "b": [0.0], "V": [[1.0]], "c": [0.0]}',
                                  "expected U of shape"),
        },
    },
    "01.fsm": {
        "correct": {
            "list of lists, built row by row": """
                out = []
                for row in symbols:
                    state, states = start, []
                    for a in row:
                        state = transitions[(state, int(a))]
                        states.append(state)
                    out.append(states)
                return out
            """,
            "column by column over the batch": """
                current = [start] * symbols.shape[0]
                columns = []
                for t in range(symbols.shape[1]):
                    current = [transitions[(s, int(a))] for s, a in zip(current, symbols[:, t])]
                    columns.append(current)
                return np.array(columns, dtype=object).T
            """,
        },
        "wrong": {
            "state before reading (off by one)": """
                out = np.empty(symbols.shape, dtype=object)
                for i, row in enumerate(symbols):
                    state = start
                    for t, a in enumerate(row):
                        out[i, t] = state
                        state = transitions[(state, int(a))]
                return out
            """,
            "state not reset between strings": """
                out, state = np.empty(symbols.shape, dtype=object), start
                for i, row in enumerate(symbols):
                    for t, a in enumerate(row):
                        state = transitions[(state, int(a))]
                        out[i, t] = state
                return out
            """,
            "only the final state": """
                finals = []
                for row in symbols:
                    state = start
                    for a in row:
                        state = transitions[(state, int(a))]
                    finals.append(state)
                return np.array(finals, dtype=object)
            """,
        },
    },
    "01.parity-weights": {
        "correct": {
            "other thresholds and output weights":
                'return {"u": [1.0, 1.0], "w": [1.0, 1.0], "b": [-1.2, -0.3], "v": [-2.0, 1.0], "c": -0.5}',
            "numpy arrays and a numpy scalar":
                'return {"u": np.ones(2), "w": np.ones(2), "b": np.array([-1.5, -0.5]), '
                '"v": np.array([-1.0, 1.0]), "c": np.float64(-0.5)}',
        },
        "wrong": {
            "AND and OR swapped": ('return {"u": [1.0, 1.0], "w": [1.0, 1.0], "b": [-0.5, -1.5], "v": [-1.0, 1.0], '
                                   '"c": -0.5}', "truth-table row"),
            "output bias with the wrong sign": ('return {"u": [1.0, 1.0], "w": [1.0, 1.0], "b": [-1.5, -0.5], '
                                                '"v": [-1.0, 1.0], "c": 0.5}', "truth-table row"),
            "recurrence ignored (w = 0)": ('return {"u": [1.0, 1.0], "w": [0.0, 0.0], "b": [-1.5, -0.5], '
                                           '"v": [-1.0, 1.0], "c": -0.5}', "truth-table row"),
            "c as a list": ('return {"u": [1.0, 1.0], "w": [1.0, 1.0], "b": [-1.5, -0.5], "v": [-1.0, 1.0], '
                            '"c": [-0.5]}', "single number"),
        },
    },
    "01.parity-model": {
        "correct": {
            "float32 cast, head then index": """
                hs, _ = self.rnn(bits.to(torch.float32)[..., None])
                return self.head(hs)[..., 0]
            """,
        },
        "wrong": {
            "probabilities instead of logits": """
                hs, _ = self.rnn(bits.float().unsqueeze(-1))
                return torch.sigmoid(self.head(hs).squeeze(-1))
            """,
            "only the last hidden state": """
                _, h_n = self.rnn(bits.float().unsqueeze(-1))
                return self.head(h_n[0]).expand(bits.shape[0], bits.shape[1])
            """,
            "time and batch swapped": """
                hs, _ = self.rnn(bits.float().T.unsqueeze(-1))
                return self.head(hs).squeeze(-1).T
            """,
        },
    },
    "01.final-accuracy": {
        "correct": {
            "numpy comparison": """
                logits = model(bits).detach().numpy()[:, -1]
                return float(np.mean((logits > 0) == (bits.numpy().sum(axis=1) % 2 == 1)))
            """,
            "probabilities above one half": """
                with torch.no_grad():
                    odd = torch.sigmoid(model(bits)[:, -1]) > 0.5
                return (odd.long() == bits.sum(1) % 2).double().mean().item()
            """,
        },
        "wrong": {
            "threshold 0.5 on logits": """
                with torch.no_grad():
                    predicted = (model(bits)[:, -1] > 0.5).long()
                return (predicted == bits.sum(dim=1) % 2).float().mean().item()
            """,
            "accuracy over every step": """
                with torch.no_grad():
                    predicted = (model(bits) > 0).long()
                return (predicted == torch.cumsum(bits, 1) % 2).float().mean().item()
            """,
            "a tensor, not a float": """
                with torch.no_grad():
                    predicted = (model(bits)[:, -1] > 0).long()
                return (predicted == bits.sum(dim=1) % 2).float().mean()
            """,
            "the first step instead of the last": """
                with torch.no_grad():
                    predicted = (model(bits)[:, 0] > 0).long()
                return (predicted == bits.sum(dim=1) % 2).float().mean().item()
            """,
        },
    },
}

FSM_MESSAGES = {"state before reading (off by one)": "expected state", "state not reset between strings":
                "expected state", "only the final state": "expected parity states of shape"}

test_a_correct_alternative_passes, test_a_slip_fails_with_a_message_naming_it = case_tests(
    check, CASES, lambda check_id, label: FSM_MESSAGES.get(label, "expected"))


QUESTIONS = [("01.q-counting-states", "answer_1_1", "d"), ("01.q-turing", "answer_1_2", "b"),
             ("01.q-generalisation", "answer_1_3", "b")]


@pytest.mark.parametrize("check_id,name,key", QUESTIONS[:2])
def test_question_key_passes_and_other_options_fail(check_id, name, key):
    assert_question(check, check_id, name, key, key.upper(), wrong_message="is not right. .+")


def test_generalisation_question_key():
    # this question sits after the training cells: run its check cell after the imports only
    assert_question_key(NAME, "01.q-generalisation", "answer_1_3", "b")
