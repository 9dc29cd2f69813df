"""Speech features and a bidirectional GRU trained with CTC on spoken digits (notebook 12).

Features, as in the speech slides [000, 001]: a short-time Fourier transform (25 ms
Hann windows every 10 ms, ``torch.stft``), the power spectrum pooled by triangular
filters equally spaced on the mel scale (m = 2595 log10(1 + f / 700), the HTK formula),
and a logarithm: a log-mel spectrogram, (T, n_mels) per utterance.

Model (Graves et al. 2013 "Speech recognition with deep recurrent neural networks"; Deep
Speech, Hannun et al. 2014): features normalised with the training set's mean and
standard deviation, ``stack`` neighbouring frames concatenated (T -> T / stack, so the
RNN runs fewer steps), a bidirectional GRU, and a linear layer to log-probabilities over
11 labels, blank = 0 and digit d = d + 1, trained with ``torch.nn.functional.ctc_loss``
on connected-digit utterances made on the fly from the training recordings.

Train (one CPU thread, ``rnncourse.training.fit``) and ship::

    rnncourse speech --save speech_ctc                  # george held out (the default)
    rnncourse speech --hold-out None --save NAME        # all six speakers

(each shipped model's exact command is in its record, ``rnncourse/pretrained/*.json``).
Shapes: N batch, S samples, T frames, D = n_mels, H hidden units, V = 11 labels.
"""

import argparse
import dataclasses
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncourse._io import atomic_path
from rnncourse.ctc import BLANK, error_rate, greedy_decode, prefix_beam_search
from rnncourse.data.fsdd import (SAMPLE_RATE, Recording, asset_sha256, hold_out_speaker,
                                 load_recordings, make_connected, official_split)
from rnncourse.runtime import threads
from rnncourse.training import LoopConfig, fit, lr_at

__all__ = ["LABELS", "N_FFT", "WIN_LENGTH", "HOP_LENGTH", "hz_to_mel", "mel_to_hz",
           "mel_filterbank", "log_mel", "batch_features", "stack_frames", "CTCRecognizer",
           "SpeechTrainConfig", "train_speech", "transcribe", "test_sets", "evaluate",
           "command_line", "LEAVE_OUT", "add_arguments", "ship", "run"]

LABELS = ("_",) + tuple(str(d) for d in range(10))   # index 0 is the CTC blank
N_FFT, WIN_LENGTH, HOP_LENGTH = 256, 200, 80          # 32 ms FFT, 25 ms window, 10 ms hop at 8 kHz
TEST_SEED = 12_000                                     # the seed of the connected test sets


# --- features ----------------------------------------------------------------------------

