"""Command mode over a model folder with a narrower search: same files, same readings, same fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from oneteam.voice.asr import KoreanRecognizer, Mode, VoskModel, model_dir, shared_model
from oneteam.voice.audio import read_wav
from oneteam.voice.command_model import COMMAND_SEARCH, command_model_dir
from oneteam.voice.grammar import Grammar


def _options(conf: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in conf.read_text(encoding="utf-8").split())


def test_the_folder_links_the_model_and_overrides_only_the_search(tmp_path: Path) -> None:
    base = model_dir()
    folder = command_model_dir(base, {"--max-active": "700", "--beam": "9.5"}, cache=tmp_path)
    assert (folder / "am").is_symlink()
    assert (folder / "am").resolve() == (base / "am").resolve()
    assert (folder / "conf" / "mfcc.conf").is_symlink()
    ours, theirs = _options(folder / "conf" / "model.conf"), _options(base / "conf" / "model.conf")
    assert ours["--max-active"] == "700"
    assert ours["--beam"] == "9.5"
    assert theirs["--max-active"] != "700"
    assert {k: v for k, v in ours.items() if k not in ("--max-active", "--beam")} == {
        k: v for k, v in theirs.items() if k not in ("--max-active", "--beam")
    }
    # Made once: the same settings find the same folder, other settings another one.
    assert command_model_dir(base, {"--max-active": "700", "--beam": "9.5"}, cache=tmp_path) == folder
    assert command_model_dir(base, {"--max-active": "800"}, cache=tmp_path) != folder
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.fixture(scope="module")
def narrow_recognizer(
    vosk_model: VoskModel, grammar: Grammar, tmp_path_factory: pytest.TempPathFactory
) -> KoreanRecognizer:
    folder = command_model_dir(model_dir(), cache=tmp_path_factory.mktemp("vosk-cache"))
    assert _options(folder / "conf" / "model.conf")["--max-active"] == COMMAND_SEARCH["--max-active"]
    return KoreanRecognizer(vosk_model, grammar, command_model=shared_model(folder))


@pytest.mark.slow
def test_the_narrow_search_reads_the_real_command_as_the_packaged_settings_do(
    narrow_recognizer: KoreanRecognizer, recognizer: KoreanRecognizer, speech_dir: Path
) -> None:
    pcm = read_wav(speech_dir / "pv_rhino_test_within_context_ko.wav").data
    narrow, default = narrow_recognizer.transcribe(pcm), recognizer.transcribe(pcm)
    assert narrow.mode is Mode.BIASED
    assert not narrow.fell_back
    assert narrow.text == default.text
    assert "파란색" in narrow.text


@pytest.mark.slow
def test_the_narrow_search_still_sends_speech_outside_the_grammar_to_free_form(
    narrow_recognizer: KoreanRecognizer, speech_dir: Path
) -> None:
    pcm = read_wav(speech_dir / "pv_rhino_test_out_of_context_ko.wav").data
    for _ in range(4):
        result = narrow_recognizer.transcribe(pcm)
        assert result.fell_back, result.biased_text
        assert result.mode is Mode.FREE
    news = narrow_recognizer.transcribe(read_wav(speech_dir / "zeroth_104_003_0019.wav").data)
    assert news.fell_back
    # Free-form runs on the packaged model, whose settings it keeps.
    assert "홍익대" in news.text
    assert narrow_recognizer.model is shared_model()
