"""The checks of notebook 11: correct alternatives pass, plausible slips fail with a hint."""

import pytest
import torch
from torch.nn import functional as F

from check_harness import assert_question_key, notebook_cells, run_check

NB = "11_captioning_vqa"


def solution_of(name: str) -> str:
    """The solution cell that defines ``name`` (run as setup: later exercises use earlier ones)."""
    for cell in notebook_cells(NB):
        if cell.cell_type == "code" and f"def {name}(" in cell.source:
            return cell.source.split("\n\n\n# ")[0]  # the definitions, not the demo after them
    raise KeyError(name)


# ---- 11.1 conditioned step -----------------------------------------------------------

def step_concatenated(x_t, h_prev, v, W_xh, W_hh, W_ih, b_h):
    """Correct: one matrix [W_xh | W_ih] on [x_t, v]."""
    return torch.tanh(torch.cat([x_t, v], 1) @ torch.cat([W_xh, W_ih], 1).T + h_prev @ W_hh.T + b_h)


def test_conditioned_step_accepts_the_stacked_form():
    run_check(NB, "11.conditioned-step", conditioned_step=step_concatenated)


@pytest.mark.parametrize("wrong", [
    lambda x, h, v, Wx, Wh, Wi, b: torch.tanh(x @ Wx.T + h @ Wh.T + b),                  # image left out
    lambda x, h, v, Wx, Wh, Wi, b: torch.relu(x @ Wx.T + h @ Wh.T + v @ Wi.T + b),        # relu
    lambda x, h, v, Wx, Wh, Wi, b: torch.tanh(x @ Wx + h @ Wh.T + v @ Wi.T + b) if Wx.shape[0] == Wx.shape[1] else x,
])
def test_conditioned_step_rejects_slips(wrong):
    with pytest.raises(AssertionError):
        run_check(NB, "11.conditioned-step", conditioned_step=wrong)


# ---- 11.2 caption log-probability ------------------------------------------------------

def log_prob_gather(logits, targets):
    """Correct: x - logsumexp(x) with the logsumexp written stably, then gather."""
    m = logits.max(dim=1, keepdim=True).values
    lse = m + torch.log(torch.exp(logits - m).sum(dim=1, keepdim=True))
    return (logits - lse).gather(1, targets[:, None]).sum()


def log_prob_loop(logits, targets):
    """Correct: one row at a time."""
    total = logits.new_zeros(())
    for row, t in zip(logits, targets):
        m = row.max()
        total = total + (row[t] - m) - torch.log(torch.exp(row - m).sum())
    return total


@pytest.mark.parametrize("answer", [log_prob_gather, log_prob_loop])
def test_caption_log_prob_accepts_correct_alternatives(answer):
    run_check(NB, "11.caption-log-prob", caption_log_prob=answer)


def global_max(logits, targets):
    m = logits.max()  # the maximum of the whole matrix
    return (logits[torch.arange(len(targets)), targets] - m - torch.log(torch.exp(logits - m).sum(1))).sum()


def in_float32(logits, targets):
    x = logits.float()
    m = x.max(dim=1, keepdim=True).values
    return (x[torch.arange(len(targets)), targets] - m[:, 0] - torch.log(torch.exp(x - m).sum(1))).sum().double()


@pytest.mark.parametrize("wrong, message", [
    (global_max, r"not enough when rows are far apart"),
    (lambda x, t: (x[torch.arange(len(t)), t] - torch.log(torch.exp(x).sum(1))).sum(), "subtract each row's own maximum"),
    (in_float32, r"float32 rounding"),
    (lambda x, t: (x[torch.arange(len(t)), t] - x.max(1).values).sum(), "Likely cause"),
    (lambda x, t: torch.log_softmax(x, 1)[torch.arange(len(t)), t].sum(), "write your own"),
    (lambda x, t: -F.cross_entropy(x, t, reduction="sum"), "write your own"),
])
def test_caption_log_prob_rejects_slips_with_a_hint(wrong, message):
    with pytest.raises(AssertionError, match=message):
        run_check(NB, "11.caption-log-prob", caption_log_prob=wrong)


