"""The Free Spoken Digit Dataset (FSDD), shipped in a compact form, and connected digits.

FSDD: 3,000 recordings of the English digits 0-9 (6 speakers x 10 digits x 50 takes,
mono 8 kHz), by Zohar Jackson and contributors, licensed CC BY-SA 4.0. The package ships
a derived copy under ``rnncourse/data/assets/fsdd/`` (its own LICENSE.txt and SOURCE.md,
apart from the code's MIT licence): every recording as 8-bit mu-law codes, in a zip
compressed with LZMA (about 7 MB), checked against ``MANIFEST.json`` when loaded.
Mu-law keeps the quantisation noise about 30-38 dB below the speech.

Official split (FSDD's README): takes 0-4 of every speaker are the test set, takes
5-49 the training set. For a speaker-independent test hold out a whole speaker.

Connected-digit utterances (``make_connected``) join 1-7 recordings of one speaker
with short random pauses and add light white noise; they are seeded, so the same
seed gives the same utterances everywhere.

    recordings = load_recordings()                 # list[Recording], offline
    train, test = official_split(recordings)
    utterances = make_connected(test, 200, seed=1)

Maintainers rebuild the asset from the original archive with ``build_asset()``.
"""

import hashlib
import io
import json
import tarfile
import wave
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnncourse._io import atomic_path

__all__ = ["SAMPLE_RATE", "SPEAKERS", "TEST_TAKES", "SOURCE_SHA256", "ASSET_DIR", "ASSET_FILE",
           "Recording", "Utterance", "mu_law_encode", "mu_law_decode", "read_archive",
           "build_asset", "asset_sha256", "load_recordings", "official_split", "hold_out_speaker",
           "make_connected"]

SAMPLE_RATE = 8000
SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
TEST_TAKES = range(0, 5)
SOURCE_SHA256 = "0ffed3490ee6ae731ff4c34784ca420b50902699b420e1b9c35c3301573177a6"
SOURCE_COMMIT = "26eb9aaf76e81b692f806f9140c2d2777410d7a1"
ASSET_DIR = Path(__file__).parent / "assets" / "fsdd"
ASSET_FILE = "fsdd_mulaw.npz"
MU = 255


@dataclass(frozen=True)
class Recording:
    """One FSDD recording: ``audio`` (S,) float32 in [-1, 1] at 8 kHz."""
    digit: int
    speaker: str
    take: int
    audio: np.ndarray

    def __repr__(self) -> str:
        return (f"Recording(digit={self.digit}, speaker={self.speaker!r}, take={self.take}, "
                f"{len(self.audio) / SAMPLE_RATE:.2f} s)")


@dataclass(frozen=True)
class Utterance:
    """Connected digits: ``audio`` (S,) float32, the spoken ``digits``, the speaker, and
    ``spans`` (start, end) in samples of each digit's recording inside ``audio``."""
    audio: np.ndarray
    digits: tuple[int, ...]
    speaker: str
    spans: tuple[tuple[int, int], ...]

    def __repr__(self) -> str:
        return (f"Utterance(digits={''.join(map(str, self.digits))}, speaker={self.speaker!r}, "
                f"{len(self.audio) / SAMPLE_RATE:.2f} s)")


# --- mu-law -------------------------------------------------------------------------

def mu_law_encode(x: np.ndarray, mu: int = MU) -> np.ndarray:
    """Audio in [-1, 1] -> uint8 codes: y = sign(x) ln(1 + mu|x|) / ln(1 + mu), then 256 levels."""
    x = np.clip(np.asarray(x, dtype=np.float64), -1.0, 1.0)
    y = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    return np.clip(np.round((y + 1) / 2 * mu), 0, mu).astype(np.uint8)


def mu_law_decode(q: np.ndarray, mu: int = MU) -> np.ndarray:
    """uint8 codes -> audio in [-1, 1] (float32), the inverse of ``mu_law_encode``."""
    y = np.asarray(q, dtype=np.float64) / mu * 2 - 1
    return (np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu).astype(np.float32)


# --- the original archive and the shipped asset --------------------------------------

def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _parse_name(name: str) -> tuple[int, str, int]:
    stem = Path(name).stem  # "{digit}_{speaker}_{take}"
    digit, speaker, take = stem.split("_")
    return int(digit), speaker, int(take)


