"""Speech features against a NumPy reference, the CTC recogniser, its training, the shipped model."""

import dataclasses

import numpy as np
import pytest
import torch

from rnncourse.speech import (HOP_LENGTH, LABELS, N_FFT, WIN_LENGTH, CTCRecognizer,
                              SpeechTrainConfig, batch_features, command_line, hz_to_mel,
                              log_mel, mel_filterbank, mel_to_hz, stack_frames, train_speech)
from rnncourse.data.fsdd import SAMPLE_RATE, load_recordings, official_split


def _numpy_log_mel(audio, n_mels=40, eps=1e-6):
    """Framing, Hann window, real FFT and triangular mel filters written out in NumPy."""
    padded = np.concatenate([np.zeros(N_FFT // 2), audio, np.zeros(N_FFT // 2)])
    n_frames = 1 + (len(padded) - N_FFT) // HOP_LENGTH
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WIN_LENGTH) / WIN_LENGTH)  # periodic
    window = np.zeros(N_FFT)
    start = (N_FFT - WIN_LENGTH) // 2                 # torch centres a short window in n_fft
    window[start:start + WIN_LENGTH] = hann
    frames = np.stack([padded[t * HOP_LENGTH:t * HOP_LENGTH + N_FFT] * window
                       for t in range(n_frames)])
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2                      # (T, F)
    mel_pts = np.linspace(0, 2595 * np.log10(1 + 4000 / 700), n_mels + 2)
    hz = 700 * (10 ** (mel_pts / 2595) - 1)
    freqs = np.arange(N_FFT // 2 + 1) * SAMPLE_RATE / N_FFT
    fb = np.zeros((n_mels, len(freqs)))
    for m in range(n_mels):
        for k, f in enumerate(freqs):
            if hz[m] <= f <= hz[m + 1]:
                fb[m, k] = (f - hz[m]) / (hz[m + 1] - hz[m])
            elif hz[m + 1] < f <= hz[m + 2]:
                fb[m, k] = (hz[m + 2] - f) / (hz[m + 2] - hz[m + 1])
    return np.log(power @ fb.T + eps)


def test_mel_scale_round_trips_and_1000_hz_is_about_1000_mel():
    f = np.array([0.0, 300.0, 1000.0, 4000.0])
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(f)), f, atol=1e-9)
    assert abs(hz_to_mel(1000.0) - 1000.0) < 0.1


def test_mel_filterbank_is_triangles_peaking_at_mel_spaced_centres():
    fb = mel_filterbank(n_mels=10, n_fft=256, sample_rate=8000).numpy()
    assert fb.shape == (10, 129)
    assert fb.min() >= 0 and fb.max() <= 1
    peaks = fb.argmax(axis=1) * 8000 / 256
    assert np.all(np.diff(peaks) > 0)
    widths = np.diff(hz_to_mel(peaks))
    assert np.ptp(widths) < 0.2 * widths.mean()      # equally spaced in mels (up to the bins)


def test_log_mel_matches_a_numpy_reference_on_speech():
    audio = official_split(load_recordings())[1][7].audio.astype(np.float64)
    ours = log_mel(audio).double().numpy()
    ref = _numpy_log_mel(audio)
    assert ours.shape == ref.shape == (1 + len(audio) // HOP_LENGTH, 40)
    np.testing.assert_allclose(ours, ref, atol=2e-3)


def test_log_mel_rejects_a_batch():
    with pytest.raises(ValueError, match=r"expected audio of shape \(S,\)"):
        log_mel(np.zeros((2, 800)))


def test_stack_frames_concatenates_neighbours_and_pads_the_end():
    x = torch.arange(2 * 5 * 3, dtype=torch.float32).reshape(2, 5, 3)
    y, lengths = stack_frames(x, torch.tensor([5, 4]), 2)
    assert y.shape == (2, 3, 6)
    assert torch.equal(y[0, 0], torch.cat([x[0, 0], x[0, 1]]))
    assert torch.equal(y[0, 2], torch.cat([x[0, 4], torch.zeros(3)]))
    assert lengths.tolist() == [3, 2]


def test_recogniser_gives_log_probabilities_per_stacked_frame():
    model = CTCRecognizer(hidden_size=8, stack=3).eval()
    feats, lengths = batch_features([np.zeros(800, np.float32), np.ones(1600, np.float32) * 0.1])
    log_probs, out_lengths = model(feats, lengths)
    assert log_probs.shape == (2, 7, len(LABELS))
    assert out_lengths.tolist() == [4, 7]          # ceil(11 / 3), ceil(21 / 3)
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(2, 7))
    # padding does not change the shorter utterance's output
    alone, _ = model(feats[:1, :11], lengths[:1])
    torch.testing.assert_close(alone[0, :4], log_probs[0, :4], atol=1e-5, rtol=1e-5)


def test_recogniser_rejects_features_of_the_wrong_size():
    with pytest.raises(ValueError, match=r"expected features of shape \(N, T, 40\)"):
        CTCRecognizer()(torch.zeros(1, 10, 13), torch.tensor([10]))


def test_training_resumes_exactly_from_a_checkpoint(tmp_path):
    recordings = [r for r in load_recordings() if r.speaker in ("jackson", "theo")]
    small = dict(hidden_size=8, num_layers=2, batch_size=4, steps=4, warmup=1, log_every=2,
                 hold_out=None, seed=3)
    straight, hist = train_speech(SpeechTrainConfig(**small), recordings, progress=lambda s: None)
    ckpt = str(tmp_path / "run.pt")
    train_speech(SpeechTrainConfig(**small, checkpoint=ckpt, stop_after=2), recordings,
                 progress=lambda s: None)
    resumed, _ = train_speech(SpeechTrainConfig(**small, checkpoint=ckpt), recordings,
                              progress=lambda s: None)
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert np.isfinite(hist["loss"]).all()


def test_command_line_spells_every_option_and_parses_back_to_the_same_config():
    import argparse
    import shlex
    from rnncourse.speech import add_arguments
    config = dataclasses.replace(SpeechTrainConfig(), steps=10, hold_out=None, checkpoint="x.pt")
    command = command_line(config, "speech_ctc", beam_size=4)
    words = shlex.split(command)
    assert words[:2] == ["rnncourse", "speech"] and "--checkpoint" not in words
    assert "--hold-out None" in command and "--steps 10" in command and "--lr 0.003" in command
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(words[2:])
    assert (args.steps, args.save, args.beam_size, args.lr) == (10, "speech_ctc", 4, 0.003)


def test_shipped_model_meets_the_targets_and_reproduces_its_record():
    from rnncourse import pretrained
    from rnncourse.speech import evaluate, test_sets
    rec = pretrained.record("speech_ctc")
    metrics = rec["metrics"]
    assert rec["training"]["hyperparameters"]["hold_out"] == "george"
    assert metrics["test_connected_digit_error_rate_fraction"] <= 0.05
    assert metrics["test_isolated_accuracy_fraction"] >= 0.97
    assert "test_heldout_george_connected_digit_error_rate_fraction" in metrics
    model = pretrained.load("speech_ctc", device="cpu")
    assert sum(p.numel() for p in model.parameters()) == rec["training"]["parameters"] < 400_000
    sets = test_sets(load_recordings(), hold_out="george")
    got = evaluate(model, {k: sets[k] for k in ("test_connected", "test_isolated")})
    for name, value in got.items():
        assert value == pytest.approx(metrics[name], abs=1e-4), name
