"""eSpeak NG through ctypes: the library and its voice data from the `espeakng-loader` wheel, or
the system's libespeak-ng when the wheel is absent.

eSpeak NG keeps global state (one voice, one callback per process), so every call goes through
one lock; synthesis is synchronous and hands audio to a callback in ~50 ms buffers, which is what
lets the first audio out before the sentence is finished.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from oneteam.model import OneteamError

_LOGGER = logging.getLogger(__name__)

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE = 1
_PITCH = 3
_DEFAULT_PITCH = 50
_PHONEMES_IPA = 0x02
_PHONEME_INPUT = 0x100
"""espeakPHONEMES: phoneme mnemonics inside [[ ]] in the text are spoken as given."""
_BUFFER_MS = 50

_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class SpeechEngineUnavailable(OneteamError):
    """A speech engine or voice cannot be loaded."""

    key = "error.voice.tts_missing"

    def __init__(self, detail: str) -> None:
        super().__init__(f"speech synthesis unavailable: {detail}", detail=detail)


def _locate() -> tuple[str, str | None]:
    """The library path and its data folder (None: the library's compiled-in default)."""
    try:
        import espeakng_loader

        return str(espeakng_loader.get_library_path()), str(espeakng_loader.get_data_path())
    except (ImportError, RuntimeError):
        found = ctypes.util.find_library("espeak-ng")
        if found is None:
            raise SpeechEngineUnavailable("neither espeakng-loader nor libespeak-ng is installed") from None
        return found, None


class Espeak:
    """The process's eSpeak NG library (see `espeak()`)."""

    def __init__(self) -> None:
        library, data = _locate()
        self._lib = ctypes.CDLL(library)
        self._lib.espeak_Initialize.restype = ctypes.c_int
        self._lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self._lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self._lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        self._lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        self._lib.espeak_TextToPhonemes.argtypes = [
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_int,
            ctypes.c_int,
        ]
        self.sample_rate = int(
            self._lib.espeak_Initialize(
                _AUDIO_OUTPUT_SYNCHRONOUS,
                _BUFFER_MS,
                data.encode() if data else None,
                _INITIALIZE_DONT_EXIT,
            )
        )
        if self.sample_rate <= 0:
            raise SpeechEngineUnavailable(f"eSpeak NG did not start (data: {data})")
        self._lock = threading.Lock()
        self._sink: Callable[[bytes], bool] | None = None
        # Keep the C callback alive as long as the library may call it.
        self._callback = _CALLBACK(self._on_audio)
        self._lib.espeak_SetSynthCallback(self._callback)
        self._voice = ""
        _LOGGER.info("eSpeak NG loaded from %s (%d Hz)", Path(library).name, self.sample_rate)

    def _on_audio(self, wav: ctypes._Pointer[ctypes.c_short], count: int, _events: int | None) -> int:
        if self._sink is None or not wav or count <= 0:
            return 0
        keep_going = self._sink(ctypes.string_at(wav, count * 2))
        return 0 if keep_going else 1

    def _set_voice(self, voice: str, rate_wpm: int) -> None:
        if voice != self._voice:
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise SpeechEngineUnavailable(f"eSpeak NG has no voice {voice!r}")
            self._voice = voice
        self._lib.espeak_SetParameter(_RATE, rate_wpm, 0)

    def synthesize(
        self,
        text: str,
        voice: str,
        rate_wpm: int,
        sink: Callable[[bytes], bool],
        *,
        pitch: int | None = None,
        phonemes: bool = False,
    ) -> None:
        """Speak `text`, handing each 16-bit mono buffer to `sink` (which returns False to stop);
        `pitch` (0-100) for this call only (the wake-word trainer varies it); `phonemes`: spans
        in `[[...]]` are eSpeak phoneme mnemonics."""
        flags = _CHARS_UTF8 | (_PHONEME_INPUT if phonemes else 0)
        encoded = text.encode("utf-8") + b"\0"
        with self._lock:
            self._set_voice(voice, rate_wpm)
            if pitch is not None:
                self._lib.espeak_SetParameter(_PITCH, pitch, 0)
            self._sink = sink
            try:
                status = self._lib.espeak_Synth(
                    encoded, len(encoded), 0, _POS_CHARACTER, 0, flags, None, None
                )
            finally:
                self._sink = None
                if pitch is not None:
                    self._lib.espeak_SetParameter(_PITCH, _DEFAULT_PITCH, 0)
        if status != 0:
            raise SpeechEngineUnavailable(f"eSpeak NG could not speak (status {status})")

    def phonemes(self, text: str, voice: str) -> str:
        """IPA phonemes of `text`, clause by clause (used by Piper voices)."""
        with self._lock:
            self._set_voice(voice, 175)
            buffer = ctypes.c_char_p(text.encode("utf-8"))
            pointer = ctypes.pointer(buffer)
            clauses: list[str] = []
            while pointer.contents.value:
                result = self._lib.espeak_TextToPhonemes(pointer, _CHARS_UTF8, _PHONEMES_IPA)
                if result:
                    clauses.append(result.decode("utf-8"))
            return " ".join(clauses)


_INSTANCE: Espeak | None = None
_INSTANCE_LOCK = threading.Lock()


def espeak() -> Espeak:
    """The process's one eSpeak NG."""
    global _INSTANCE  # noqa: PLW0603  # one C library, one instance
    with _INSTANCE_LOCK:
        if _INSTANCE is None:
            _INSTANCE = Espeak()
        return _INSTANCE
