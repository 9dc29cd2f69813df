"""The two conventions for the image vector: step-by-step decoding agrees with training."""

import json

import pytest
import torch

from rnncourse import captioning
from rnncourse.caption_conventions import CONVENTIONS, RESULTS, ConventionCaptioner
from rnncourse.data import scenes as sc


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_greedy_log_prob_equals_the_teacher_forced_one(convention):
    torch.manual_seed(0)
    model = ConventionCaptioner(convention, embed_dim=8, features=16, hidden_size=16, channels=4).eval()
    images = torch.from_numpy(sc.render_batch(sc.make_scenes(3, seed=1)))
    for n, caption in enumerate(captioning.greedy(model, images, max_len=6)):
        words = torch.tensor([[sc.WORDS.index(sc.START)] + caption.ids])
        with torch.no_grad():
            teacher_forced = captioning.caption_log_prob(model, images[n:n + 1], words)
        assert teacher_forced.item() == pytest.approx(caption.log_prob, rel=1e-5)


def test_the_first_step_convention_ignores_v_after_the_first_word():
    torch.manual_seed(0)
    model = ConventionCaptioner("first", embed_dim=8, features=16, hidden_size=16, channels=4).eval()
    v, other = torch.randn(2, 16), torch.randn(2, 16)
    state = model.init_state(v)
    words = torch.tensor([1, 1])
    _, after_first, _ = model.step(words, state, v)
    logits_v, _, _ = model.step(words, after_first, v)
    logits_other, _, _ = model.step(words, after_first, other)
    assert torch.equal(logits_v, logits_other)
    with pytest.raises(ValueError, match="convention must be one of"):
        ConventionCaptioner("init")


def test_shipped_results_hold_three_seeds_of_both_conventions():
    results = json.loads(RESULTS.read_text())
    assert set(results["runs"]) == set(CONVENTIONS)
    for runs in results["runs"].values():
        assert [r["seed"] for r in runs] == [0, 1, 2]
        assert all(0 <= r["exact_match"] <= 1 and r["loss_every_50"] for r in runs)