def test_caption_log_prob_message_shows_enough_digits():
    with pytest.raises(AssertionError) as err:
        run_check(NB, "11.caption-log-prob", caption_log_prob=in_float32)
    expected, got = str(err.value).split("expected ")[1].split(", got ")
    assert expected != got.split(" ")[0]  # the two numbers printed differ


# ---- 11.3 training loop ------------------------------------------------------------------

LOSS_SETUP = solution_of("caption_loss")


def loss_with_cross_entropy(model, images, words):
    """Correct: cross_entropy with ignore_index."""
    logits, _ = model(images, words[:, :-1])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), words[:, 1:].reshape(-1), ignore_index=0)


def loss_masked_by_hand(model, images, words):
    """Correct: per-token NLL, masked, divided by the count of real targets."""
    logits, _ = model(images, words[:, :-1])
    nll = F.cross_entropy(logits.permute(0, 2, 1), words[:, 1:], reduction="none")
    mask = (words[:, 1:] != 0).float()
    return (nll * mask).sum() / mask.sum()


def steps_clipping_by_hand(model, optimizer, batches, clip):
    """Correct: the global norm clipped by hand."""
    losses = []
    for images, words in batches:
        for p in model.parameters():
            p.grad = None
        loss = loss_masked_by_hand(model, images, words)
        loss.backward()
        norm = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters() if p.grad is not None))
        scale = min(1.0, clip / (float(norm) + 1e-12))
        for p in model.parameters():
            if p.grad is not None:
                p.grad.mul_(scale)
        optimizer.step()
        losses.append(float(loss))
    return losses


@pytest.mark.parametrize("loss", [loss_with_cross_entropy, loss_masked_by_hand])
def test_training_loop_accepts_correct_alternatives(loss):
    run_check(NB, "11.training-loop", setup=solution_of("train_steps"), caption_loss=loss)
    run_check(NB, "11.training-loop", caption_loss=loss, train_steps=steps_clipping_by_hand)


def wrong_loss(kind):
    def loss(model, images, words):
        logits, _ = model(images, words[:, :-1])
        nll = F.cross_entropy(logits.transpose(1, 2), words[:, 1:], reduction="none")
        real = (words[:, 1:] != 0).float()
        if kind == "unmasked":
            return nll.mean()
        if kind == "sum":
            return (nll * real).sum()
        if kind == "all-positions":
            return (nll * real).sum() / real.numel()
        if kind == "per-caption":
            return ((nll * real).sum(1) / real.sum(1)).mean()
        if kind == "no-shift":
            logits, _ = model(images, words)
            return F.cross_entropy(logits.flatten(0, 1), words.flatten(), ignore_index=0)
        if kind == "detached":
            return torch.tensor(float(((nll * real).sum() / real.sum())), requires_grad=True)
    return loss


@pytest.mark.parametrize("kind, message", [("unmasked", "<PAD> targets included"), ("sum", "a sum"),
                                           ("all-positions", "number of real targets"),
                                           ("per-caption", "per-caption means"),
                                           ("no-shift", "teacher-forcing shift"), ("detached", "keep the graph")])
def test_training_loop_rejects_loss_slips(kind, message):
    with pytest.raises(AssertionError, match=message):
        run_check(NB, "11.training-loop", setup=solution_of("train_steps"), caption_loss=wrong_loss(kind))


def wrong_steps(kind):
    def steps(model, optimizer, batches, clip):
        losses = []
        for images, words in batches:
            if kind != "no-zero-grad":
                optimizer.zero_grad()
            loss = loss_with_cross_entropy(model, images, words)
            if kind == "clip-before-backward":
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            loss.backward()
            if kind == "per-parameter":
                for p in model.parameters():
                    torch.nn.utils.clip_grad_norm_([p], clip)
            elif kind == "clip-value":
                torch.nn.utils.clip_grad_value_(model.parameters(), clip)
            elif kind not in ("no-clip", "clip-before-backward"):
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            losses.append(loss if kind == "tensor-losses" else loss.item())
        return losses
    return steps