def hz_to_mel(f):
    """Frequency in Hz -> mels (HTK): 2595 log10(1 + f / 700)."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m):
    """Mels -> Hz, the inverse of ``hz_to_mel``."""
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(n_mels: int = 40, n_fft: int = N_FFT, sample_rate: int = SAMPLE_RATE,
                   f_min: float = 0.0, f_max: float | None = None) -> torch.Tensor:
    """Triangular filters (n_mels, n_fft // 2 + 1): filter m rises linearly from the
    centre of filter m-1 to its own centre and falls to the centre of filter m+1, the
    n_mels + 2 edges being equally spaced in mels between f_min and f_max (Nyquist)."""
    f_max = sample_rate / 2 if f_max is None else f_max
    edges = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))
    freqs = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)          # the FFT bins' frequencies
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs - lower) / (centre - lower)
    falling = (upper - freqs) / (upper - centre)
    return torch.tensor(np.maximum(0.0, np.minimum(rising, falling)), dtype=torch.float32)


def log_mel(audio, n_mels: int = 40, eps: float = 1e-6) -> torch.Tensor:
    """Log-mel spectrogram (T, n_mels) of one utterance ``audio`` (S,) at 8 kHz:
    log(mel_filterbank @ |STFT|^2 + eps), T = 1 + S // HOP_LENGTH frames (the signal is
    padded with N_FFT // 2 zeros on both sides so frame t is centred on sample t * hop)."""
    audio = torch.as_tensor(np.asarray(audio), dtype=torch.float32)
    if audio.dim() != 1:
        raise ValueError(f"expected audio of shape (S,), got {tuple(audio.shape)}")
    spec = torch.stft(audio, n_fft=N_FFT, hop_length=HOP_LENGTH, win_length=WIN_LENGTH,
                      window=torch.hann_window(WIN_LENGTH), center=True, pad_mode="constant",
                      return_complex=True)                               # (F, T)
    power = spec.real ** 2 + spec.imag ** 2
    return torch.log(mel_filterbank(n_mels) @ power + eps).T            # (T, n_mels)


def batch_features(audios, n_mels: int = 40) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-mels of several utterances, zero-padded: (N, T_max, n_mels) and lengths (N,)."""
    feats = [log_mel(a, n_mels) for a in audios]
    lengths = torch.tensor([len(f) for f in feats])
    return nn.utils.rnn.pad_sequence(feats, batch_first=True), lengths


def stack_frames(x: torch.Tensor, lengths: torch.Tensor, stack: int
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Concatenate ``stack`` consecutive frames: (N, T, D) -> (N, ceil(T / stack), stack * D)."""
    N, T, D = x.shape
    pad = (-T) % stack
    x = F.pad(x, (0, 0, 0, pad))                                          # (N, T + pad, D)
    return x.reshape(N, (T + pad) // stack, stack * D), (lengths + stack - 1) // stack


# --- the model ----------------------------------------------------------------------------

class CTCRecognizer(nn.Module):
    """Normalise -> stack frames -> bidirectional GRU -> linear -> log-softmax over LABELS.

    forward(features (N, T, D), lengths (N,)) -> log_probs (N, T', V), lengths' (N,),
    T' = ceil(T / stack). GRU gate order (PyTorch): r, z, n.
    """

    def __init__(self, n_mels: int = 40, stack: int = 4, hidden_size: int = 64,
                 num_layers: int = 2, dropout: float = 0.1, num_labels: int = len(LABELS)):
        super().__init__()
        self.n_mels, self.stack = n_mels, stack
        self.register_buffer("feature_mean", torch.zeros(n_mels))
        self.register_buffer("feature_std", torch.ones(n_mels))
        self.rnn = nn.GRU(stack * n_mels, hidden_size, num_layers, batch_first=True,
                          bidirectional=True, dropout=dropout if num_layers > 1 else 0.0)
        self.out = nn.Linear(2 * hidden_size, num_labels)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        if features.dim() != 3 or features.shape[-1] != self.n_mels:
            raise ValueError(f"expected features of shape (N, T, {self.n_mels}), "
                             f"got {tuple(features.shape)}")
        x = (features - self.feature_mean) / self.feature_std
        x, lengths = stack_frames(x, lengths.cpu(), self.stack)          # (N, T', stack * D)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        h, _ = self.rnn(packed)
        h, _ = pad_packed_sequence(h, batch_first=True, total_length=x.shape[1])  # (N, T', 2H)
        return F.log_softmax(self.out(h), dim=-1), lengths

    @torch.no_grad()
    def posteriors(self, audio) -> torch.Tensor:
        """log p_t(k) for one utterance (S,): (T', V), on the CPU."""
        device = self.feature_mean.device
        feats = log_mel(audio, self.n_mels)[None].to(device)
        log_probs, _ = self(feats, torch.tensor([feats.shape[1]]))
        return log_probs[0].cpu()


def _labels_to_digits(labels) -> list[int]:
    return [int(k) - 1 for k in labels]


@torch.no_grad()
def transcribe(model: CTCRecognizer, audios, beam_size: int = 1, batch_size: int = 64
               ) -> list[list[int]]:
    """The digits heard in each utterance: greedy decoding (``beam_size=1``) or CTC
    prefix beam search."""
    model.eval()
    device = model.feature_mean.device
    out = []
    for i in range(0, len(audios), batch_size):
        feats, lengths = batch_features(audios[i:i + batch_size], model.n_mels)
        log_probs, lengths = model(feats.to(device), lengths)
        for lp, n in zip(log_probs.cpu(), lengths):
            labels = greedy_decode(lp, n) if beam_size == 1 else prefix_beam_search(lp, beam_size, n)[0]
            out.append(_labels_to_digits(labels))
    return out


# --- data and evaluation --------------------------------------------------------------------

def test_sets(recordings: list[Recording], hold_out: str | None = None, n_connected: int = 300
              ) -> dict[str, tuple[list[np.ndarray], list[list[int]]]]:
    """The evaluation sets, as (audios, digit lists): connected and isolated digits from the
    official test takes (0-4) of the training speakers, and, with ``hold_out``, connected
    and isolated digits from all 500 recordings of that unseen speaker. Seeded (TEST_SEED)."""
    if hold_out:
        others, held = hold_out_speaker(recordings, hold_out)
    else:
        others, held = recordings, []
    test = official_split(others)[1]
    sets = {}
    connected = make_connected(test, n_connected, seed=TEST_SEED)
    sets["test_connected"] = ([u.audio for u in connected], [list(u.digits) for u in connected])
    sets["test_isolated"] = ([r.audio for r in test], [[r.digit] for r in test])
    if held:
        connected = make_connected(held, n_connected, seed=TEST_SEED + 1)
        sets[f"test_heldout_{hold_out}_connected"] = ([u.audio for u in connected],
                                                 [list(u.digits) for u in connected])
        sets[f"test_heldout_{hold_out}_isolated"] = ([r.audio for r in held], [[r.digit] for r in held])
    return sets


def evaluate(model: CTCRecognizer, sets: dict, beam_size: int = 1) -> dict[str, float]:
    """Per set: ``<set>_digit_error_rate_fraction`` for connected sets and
    ``<set>_accuracy_fraction`` (the transcript is exactly the one digit) for isolated ones."""
    metrics = {}
    for name, (audios, refs) in sets.items():
        hyps = transcribe(model, audios, beam_size)
        if name.endswith("isolated"):
            metrics[f"{name}_accuracy_fraction"] = float(np.mean([h == r for h, r in zip(hyps, refs)]))
        else:
            metrics[f"{name}_digit_error_rate_fraction"] = error_rate(refs, hyps)
    return metrics


# --- training ---------------------------------------------------------------------------------

@dataclass
class SpeechTrainConfig:
    """Everything a training run depends on (the record stores all of it)."""
    hold_out: str | None = "george"   # a speaker left out of training entirely (None: keep all)
    n_mels: int = 40
    stack: int = 4
    hidden_size: int = 64
    num_layers: int = 2
    dropout: float = 0.1
    batch_size: int = 16
    steps: int = 1000
    lr: float = 3e-3
    warmup: int = 50
    min_lr_ratio: float = 0.05
    clip: float = 1.0
    seed: int = 0
    threads: int | None = 1
    checkpoint: str | None = None
    checkpoint_every: int = 200
    stop_after: int | None = None     # stop (checkpointed) after this step; a rerun resumes
    log_every: int = 100


_MODEL_FIELDS = ("n_mels", "stack", "hidden_size", "num_layers", "dropout")
_RUNTIME_FIELDS = ("threads", "checkpoint", "checkpoint_every", "stop_after", "log_every")
LEAVE_OUT = ("threads", "checkpoint", "stop_after")   # where or how a run happens, not what


def _loop_config(c: SpeechTrainConfig) -> LoopConfig:
    """The loop's settings: cosine decay to ``lr * min_lr_ratio`` after a linear warm-up."""
    return LoopConfig(steps=c.steps, lr=c.lr, clip=c.clip, schedule="cosine", warmup=c.warmup,
                      min_lr_ratio=c.min_lr_ratio)


def _training_batch(recordings, step: int, c: SpeechTrainConfig):
    """The batch of ``step``: a pure function of (seed, step), so a resumed run is exact."""
    utts = make_connected(recordings, c.batch_size, seed=c.seed * 1_000_003 + step + 1,
                          edge_s=(0.0, 0.3), snr_db=(15.0, 40.0), gain_db=(-12.0, 6.0))
    feats, lengths = batch_features([u.audio for u in utts], c.n_mels)
    targets = torch.tensor([d + 1 for u in utts for d in u.digits])
    target_lengths = torch.tensor([len(u.digits) for u in utts])
    return feats, lengths, targets, target_lengths


def train_speech(config: SpeechTrainConfig, recordings: list[Recording] | None = None,
                 progress=print) -> tuple[CTCRecognizer, dict]:
    """Train a ``CTCRecognizer`` on connected digits from the official training takes
    (5-49) of every speaker but ``config.hold_out`` with ``rnncourse.training.fit``;
    resumes from ``config.checkpoint``. Returns the model (eval mode) and a history with
    the losses and the times. Torch's thread count is restored afterwards."""
    with threads(config.threads):
        return _train_speech(config, load_recordings() if recordings is None else recordings,
                             progress)


def _train_speech(config: SpeechTrainConfig, recordings, progress):
    pool = hold_out_speaker(recordings, config.hold_out)[0] if config.hold_out else recordings
    train = official_split(pool)[0]
    torch.manual_seed(config.seed)
    model = CTCRecognizer(**{k: getattr(config, k) for k in _MODEL_FIELDS})
    with torch.no_grad():   # normalisation statistics of the training features
        feats, lengths, _, _ = _training_batch(train, -1, dataclasses.replace(config, batch_size=256))
        frames = torch.cat([f[:n] for f, n in zip(feats, lengths)])
        model.feature_mean.copy_(frames.mean(0))
        model.feature_std.copy_(frames.std(0))
    loop = _loop_config(config)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    history = {"step": [], "loss": [], "wall_time_s": 0.0}
    start = 0
    path = Path(config.checkpoint) if config.checkpoint else None
    if path and path.exists():
        state = torch.load(path, weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        start = int(state["step"])
        if "torch_rng" in state:                                       # dropout masks
            torch.set_rng_state(state["torch_rng"])
        history = {"step": state["history_step"].tolist(), "loss": state["history_loss"].tolist(),
                   "wall_time_s": float(state["wall_time_s"])}
        progress(f"resumed at step {start}")
    t0, running = time.time(), []
    end = config.steps if config.stop_after is None else min(config.steps, config.stop_after)

    def next_loss(step):
        feats, lengths, targets, target_lengths = _training_batch(train, step, config)
        log_probs, out_lengths = model(feats.to(model.feature_mean.device), lengths)
        return F.ctc_loss(log_probs.float().transpose(0, 1), targets, out_lengths, target_lengths,
                          blank=BLANK, zero_infinity=True)

    def on_step(done, loss):
        running.append(loss)
        if done % config.log_every == 0:
            history["step"].append(done)
            history["loss"].append(float(np.mean(running)))
            elapsed = history["wall_time_s"] + time.time() - t0
            progress(f"step {done}/{config.steps} loss {np.mean(running):.4f} "
                     f"lr {lr_at(done - 1, loop):.2e} {elapsed:.0f} s")
            running.clear()
        if path and (done % config.checkpoint_every == 0 or done == end):
            with atomic_path(path) as tmp:
                torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                            "step": done, "torch_rng": torch.get_rng_state(),
                            "history_step": torch.tensor(history["step"]),
                            "history_loss": torch.tensor(history["loss"]),
                            "wall_time_s": history["wall_time_s"] + time.time() - t0}, tmp)
        return done >= end

    if start < end:
        fit(model, next_loss, loop, optimizer=opt, start_step=start, on_step=on_step, name="speech")
    history["wall_time_s"] += time.time() - t0
    return model.eval(), history


def command_line(config: SpeechTrainConfig, save: str | None = None, beam_size: int = 1) -> str:
    """The ``rnncourse speech ...`` command that reproduces a run (``rnncourse.cli.command_line``:
    every option with its value, defaults too, except the ``LEAVE_OUT`` ones)."""
    from rnncourse.cli import command_line as verb_command

    values = {**dataclasses.asdict(config), "save": save, "beam_size": beam_size}
    if config.hold_out is None:
        values["hold_out"] = "None"          # parsed back to None by ``run``
    return verb_command("speech", argparse.Namespace(**values), leave_out=LEAVE_OUT)


def _checks() -> dict:
    """The ``type=`` checker of every option of ``rnncourse speech`` (``rnncourse.cli``)."""
    from rnncourse import cli

    return {"hold_out": str, "n_mels": cli.positive_int, "stack": cli.positive_int,
            "hidden_size": cli.positive_int, "num_layers": cli.positive_int, "dropout": cli.fraction,
            "batch_size": cli.positive_int, "steps": cli.positive_int, "lr": cli.positive_float,
            "warmup": cli.non_negative_int, "min_lr_ratio": cli.non_negative_float,
            "clip": cli.non_negative_float, "seed": cli.non_negative_int, "threads": cli.positive_int,
            "checkpoint": cli.path_text, "checkpoint_every": cli.positive_int,
            "stop_after": cli.positive_int, "log_every": cli.positive_int,
            "beam_size": cli.positive_int}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``rnncourse speech`` (one per field of ``SpeechTrainConfig``)."""
    checks = _checks()
    for f in dataclasses.fields(SpeechTrainConfig):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=checks[f.name], default=f.default,
                            help=f"(default: {f.default}; 'None' for hold-out: keep every speaker)"
                            if f.name == "hold_out" else f"(default: {f.default})")
    parser.add_argument("--save", help="ship the result as rnncourse/pretrained/<SAVE>.*")
    parser.add_argument("--beam-size", type=checks["beam_size"], default=1,
                        help="also score prefix beam search with this beam (1: greedy only)")


def ship(model: CTCRecognizer, config: SpeechTrainConfig, history: dict, metrics: dict,
         name: str, beam_size: int = 1) -> dict:
    """Write ``model`` to ``rnncourse/pretrained/<name>.*`` with its record; returns it."""
    from rnncourse import pretrained
    meta = {
        "builder": "rnncourse.speech:CTCRecognizer",
        "config": {k: getattr(config, k) for k in _MODEL_FIELDS},
        "training": {
            "command": command_line(config, name, beam_size),
            "seed": config.seed,
            "steps": config.steps,
            "hyperparameters": {k: v for k, v in dataclasses.asdict(config).items()
                                if k not in _RUNTIME_FIELDS},
            "data": {"description": "FSDD recordings as 8-bit mu-law "
                                    "(rnncourse/data/assets/fsdd/fsdd_mulaw.npz, CC BY-SA 4.0); "
                                    "connected digits from takes 5-49 made on the fly",
                     "sha256": asset_sha256()},
            "device": f"cpu ({platform.machine()}), {config.threads} thread(s), shared machine",
            "torch": torch.__version__,
            "wall_time_s": round(history["wall_time_s"], 1),
            "parameters": sum(p.numel() for p in model.parameters()),
        },
        "metrics": {k: round(v, 5) for k, v in metrics.items()},
        "history": {"step": history["step"], "train_ctc_loss_nats_per_utterance": history["loss"]},
    }
    pretrained.save(name, model, meta, half=False)  # float32 (0.7 MB): reloads to the same metrics
    return meta


def run(args: argparse.Namespace) -> int:
    """``rnncourse speech``: train (or resume), evaluate on the test sets, optionally ship."""
    hold_out = None if args.hold_out in ("", "none", "None") else args.hold_out
    config = SpeechTrainConfig(**{**{f.name: getattr(args, f.name)
                                     for f in dataclasses.fields(SpeechTrainConfig)},
                                  "hold_out": hold_out})
    recordings = load_recordings()
    model, history = train_speech(config, recordings)
    if config.stop_after is not None and config.stop_after < config.steps:
        return 0
    sets = test_sets(recordings, config.hold_out)
    metrics = evaluate(model, sets)
    if args.beam_size > 1:
        beam = evaluate(model, {k: v for k, v in sets.items() if k.endswith("connected")},
                        args.beam_size)
        metrics.update({k.replace("_digit_error", f"_beam{args.beam_size}_digit_error"): v
                        for k, v in beam.items()})
    print({k: round(v, 4) for k, v in metrics.items()})
    if args.save:
        ship(model, config, history, metrics, args.save, args.beam_size)
        print(f"saved rnncourse/pretrained/{args.save}.*")
    return 0
