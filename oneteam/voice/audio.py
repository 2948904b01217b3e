"""Audio in: WAV files and raw PCM, checked and converted to what the recogniser hears.

Every stage after this one speaks one format: 16 kHz, 16-bit, mono, little-endian PCM. Audio in
another rate, width or channel count is converted here rather than rejected; audio that cannot be
read (a truncated header, an odd byte count, a compressed WAV) is refused with `AudioError`.
"""

from __future__ import annotations

import io
import logging
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from oneteam.model import OneteamError

_LOGGER = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
"""The recogniser's and the voice-activity detector's rate."""
SAMPLE_WIDTH = 2
CHANNELS = 1
_MAX_RATE = 192_000
_MIN_RATE = 4_000


class AudioError(OneteamError):
    """Audio that cannot be read or used; `detail` says why."""

    key = "error.voice.audio"

    def __init__(self, detail: str) -> None:
        super().__init__(f"unusable audio: {detail}", detail=detail)
        self.detail = detail


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioFormat:
    """How raw PCM bytes are laid out."""

    rate: int = SAMPLE_RATE
    """Samples per second per channel."""
    width: int = SAMPLE_WIDTH
    """Bytes per sample: 1 (unsigned 8-bit), 2 (16-bit) or 4 (32-bit), all little-endian integers."""
    channels: int = CHANNELS

    def check(self) -> None:
        """Raise AudioError unless this is a layout we can convert."""
        if self.width not in {1, 2, 4}:
            raise AudioError(f"sample width {self.width} bytes (1, 2 or 4 expected)")
        if not 1 <= self.channels <= 8:
            raise AudioError(f"{self.channels} channels (1 to 8 expected)")
        if not _MIN_RATE <= self.rate <= _MAX_RATE:
            raise AudioError(f"sample rate {self.rate} Hz ({_MIN_RATE} to {_MAX_RATE} expected)")

    @property
    def frame_bytes(self) -> int:
        """Bytes of one sample across all channels."""
        return self.width * self.channels


RECOGNISER_FORMAT = AudioFormat()


@dataclass(frozen=True, slots=True, kw_only=True)
class Pcm:
    """16 kHz 16-bit mono PCM, ready for the recogniser."""

    data: bytes

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return len(self.data) / (SAMPLE_RATE * SAMPLE_WIDTH)


def read_wav(source: str | Path | bytes) -> Pcm:
    """A WAV file (path or bytes) as recogniser PCM; AudioError when it cannot be read."""
    if isinstance(source, bytes):
        raw = source
    else:
        try:
            raw = Path(source).read_bytes()
        except OSError as exc:
            raise AudioError(f"cannot read {source}: {exc.strerror}") from exc
    try:
        with wave.open(io.BytesIO(raw), "rb") as wav:
            fmt = AudioFormat(rate=wav.getframerate(), width=wav.getsampwidth(), channels=wav.getnchannels())
            frame_count = wav.getnframes()
            frames = wav.readframes(frame_count)
    except (wave.Error, EOFError) as exc:
        raise AudioError(f"not a PCM WAV file ({exc})") from exc
    if not frames:
        raise AudioError("the WAV file holds no audio")
    return Pcm(data=convert(frames, fmt))


def write_wav(path: str | Path, pcm: bytes, rate: int, width: int = 2, channels: int = 1) -> None:
    """Write PCM as a WAV file."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(pcm)


def wav_bytes(pcm: bytes, rate: int) -> bytes:
    """16-bit mono PCM wrapped in a WAV header."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return buffer.getvalue()


def convert(data: bytes, fmt: AudioFormat) -> bytes:
    """PCM in `fmt` as 16 kHz 16-bit mono; AudioError when the bytes do not fit the format."""
    fmt.check()
    if len(data) % fmt.frame_bytes:
        raise AudioError(
            f"{len(data)} bytes is not a whole number of {fmt.width}-byte × {fmt.channels}-channel frames"
        )
    if fmt == RECOGNISER_FORMAT:
        return data
    samples = _to_float(data, fmt.width).reshape(-1, fmt.channels).mean(axis=1)
    if fmt.rate != SAMPLE_RATE:
        samples = resample(samples, fmt.rate, SAMPLE_RATE)
    return to_int16(samples)


def _to_float(data: bytes, width: int) -> npt.NDArray[np.float64]:
    """Samples scaled to [-1, 1]."""
    if width == 1:
        # 8-bit WAV is unsigned, centred on 128.
        return (np.frombuffer(data, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    if width == 2:
        return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0
    return np.frombuffer(data, dtype="<i4").astype(np.float64) / 2147483648.0


def to_int16(samples: npt.NDArray[np.float64]) -> bytes:
    """Float samples in [-1, 1] as 16-bit little-endian PCM."""
    return bytes((np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes())


def resample(samples: npt.NDArray[np.float64], rate_in: int, rate_out: int) -> npt.NDArray[np.float64]:
    """Band-limited resampling: a windowed-sinc low-pass below the lower Nyquist, then interpolation."""
    if rate_in == rate_out or samples.size == 0:
        return samples
    if rate_out < rate_in:
        # Without the low-pass, energy above 8 kHz folds back into the speech band as noise.
        cutoff = 0.45 * rate_out / rate_in
        taps = np.arange(-32, 33, dtype=np.float64)
        kernel = 2 * cutoff * np.sinc(2 * cutoff * taps) * np.hamming(taps.size)
        samples = np.convolve(samples, kernel / kernel.sum(), mode="same")
    count_out = round(samples.size * rate_out / rate_in)
    positions = np.arange(count_out, dtype=np.float64) * (rate_in / rate_out)
    return np.asarray(np.interp(positions, np.arange(samples.size, dtype=np.float64), samples))


def rms_dbfs(pcm: bytes) -> float:
    """Loudness of 16-bit PCM in dB below full scale (silence is -120)."""
    if len(pcm) < 2:
        return -120.0
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64) / 32768.0
    power = float(np.mean(samples * samples))
    return -120.0 if power <= 1e-12 else 10.0 * float(np.log10(power))