@pytest.mark.parametrize("kind, message", [("no-zero-grad", "clear the old gradients"),
                                           ("no-clip", "it was not clipped"),
                                           ("clip-before-backward", "it was not clipped"),
                                           ("per-parameter", "not each tensor's"),
                                           ("clip-value", "clip_grad_value_"),
                                           ("tensor-losses", "list of floats")])
def test_training_loop_rejects_loop_slips_and_names_them(kind, message):
    with pytest.raises(AssertionError, match=message):
        run_check(NB, "11.training-loop", caption_loss=loss_with_cross_entropy, train_steps=wrong_steps(kind))


def test_training_loop_rejects_the_package_loss():
    from rnncourse import captioning

    def wrapped(model, images, words):
        return -captioning.caption_log_prob(model, images, words).sum() / (words[:, 1:] != 0).sum()
    with pytest.raises(AssertionError, match="write your own"):
        run_check(NB, "11.training-loop", setup=solution_of("train_steps"), caption_loss=wrapped)


# ---- 11.4 sampling loop ----------------------------------------------------------------------

def sampling_with_while(model, images, max_len=16):
    """Correct: one image at a time, a while loop."""
    out = []
    with torch.no_grad():
        for n in range(images.shape[0]):
            memory = model.encode(images[n:n + 1])
            state, word, ids = model.init_state(memory), torch.tensor([1]), []
            while len(ids) < max_len and (not ids or ids[-1] != 2):
                logits, state, _ = model.step(word, state, memory)
                word = logits.argmax(1)
                ids.append(int(word))
            out.append(ids)
    return out


def test_sampling_loop_accepts_a_correct_alternative():
    run_check(NB, "11.sampling-loop", sample_captions=sampling_with_while)


def wrong_sampling(kind):
    def sample(model, images, max_len=16):
        memory = model.encode(images)
        state = model.init_state(memory)
        words = torch.full((images.shape[0],), 1, dtype=torch.long)
        out = [[] for _ in range(images.shape[0])]
        for _ in range(max_len + (kind == "off-by-one")):
            logits, new_state, _ = model.step(words, state, memory)
            chosen = logits.argmax(1)
            state = new_state if kind != "no-state" else state
            words = chosen if kind != "no-feedback" else words
            for n, w in enumerate(chosen.tolist()):
                if kind in ("no-stop", "off-by-one") or not out[n] or out[n][-1] != 2:
                    if kind == "drop-end" and w == 2:
                        out[n].append(-1)
                    else:
                        out[n].append(w)
        if kind == "drop-end":
            out = [[w for w in ids[:ids.index(-1)]] if -1 in ids else ids for ids in out]
        return out
    return sample


@pytest.mark.parametrize("kind, message", [("no-stop", "first <END>"), ("off-by-one", "max_len"),
                                           ("no-feedback", "feed back|encode once"),
                                           ("no-state", "encode once|feed back"),
                                           ("drop-end", "keep the <END> id")])
def test_sampling_loop_rejects_slips_with_a_hint(kind, message):
    with pytest.raises(AssertionError, match=message):
        run_check(NB, "11.sampling-loop", sample_captions=wrong_sampling(kind))


def test_sampling_loop_rejects_the_package_decoder():
    from rnncourse.captioning import greedy

    with pytest.raises(AssertionError, match="write your own"):
        run_check(NB, "11.sampling-loop",
                  sample_captions=lambda model, images, max_len=16: [c.ids for c in greedy(model, images, max_len)])


# ---- questions --------------------------------------------------------------------------------

@pytest.mark.parametrize("check_id, name, key", [("11.q-image-first-step", "answer_11_1", "b"),
                                                  ("11.q-question-only-baseline", "answer_11_2", "b"),
                                                  ("11.q-teacher-forcing", "answer_11_3", "b")])
def test_questions_accept_the_key_in_any_case_and_reject_the_rest(check_id, name, key):
    assert_question_key(NB, check_id, name, key)
