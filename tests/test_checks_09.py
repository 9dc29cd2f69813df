"""Notebook 09's checks accept correct alternatives and reject the plausible slips.

Each check cell of the solution notebook (hidden tests included) is executed in a
namespace where the exercise function is replaced by an alternative answer: correct
formulations must pass, wrong ones must raise. Nothing here trains for long.
"""

from pathlib import Path

import matplotlib
import pytest
import torch
from torch.nn import functional as F

from rnncourse.release import read_notebook

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
NB = read_notebook(ROOT / "solutions" / "09_practical_training.ipynb")


def _code(marker: str) -> str:
    hits = [c.source for c in NB.cells if c.cell_type == "code" and marker in c.source]
    assert len(hits) == 1, f"{len(hits)} code cells contain {marker!r}"
    return "\n".join(line for line in hits[0].splitlines() if not line.lstrip().startswith("%"))


def _check(check_id: str) -> str:
    hits = [c.source for c in NB.cells if c.metadata.get("rnncourse", {}).get("check") == check_id]
    assert len(hits) == 1, check_id
    return hits[0]


@pytest.fixture(scope="module")
def base():
    ns = {}
    for marker in ("from rnncourse.checks import", "names = load_names()", 'sample = ["li"',
                   "def masked_cross_entropy(", "def log_softmax(x):", "def cross_entropy(x, a):",
                   "class TinyTagger(nn.Module):"):
        exec(_code(marker), ns)
    ns["tiny_losses"] = [4.0, 0.0]  # what the notebook's own run gives; the check re-trains
    return ns


def _run(base, check_id, **replace):
    ns = dict(base)
    ns.update(replace)
    exec(_check(check_id), ns)


# --- 9.1 the masked loss --------------------------------------------------------------

def mce_boolean_index(logits, targets, mask):
    log_p = logits.log_softmax(-1)
    return -log_p.gather(-1, targets[..., None])[..., 0][mask].mean()


def mce_where(logits, targets, mask):
    nll = -torch.log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return torch.where(mask, nll, torch.zeros_like(nll)).sum() / mask.sum()


def mce_all_positions(logits, targets, mask):
    return -torch.log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).mean()


def mce_mean_of_means(logits, targets, mask):
    nll = -torch.log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return torch.stack([nll[n][mask[n]].mean() for n in range(len(nll))]).mean()


def mce_divide_by_batch(logits, targets, mask):
    nll = -torch.log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return (nll * mask).sum() / len(nll)


def mce_library(logits, targets, mask):
    return F.cross_entropy(logits.transpose(1, 2), targets.masked_fill(~mask, -100), ignore_index=-100)


@pytest.mark.parametrize("fn", [mce_boolean_index, mce_where])
def test_masked_loss_accepts_correct_formulations(base, fn):
    _run(base, "09.masked-loss", masked_cross_entropy=fn)


@pytest.mark.parametrize("fn,message", [
    (mce_all_positions, "all N\\*T positions"),
    (mce_mean_of_means, "per-sequence means"),
    (mce_divide_by_batch, "batch size N"),
    (mce_library, "write your own"),
])
def test_masked_loss_rejects_the_shortcuts_and_names_them(base, fn, message):
    with pytest.raises(AssertionError, match=message):
        _run(base, "09.masked-loss", masked_cross_entropy=fn)


# --- 9.2 log-softmax ------------------------------------------------------------------

def ls_slide_formula(x):  # x - logsumexp(x), the logsumexp computed stably first
    m = x.max(dim=-1, keepdim=True).values
    return x - (m + torch.log(torch.exp(x - m).sum(dim=-1, keepdim=True)))


def ls_float64_inside(x):
    z = x.double()
    z = z - z.amax(-1, keepdim=True)
    return (z - z.exp().sum(-1, keepdim=True).log()).to(x.dtype)


def ls_global_max(x):
    m = x.max()
    return x - m - torch.log(torch.exp(x - m).sum(dim=-1, keepdim=True))


def ls_naive(x):
    return torch.log(torch.exp(x) / torch.exp(x).sum(dim=-1, keepdim=True))


def ls_wrong_axis(x):
    m = x.max(dim=0, keepdim=True).values
    return x - m - torch.log(torch.exp(x - m).sum(dim=0, keepdim=True))


