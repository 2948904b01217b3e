"""The voice commands, registered on a Typer app the way the lead's CLI registers them."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from oneteam.voice import cli

app = typer.Typer()
app.command()(cli.transcribe)
app.command()(cli.speak)
app.command()(cli.listen)
runner = CliRunner()


def test_speak_writes_a_korean_wav(tmp_path: Path) -> None:
    out = tmp_path / "reply.wav"
    result = runner.invoke(app, ["speak", "거실 온도는 24도예요.", "-o", str(out)])
    assert result.exit_code == 0, result.output
    with wave.open(str(out)) as wav:
        assert wav.getframerate() == 22_050
        assert wav.getnframes() / wav.getframerate() > 1.0


def test_transcribe_a_truncated_wav_exits_2_with_a_message(tmp_path: Path) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    result = runner.invoke(app, ["transcribe", str(broken)])
    assert result.exit_code == 2
    assert "소리를 읽을 수 없어요" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_transcribe_prints_the_korean_text(speech_dir: Path) -> None:
    result = runner.invoke(app, ["transcribe", str(speech_dir / "pv_leopard_test_ko.wav"), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["mode"] == "free"
    assert "걸어갔" in body["text"]


@pytest.mark.slow
def test_listen_to_silence_says_nothing_was_heard(tmp_path: Path) -> None:
    silence = tmp_path / "silence.wav"
    with wave.open(str(silence), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16_000)
        wav.writeframes(bytes(64_000))
    result = runner.invoke(app, ["listen", "--file", str(silence)])
    assert result.exit_code == 1
    assert "말소리가 들리지 않았어요" in result.output