def read_archive(path: str | Path) -> list[Recording]:
    """The 3,000 recordings of the original ``fsdd-recordings.tar.gz`` (checksum verified)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"FSDD archive not found at {path} (expected fsdd-recordings.tar.gz)")
    got = _sha256_file(path)
    if got != SOURCE_SHA256:
        raise ValueError(f"FSDD archive {path} has sha256 {got}, expected {SOURCE_SHA256}")
    recordings = []
    with tarfile.open(path, "r:gz") as tar:
        for member in tar.getmembers():
            if not (member.isfile() and member.name.endswith(".wav")):
                continue
            with wave.open(io.BytesIO(tar.extractfile(member).read())) as w:
                if (w.getframerate(), w.getsampwidth(), w.getnchannels()) != (SAMPLE_RATE, 2, 1):
                    raise ValueError(f"{member.name}: expected 8 kHz 16-bit mono")
                pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
            digit, speaker, take = _parse_name(member.name)
            recordings.append(Recording(digit, speaker, take, (pcm / 32768.0).astype(np.float32)))
    return sorted(recordings, key=lambda r: (r.speaker, r.digit, r.take))


def build_asset(archive: str | Path, dest: str | Path = ASSET_DIR) -> dict:
    """Write ``ASSET_FILE`` (mu-law codes + labels, LZMA zip) and ``MANIFEST.json`` into
    ``dest`` from the original archive; returns the manifest. Run by maintainers only."""
    recordings = read_archive(archive)
    codes = [mu_law_encode(r.audio) for r in recordings]
    arrays = {
        "codes": np.concatenate(codes),                                    # (total samples,)
        "offsets": np.cumsum([0] + [len(c) for c in codes]).astype(np.int64),
        "digit": np.array([r.digit for r in recordings], dtype=np.int8),
        "speaker": np.array([SPEAKERS.index(r.speaker) for r in recordings], dtype=np.int8),
        "take": np.array([r.take for r in recordings], dtype=np.int8),
    }
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    # np.savez_compressed uses deflate (8.3 MB here); LZMA gets 7.0 MB and np.load reads it.
    with atomic_path(dest / ASSET_FILE) as tmp, \
            zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_LZMA) as zf:
        for key, value in arrays.items():
            # a fixed timestamp: the same archive always gives the same bytes
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_LZMA
            with zf.open(info, "w") as handle:
                np.lib.format.write_array(handle, value, allow_pickle=False)
    manifest = {
        "source": "Free Spoken Digit Dataset (Jakobovski/free-spoken-digit-dataset)",
        "source_commit": SOURCE_COMMIT,
        "source_sha256": SOURCE_SHA256,
        "licence": "CC BY-SA 4.0",
        "encoding": f"8-bit mu-law (mu={MU}) at {SAMPLE_RATE} Hz, one stream, offsets per recording",
        "recordings": len(recordings),
        "files": {ASSET_FILE: {"sha256": _sha256_file(dest / ASSET_FILE),
                               "bytes": (dest / ASSET_FILE).stat().st_size}},
    }
    (dest / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def asset_sha256(path: str | Path | None = None) -> str:
    """sha256 of the shipped asset (the data checksum in the speech models' records)."""
    return _sha256_file(Path(path) if path else ASSET_DIR / ASSET_FILE)


def load_recordings(path: str | Path | None = None) -> list[Recording]:
    """All 3,000 recordings from the shipped asset (or the asset at ``path``), checked
    against the sha256 in the ``MANIFEST.json`` next to it. Sorted by speaker, digit, take."""
    path = Path(path) if path else ASSET_DIR / ASSET_FILE
    manifest_path = path.parent / "MANIFEST.json"
    if not path.is_file():
        raise FileNotFoundError(f"FSDD asset not found at {path}; rebuild it with "
                                f"rnncourse.data.fsdd.build_asset('fsdd-recordings.tar.gz')")
    if not manifest_path.is_file():
        raise FileNotFoundError(f"FSDD manifest not found at {manifest_path}")
    expected = json.loads(manifest_path.read_text())["files"][path.name]["sha256"]
    got = _sha256_file(path)
    if got != expected:
        raise ValueError(f"FSDD asset {path} is damaged: sha256 {got}, expected {expected} "
                         f"(from {manifest_path.name})")
    with np.load(path, allow_pickle=False) as data:
        codes, offsets = data["codes"], data["offsets"]
        digit, speaker, take = data["digit"], data["speaker"], data["take"]
    audio = mu_law_decode(codes)
    return [Recording(int(digit[i]), SPEAKERS[speaker[i]], int(take[i]),
                      audio[offsets[i]:offsets[i + 1]])
            for i in range(len(digit))]


# --- splits ---------------------------------------------------------------------------

def official_split(recordings: list[Recording]) -> tuple[list[Recording], list[Recording]]:
    """(train, test): takes 5-49 and takes 0-4 of every speaker (FSDD's official split)."""
    test = [r for r in recordings if r.take in TEST_TAKES]
    train = [r for r in recordings if r.take not in TEST_TAKES]
    return train, test


def hold_out_speaker(recordings: list[Recording], speaker: str
                     ) -> tuple[list[Recording], list[Recording]]:
    """(others, held): every recording of the other speakers, and all of ``speaker``'s."""
    if speaker not in SPEAKERS:
        raise ValueError(f"unknown speaker {speaker!r}; FSDD has {list(SPEAKERS)}")
    return ([r for r in recordings if r.speaker != speaker],
            [r for r in recordings if r.speaker == speaker])


# --- connected digits -------------------------------------------------------------------

def make_connected(recordings: list[Recording], n: int, seed: int, min_digits: int = 1,
                   max_digits: int = 7, pause_s: tuple[float, float] = (0.05, 0.3),
                   edge_s: tuple[float, float] = (0.0, 0.2),
                   snr_db: tuple[float, float] = (20.0, 40.0),
                   gain_db: tuple[float, float] = (0.0, 0.0)) -> list[Utterance]:
    """``n`` utterances, each 1-7 (``min_digits``..``max_digits``) recordings of one
    speaker joined with pauses drawn from ``pause_s`` seconds (and ``edge_s`` of silence
    before and after), white noise at an SNR drawn from ``snr_db`` (relative to the mean
    power of the speech), the whole scaled by a gain drawn from ``gain_db``.

    Digits are drawn uniformly; each one from a random recording of that speaker and
    digit in ``recordings``, so a test set built from test takes contains test takes only.
    """
    if not 1 <= min_digits <= max_digits:
        raise ValueError(f"need 1 <= min_digits <= max_digits, got {min_digits}, {max_digits}")
    pool: dict[str, dict[int, list[Recording]]] = {}
    for r in recordings:
        pool.setdefault(r.speaker, {}).setdefault(r.digit, []).append(r)
    speakers = sorted(s for s, by_digit in pool.items() if len(by_digit) == 10)
    if not speakers:
        raise ValueError("make_connected needs a speaker with recordings of all ten digits")
    rng = np.random.default_rng(seed)
    utterances = []
    for _ in range(n):
        speaker = speakers[rng.integers(len(speakers))]
        digits = tuple(int(d) for d in rng.integers(0, 10, size=rng.integers(min_digits, max_digits + 1)))
        pieces, spans, pos = [], [], 0
        gaps = [rng.uniform(*edge_s)] + [rng.uniform(*pause_s) for _ in digits[1:]] + [rng.uniform(*edge_s)]
        for i, d in enumerate(digits):
            options = pool[speaker][d]
            audio = options[rng.integers(len(options))].audio
            gap = np.zeros(int(gaps[i] * SAMPLE_RATE), dtype=np.float32)
            pieces += [gap, audio]
            spans.append((pos + len(gap), pos + len(gap) + len(audio)))
            pos += len(gap) + len(audio)
        pieces.append(np.zeros(int(gaps[-1] * SAMPLE_RATE), dtype=np.float32))
        audio = np.concatenate(pieces)
        speech = np.concatenate([audio[a:b] for a, b in spans])
        noise_power = np.mean(speech.astype(np.float64) ** 2) / 10 ** (rng.uniform(*snr_db) / 10)
        audio = audio + rng.normal(0.0, np.sqrt(noise_power), size=len(audio))
        audio = audio * 10 ** (rng.uniform(*gain_db) / 20)
        utterances.append(Utterance(np.clip(audio, -1, 1).astype(np.float32), digits, speaker,
                                    tuple(spans)))
    return utterances