@pytest.mark.parametrize("fn", [ls_slide_formula, ls_float64_inside])
def test_log_softmax_accepts_both_stable_formulas(base, fn):
    _run(base, "09.log-softmax", log_softmax=fn)


@pytest.mark.parametrize("fn,message", [
    (ls_global_max, "maximum of each row"),
    (ls_naive, "subtract the maximum"),
    (ls_wrong_axis, "log_softmax on"),
    (lambda x: torch.log_softmax(x, -1), "write your own"),
    (lambda x: F.log_softmax(x, dim=-1), "write your own"),
    (lambda x: x - torch.logsumexp(x, -1, keepdim=True), "write your own"),
    (lambda x: torch.log(torch.softmax(x, -1)), "write your own"),
])
def test_log_softmax_rejects_slips_and_the_library(base, fn, message):
    with pytest.raises(AssertionError, match=message):
        _run(base, "09.log-softmax", log_softmax=fn)


# --- 9.3 cross-entropy ----------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda x, a: torch.einsum("nk,nk->n", a, -ls_slide_formula(x)).sum() / len(x),
    lambda x, a: -(a * ls_float64_inside(x)).sum() / x.shape[0],
])
def test_cross_entropy_accepts_alternatives(base, fn):
    _run(base, "09.cross-entropy", cross_entropy=fn)


@pytest.mark.parametrize("fn,message", [
    (lambda x, a: -(a * ls_slide_formula(x)).sum(), "cross_entropy with"),
    (lambda x, a: (a * ls_slide_formula(x)).sum(-1).mean(), "cross_entropy with"),
    (lambda x, a: -(a * ls_slide_formula(x)).mean(), "cross_entropy with"),
    (lambda x, a: F.cross_entropy(x, a), "write your own"),
])
def test_cross_entropy_rejects_slips(base, fn, message):
    with pytest.raises(AssertionError, match=message):
        _run(base, "09.cross-entropy", cross_entropy=fn)


# --- 9.4 overfit a tiny data set ------------------------------------------------------

def _loop(zero_grad="before", fresh_optimiser=False, record="before", set_to_none=True):
    def overfit(model, ids, targets, mask, steps, lr=1e-2):
        mce = mce_where
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        out = []
        for _ in range(steps):
            if fresh_optimiser:
                opt = torch.optim.Adam(model.parameters(), lr=lr)
            loss = mce(model(ids), targets, mask)
            if zero_grad == "before":
                opt.zero_grad(set_to_none=set_to_none)
            loss.backward()
            opt.step()
            if zero_grad == "after":
                opt.zero_grad()
            if record == "before":
                out.append(loss.item())
            else:
                with torch.no_grad():
                    out.append(float(mce(model(ids), targets, mask)))
        return out
    return overfit


@pytest.mark.parametrize("fn", [_loop(), _loop(zero_grad="after"), _loop(set_to_none=False)])
def test_overfit_accepts_equivalent_loops(base, fn):
    _run(base, "09.overfit", overfit=fn)


@pytest.mark.parametrize("fn,message", [
    (_loop(zero_grad="never"), "zero_grad"),
    (_loop(fresh_optimiser=True), "parts from the reference"),
    (_loop(record="after"), "first loss"),
    (lambda model, ids, targets, mask, steps, lr=1e-2: [4.0] * steps, "first loss"),
])
def test_overfit_rejects_broken_loops(base, fn, message):
    with pytest.raises(AssertionError, match=message):
        _run(base, "09.overfit", overfit=fn)


# --- questions ------------------------------------------------------------------------

@pytest.mark.parametrize("check_id,name,key", [
    ("09.q-detach", "answer_9_1", "c"), ("09.q-variational", "answer_9_2", "d"),
    ("09.q-layer-norm", "answer_9_3", "a")])
def test_questions_accept_the_key_and_reject_the_rest(base, check_id, name, key):
    _run(base, check_id, **{name: key.upper()})
    for wrong in "abcd".replace(key, ""):
        with pytest.raises(AssertionError):
            _run(base, check_id, **{name: wrong})
    with pytest.raises(AssertionError):
        _run(base, check_id, **{name: "e"})
