"""Wake word: a Korean phrase heard on the live stream, offline, with the packaged Vosk model.

No Korean wake-word model ships in a package, so the phrase is found by the speech model itself in
a tiny grammar: the phrase (spelled in words the model knows: 원팀아 → 원 팀 아) competes with a
"garbage" loop of single Hangul syllables (lang/<language>/wake.yaml says which). Stages:

0. (first_stage: keyword; wake.yaml picks the default, vosk for now: it lost more real phrases) a
   small keyword network trained here for the phrase from eSpeak NG voices (keyword/) scores the
   last ~1 s of sound every 100 ms (an energy floor skips silence; no voice-activity network
   runs); only a stretch it flags is decoded by stage 1, so Vosk no longer runs on all speech.
1. A decoder whose garbage is small (open syllables only): eager, so a real phrase is rarely lost;
   a phrase it reads is only a candidate. Without the keyword network (first_stage: vosk) Silero
   VAD gates it and it runs on every speech frame.
2. The candidate's own stretch of audio (kept, with a little either side) is re-read by a stricter
   grammar (syllables ending in ㄱ too): only when the phrase wins there as well, at a higher
   confidence, does the stream wake. This runs per candidate, not per frame.

The decoder's own endpoint, the end of voice activity, or a partial reading that already holds the
phrase closes a segment; the audio after the phrase is kept so a command said in the same breath
reaches the command recogniser.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from dataclasses import replace
from typing import Any

import numpy as np

from oneteam.voice.audio import SAMPLE_RATE, SAMPLE_WIDTH
from oneteam.voice.keyword.features import HOP, MelStream
from oneteam.voice.keyword.spotter import STEP_FRAMES
from oneteam.voice.vad import SpeechDetector, VadSettings
from oneteam.voice.wake_model import VERIFY_TAIL, Detection, WakeModel

_LOGGER = logging.getLogger(__name__)

WAKE_PHRASE_ENV = "ONETEAM_WAKE_PHRASE"
"""Comma-separated wake phrases a household chose (the language's default otherwise)."""

_WINDOW_BYTES = 512 * SAMPLE_WIDTH
_BYTES_PER_S = SAMPLE_RATE * SAMPLE_WIDTH
_KEEP_S = 12.0
"""Recent audio kept, so the speech after a detected phrase can be handed on."""
_DECODE_BYTES = round(0.25 * _BYTES_PER_S)
"""Speech is decoded in quarter-second batches: a partial reading per VAD window (32 ms) cost more
than the decoding itself."""
_VERIFY_LEAD_S = 0.3
_VERIFY_LAG_S = 0.3
"""Stage 2 re-reads the candidate phrase with this much audio either side of it."""
_SPOT_LEAD_S = 0.2
"""Stage 1 reads a flagged window from this long before it (the phrase may start at its edge)."""
_SPOT_LAG_S = 0.2
"""... to this long after the last flagged window (the phrase may end at its edge)."""
_SPOT_MAX_S = 4.0
"""A run of flagged windows is decoded at least this often (a long flagged stretch is cut)."""
_CAPPED_STRIDE = 4
"""Past `onset_s` only the stretch's end matters: the VAD scores one window in 4 (128 ms; the end
is 0.3 s of non-speech). Scoring one in 2 from the start lost 3 of 35 varied real phrases."""
_QUIET_BYTES = round(0.5 * _BYTES_PER_S)
"""This long below the energy floor ends a stretch of sound (keyword first stage)."""

WAKE_VAD = VadSettings(
    threshold=0.5,
    trailing_silence_s=0.3,
    min_speech_s=0.1,
    pre_roll_s=0.6,
    max_utterance_s=6.0,
    energy_floor_dbfs=-60.0,
)
"""A wake phrase is short: segments end after a brief pause, a long stretch (a TV) is cut, and a
quiet room does not even run the voice-activity network. The VAD calls a plosive onset (코뿔소's 코)
speech late: 0.6 s of pre-roll gives the decoder the phrase's start (0.3 s lost a real 코뿔소)."""


class WakeDetector:
    """One live stream: feed 16 kHz 16-bit mono PCM, get detections (blocking: call from a thread)."""

    def __init__(self, wake: WakeModel, vad: VadSettings = WAKE_VAD) -> None:
        self.wake = wake
        self._vad = SpeechDetector(vad)
        self._kaldi: Any = wake.recognizer()
        self._open = False
        """A segment of speech is being decoded."""
        self._fed = 0
        """Bytes handed to the decoder since it was made (its word times count these)."""
        self._runs: deque[tuple[int, int]] = deque(maxlen=64)
        """(decoder byte offset, stream byte offset) where each segment of speech began: the decoder
        sees only speech, so its times are mapped back to stream time through these."""
        self._position = 0
        """Stream bytes seen so far."""
        self._pending = b""
        self._queued = b""
        """Speech not yet handed to the decoder (it is fed in batches, not per VAD window)."""
        self._recent: deque[bytes] = deque(maxlen=round(_KEEP_S * _BYTES_PER_S / _WINDOW_BYTES))
        onset = wake.settings.onset_s
        self._onset_bytes = round(onset * _BYTES_PER_S) if onset else None
        """Bytes of a stretch of speech stage 1 reads (None: all)."""
        self._segment_bytes = 0
        """Bytes of the open stretch handed to the decoder."""
        self._capped = False
        """The open stretch has been read as far as `onset_s`: the rest only waits for its end."""
        self.decoded_s = 0.0
        """Seconds of audio the stage 1 recogniser decoded (the rest was gated out by voice activity)."""
        self.candidates = 0
        """Stage 1 detections handed to stage 2."""
        self.flagged = 0
        """Windows the keyword network handed to stage 1."""
        self._mel = MelStream()
        self._frames: list[Any] = []
        """Log-mel frames of the open segment (keyword first stage)."""
        self._unscored = 0
        self._flag_from = -1
        """Stream byte offset from which flagged audio waits for stage 1 (-1: none waits)."""
        self._flag_until = 0
        """Stream byte offset until which flagged audio is read."""
        self._read_until = 0
        floor_db = vad.energy_floor_dbfs if vad.energy_floor_dbfs is not None else -60.0
        self._floor = 10 ** (floor_db / 10)
        """Mean square below which a window is silence (keyword first stage)."""
        self._quiet = 0
        """Bytes of silence in a row."""
        self._flag_peak = 0.0
        """Highest keyword score of the stretch waiting for stage 1."""
        """Stream byte offset up to which stage 1 has read (a phrase is not read, and woken on, twice)."""

    @property
    def position_s(self) -> float:
        """Seconds of audio fed so far."""
        return self._position / _BYTES_PER_S

    def feed(self, pcm: bytes) -> list[Detection]:
        """Feed audio; the phrases detected in it."""
        data = self._pending + pcm
        whole = len(data) // _WINDOW_BYTES * _WINDOW_BYTES
        self._pending = data[whole:]
        found: list[Detection] = []
        for start in range(0, whole, _WINDOW_BYTES):
            detection = self._window(data[start : start + _WINDOW_BYTES])
            if detection is not None:
                found.append(detection)
        return found

    def finish(self) -> list[Detection]:
        """The stream has ended: decide on the open segment."""
        if not self._open or self._capped:
            self._open = self._capped = False
            return []
        detection = self._end_segment() if self.wake.spotters else self._flush(final=True)
        self._open = False
        return [detection] if detection is not None else []

    def audio_after(self, stream_s: float) -> bytes:
        """The kept audio from stream time `stream_s` on (what followed a detected phrase)."""
        kept = b"".join(self._recent)
        begin = self._position - len(kept)
        offset = max(0, round(stream_s * SAMPLE_RATE) * SAMPLE_WIDTH - begin)
        return kept[offset:]

    def reset(self) -> None:
        """Drop the open segment (after a detection, while a command is being heard)."""
        if self._open:
            self._kaldi = self.wake.recognizer()
            self._fed = 0
            self._runs.clear()
        self._open = False
        self._capped = False
        self._queued = b""
        self._vad.reset()
        self._frames = []
        self._flag_from = -1

    def _window(self, window: bytes) -> Detection | None:
        self._recent.append(window)
        self._position += len(window)
        if self.wake.spotters:
            return self._spot(window)
        events = self._vad.process(window)
        if not self._open:
            if not self._vad.in_speech:
                return None
            # Speech began: the first event carries the pre-roll, which starts before this window.
            audio = b"".join(e.audio for e in events)
            self._open = True
            self._runs.append((self._fed, self._position - len(audio)))
            self._queued = audio
            self._segment_bytes = 0
            return None
        return self._in_speech(b"".join(e.audio for e in events))

    def _in_speech(self, audio: bytes) -> Detection | None:
        """A window of an open stretch of speech (stage 1 on all speech)."""
        if self._capped:
            if self._vad.ended:
                self._open = self._capped = False
                self._vad.reset()
            return None
        self._queued += audio
        if self._vad.ended:
            detection = self._flush(final=True)
            self._open = False
            self._vad.reset()
            return detection
        if self._onset_bytes is not None and self._segment_bytes + len(self._queued) >= self._onset_bytes:
            # Past where a phrase that opened this stretch would have ended: decide, then skip.
            self._capped = True
            self._vad.stride = _CAPPED_STRIDE
            return self._flush(final=True)
        if len(self._queued) >= _DECODE_BYTES:
            return self._flush(final=False)
        return None

    def _flush(self, *, final: bool) -> Detection | None:
        """Hand the queued speech to the stage 1 decoder; a confirmed detection, if any."""
        audio, self._queued = self._queued, b""
        self.decoded_s += len(audio) / _BYTES_PER_S
        self._fed += len(audio)
        self._segment_bytes += len(audio)
        if final:
            if audio:
                self._kaldi.AcceptWaveform(audio)
            return self._candidate(json.loads(self._kaldi.FinalResult()))
        if audio and self._kaldi.AcceptWaveform(audio):
            return self._candidate(json.loads(self._kaldi.Result()))
        partial = str(json.loads(self._kaldi.PartialResult()).get("partial", ""))
        if self.wake.in_partial(partial):
            # The phrase is in the partial reading: close now for its confidence and timing.
            return self._candidate(json.loads(self._kaldi.FinalResult()))
        return None

    def _stream_s(self, decoder_s: float) -> float:
        """Stream time of a decoder time."""
        at = round(decoder_s * SAMPLE_RATE) * SAMPLE_WIDTH
        fed, stream = next(((f, s) for f, s in reversed(self._runs) if f <= at), (0, 0))
        return (stream + at - fed) / _BYTES_PER_S

    def _candidate(self, result: dict[str, Any]) -> Detection | None:
        """Stage 1's reading of a closed segment; a phrase in it is re-read by stage 2."""
        heard = self.wake.find(result.get("result", []), 0.0)
        if heard is None:
            return None
        self.candidates += 1
        found = replace(heard, start_s=self._stream_s(heard.start_s), end_s=self._stream_s(heard.end_s))
        begin_s = max(0.0, found.start_s - _VERIFY_LEAD_S)
        window = self._kept_between(begin_s, found.end_s + _VERIFY_LAG_S)
        confirmed = self.wake.verify(window, begin_s)
        _LOGGER.debug("wake: candidate %s (%.2f) %s", found.name, found.confidence, confirmed)
        return confirmed

    def _spot(self, window: bytes) -> Detection | None:
        """Keyword first stage: score the sound's windows; decode flagged stretches with stage 1.

        No voice-activity network runs here: the keyword network is the gate (Silero through ggml
        cost more CPU than the network and the Vosk reads together); a quiet room only costs an
        energy check."""
        samples = np.frombuffer(window, dtype="<i2").astype(np.float32) / 32768.0
        if float(np.mean(samples * samples)) >= self._floor:
            self._quiet = 0
        else:
            self._quiet += len(window)
        if not self._open:
            if self._quiet:
                return self._read_due()
            self._open = True
            self._mel.reset()
            self._frames = []
            self._unscored = 0
        frames = self._mel.feed(samples)
        self._frames.extend(frames)
        self._unscored += len(frames)
        longest = max(s.window_frames for s in self.wake.spotters)
        del self._frames[: max(0, len(self._frames) - longest)]
        if self._unscored >= STEP_FRAMES:
            self._unscored = 0
            self._score()
        if self._quiet >= _QUIET_BYTES:
            detection = self._end_segment()
            self._open = False
            return detection
        return self._read_due()

    def _read_due(self) -> Detection | None:
        """Read the flagged stretch once its lag has passed (or it grew too long)."""
        if self._flag_from >= 0 and (
            self._position >= self._flag_until
            or self._position - self._flag_from >= _SPOT_MAX_S * _BYTES_PER_S
        ):
            return self._read_flagged()
        return None

    def _score(self) -> None:
        """Score the latest window of each phrase; a flag asks stage 1 to read around it."""
        have = len(self._frames)
        for spotter in self.wake.spotters:
            if have < min(spotter.window_frames, 40):
                continue
            frames = np.stack(self._frames[-spotter.window_frames :])
            if have < spotter.window_frames:
                pad = np.repeat(frames.min(axis=0, keepdims=True), spotter.window_frames - have, axis=0)
                frames = np.concatenate([pad, frames])
            score = spotter.score_window(frames)
            if score < self.wake.settings.keyword_threshold:
                continue
            self.flagged += 1
            self._flag_peak = max(self._flag_peak, score)
            lead = round((spotter.window_frames * HOP / SAMPLE_RATE + _SPOT_LEAD_S) * SAMPLE_RATE)
            # Not clipped to where the sound began: the decoder needs the quiet before a phrase's
            # first plosive (read from the onset, 코뿔소 was lost).
            begin = max(self._read_until, self._position - lead * SAMPLE_WIDTH)
            if self._flag_from < 0:
                self._flag_from = begin
            self._flag_until = self._position + round(_SPOT_LAG_S * _BYTES_PER_S)

    def _end_segment(self) -> Detection | None:
        """The segment ended: its last window is scored and any flagged stretch read."""
        if self._unscored:
            self._unscored = 0
            self._score()
        self._frames = []
        return self._read_flagged() if self._flag_from >= 0 else None

    def _read_flagged(self) -> Detection | None:
        """Stage 1 over the flagged stretch of kept audio, then stage 2 on a phrase it reads."""
        begin, self._flag_from = self._flag_from, -1
        peak, self._flag_peak = self._flag_peak, 0.0
        self._read_until = self._position
        begin_s = begin / _BYTES_PER_S
        audio = self._kept_between(begin_s, self.position_s)
        self.decoded_s += len(audio) / _BYTES_PER_S
        # The stream's stage 1 recogniser is reused (FinalResult readies it for the next stretch):
        # making one compiles the grammar, which cost as much as decoding a short stretch.
        # Its word times count all audio it was ever fed: shift them back to this stretch.
        fed_s, self._fed = self._fed / _BYTES_PER_S, self._fed + len(audio) + len(VERIFY_TAIL)
        self._kaldi.AcceptWaveform(audio + VERIFY_TAIL)
        heard = self.wake.find(json.loads(self._kaldi.FinalResult()).get("result", []), begin_s - fed_s)
        if heard is None:
            return None
        self.candidates += 1
        verify_from = max(0.0, heard.start_s - _VERIFY_LEAD_S)
        window = self._kept_between(verify_from, heard.end_s + _VERIFY_LAG_S)
        confirmed = self.wake.verify(window, verify_from)
        _LOGGER.debug(
            "wake: candidate %s (%.2f, keyword %.2f) %s", heard.name, heard.confidence, peak, confirmed
        )
        if confirmed is None and self.wake.agree(heard, peak):
            return heard
        return confirmed

    def _kept_between(self, begin_s: float, end_s: float) -> bytes:
        kept = b"".join(self._recent)
        first = self._position - len(kept)
        lo = max(0, round(begin_s * SAMPLE_RATE) * SAMPLE_WIDTH - first)
        hi = max(lo, round(end_s * SAMPLE_RATE) * SAMPLE_WIDTH - first)
        return kept[lo:hi]
