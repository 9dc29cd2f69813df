"""rnncourse.music: the piano-roll models, the NLL per time step, frame accuracy, sampling,
the synthesiser, and the shipped JSB results and models (reproducible from their record)."""

import hashlib
import shlex

import numpy as np
import pytest
import torch

from rnncourse.cli import verb_parser
from rnncourse import pretrained
from rnncourse.data.jsb import JSB_FILE, load_jsb
from rnncourse.music import (CELLS, PianoRollRNN, TrainConfig, add_arguments, evaluate,
                             frame_accuracy, frame_nll, load_runs, sample, synthesize, train)


@pytest.fixture(scope="module")
def data():
    return load_jsb()


def test_the_three_cells_have_matched_parameter_counts_near_the_papers_20k():
    counts = {c: sum(p.numel() for p in PianoRollRNN(c).parameters()) for c in CELLS}
    assert all(19_500 <= n <= 21_000 for n in counts.values()), counts
    assert max(counts.values()) / min(counts.values()) < 1.02, counts


def test_frame_nll_matches_bernoulli_log_prob_summed_over_keys():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 7, 88, generator=g, dtype=torch.float64) * 4
    x = (torch.rand(3, 7, 88, generator=g) < 0.1).double()
    want = -torch.distributions.Bernoulli(logits=logits).log_prob(x).sum(-1)
    p = torch.sigmoid(logits)
    naive = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(-1)
    assert frame_nll(logits, x).shape == (3, 7)
    torch.testing.assert_close(frame_nll(logits, x), want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(frame_nll(logits, x), naive, rtol=1e-9, atol=1e-9)


def test_frame_nll_is_exact_for_saturated_logits():
    logits = torch.tensor([[1e4, -1e4, 1e4, -1e4]], dtype=torch.float64)
    x = torch.tensor([[1.0, 0.0, 0.0, 1.0]], dtype=torch.float64)
    assert frame_nll(logits, x).item() == pytest.approx(2e4, rel=1e-12)  # two confident misses
    assert frame_nll(logits[:, :2], x[:, :2]).item() == pytest.approx(0.0, abs=1e-300)


@pytest.mark.parametrize("cell", CELLS)
def test_predictions_of_frame_t_only_see_frames_before_t(cell):
    torch.manual_seed(0)
    model = PianoRollRNN(cell).double()
    x = (torch.rand(2, 9, 88) < 0.05).double()
    y = x.clone()
    y[:, 5:] = 1 - y[:, 5:]
    a, _ = model(x)
    b, _ = model(y)
    torch.testing.assert_close(a[:, :6], b[:, :6])  # logits of frames 0..5 read frames 0..4
    assert not torch.allclose(a[:, 6:], b[:, 6:])


def test_evaluate_is_the_frame_weighted_mean_and_ignores_padding(data):
    torch.manual_seed(0)
    model = PianoRollRNN("gru")
    rolls = data["valid"][:9]
    together = evaluate(model, rolls, batch_size=128)
    one_by_one = [evaluate(model, [r], batch_size=1) for r in rolls]
    frames = [len(r) for r in rolls]
    assert together["frames"] == sum(frames)
    want = sum(m["nll"] * n for m, n in zip(one_by_one, frames)) / sum(frames)
    assert together["nll"] == pytest.approx(want, rel=1e-5)
    assert together["nll_seq_mean"] == pytest.approx(np.mean([m["nll"] for m in one_by_one]),
                                                     rel=1e-5)


def test_frame_accuracy_counts_true_positives_over_all_mistakes():
    x = np.array([[1, 1, 0, 0], [0, 1, 1, 0]])
    pred = np.array([[1, 0, 1, 0], [0, 1, 1, 0]])  # TP 3, FP 1, FN 1
    assert frame_accuracy(pred, x) == pytest.approx(3 / 5)
    assert frame_accuracy(pred, x, mask=np.array([False, True])) == pytest.approx(1.0)


def test_expected_accuracy_agrees_with_sampled_predictions():
    g = torch.Generator().manual_seed(1)
    p = torch.rand(400, 88, generator=g) ** 6
    x = torch.bernoulli(p, generator=g)
    draws = [frame_accuracy(torch.bernoulli(p, generator=g), x) for _ in range(200)]
    assert frame_accuracy(p, x) == pytest.approx(np.mean(draws), abs=3e-3)


def test_output_bias_starts_at_the_keys_log_odds(data):
    model = PianoRollRNN("tanh")
    model.init_output_bias(data["train"])
    freq = np.mean(np.concatenate(data["train"]), axis=0)
    p = torch.sigmoid(model.out.bias).detach().numpy()
    np.testing.assert_allclose(p[freq > 0.01], freq[freq > 0.01], rtol=0.01)
    assert p.max() < 0.5 and p.min() > 0


def test_sample_gives_binary_rolls_and_keeps_the_prime(data):
    torch.manual_seed(0)
    model = PianoRollRNN("lstm")
    prime = data["test"][0][:4]
    rolls = sample(model, 10, n=3, generator=torch.Generator().manual_seed(0), prime=prime)
    assert rolls.shape == (3, 10, 88)
    assert set(rolls.unique().tolist()) <= {0.0, 1.0}
    assert (rolls[:, :4] == torch.as_tensor(prime, dtype=torch.float32)).all()


def test_synthesised_a4_peaks_at_440_hz():
    roll = np.zeros((4, 88))
    roll[:, 69 - 21] = 1
    audio = synthesize(roll, sample_rate=8000, frame_seconds=0.25)
    assert audio.dtype == np.float32 and np.abs(audio).max() <= 1.0
    assert len(audio) == 4 * 2000 + int(0.06 * 8000)
    spectrum = np.abs(np.fft.rfft(audio))
    assert np.fft.rfftfreq(len(audio), 1 / 8000)[spectrum.argmax()] == pytest.approx(440, abs=2)
    assert not synthesize(np.zeros((3, 88))).any()
    with pytest.raises(ValueError, match="88"):
        synthesize(np.zeros((3, 87)))


# ---- the shipped results and models -----------------------------------------------------
RUNS = load_runs()
RECORDS = [r for cell in CELLS for r in RUNS[cell]]


def test_every_cell_has_at_least_three_shipped_seeds():
    assert {c: len(RUNS[c]) for c in CELLS} == {c: max(3, len(RUNS[c])) for c in CELLS}


def _parse(command: str) -> TrainConfig:
    words = shlex.split(command)
    assert words[:2] == ["rnncourse", "music"], command
    args = verb_parser("music").parse_args(words[2:])
    return TrainConfig(**{k: getattr(args, k) for k in TrainConfig.__dataclass_fields__})


@pytest.mark.parametrize("record", RECORDS, ids=[f"{r['config']['cell']}{r['seed']}" for r in RECORDS])
def test_shipped_run_is_reproduced_by_its_recorded_command(record, data):
    """The record's command parses back to its config, its data is the shipped file, and
    replaying the first updates gives the recorded losses."""
    config = _parse(record["command"])
    stored = dict(record["config"])
    assert {k: v for k, v in vars(config).items() if k not in ("hidden_size", "device")} == \
        {k: v for k, v in stored.items() if k not in ("hidden_size", "device")}
    assert record["data"]["sha256"] == hashlib.sha256(JSB_FILE.read_bytes()).hexdigest()
    torch.set_num_threads(1)
    replay = train(config, data, max_updates=5)
    np.testing.assert_allclose(replay["first_losses"], record["first_losses"][:5], rtol=1e-4)
    curve = record["curve"]
    assert record["metrics"]["valid"]["nll"] == pytest.approx(min(c["valid_nll"] for c in curve),
                                                              rel=1e-6)


@pytest.mark.parametrize("cell", CELLS)
def test_shipped_model_gives_its_recorded_test_nll(cell, data):
    name = f"jsb_{cell}"
    meta = pretrained.record(name)
    model = pretrained.load(name, device="cpu")
    assert model.config["cell"] == cell
    got = evaluate(model, data["test"])["nll"]
    assert got == pytest.approx(meta["metrics"]["test_nll_nats_per_step"], rel=1e-5)
    run = next(r for r in RUNS[cell] if r["seed"] == meta["training"]["seed"])
    assert got == pytest.approx(run["metrics"]["test"]["nll"], rel=1e-5)
