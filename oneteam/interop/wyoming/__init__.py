"""A Wyoming server so Home Assistant can use oneteam as its Korean voice (ASR, TTS, intent handling)."""

from oneteam.interop.wyoming.server import VoiceHandler, WyomingVoice, describe

__all__ = ["VoiceHandler", "WyomingVoice", "describe"]
