"""Speech out: eSpeak NG's Korean voice behind the normaliser, and a Piper-style ONNX voice."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from oneteam.voice.espeak import SpeechEngineUnavailable, espeak
from oneteam.voice.tts import EspeakEngine, Speaker, load_engine


def test_espeak_speaks_korean_with_numbers_read_aloud() -> None:
    audio = Speaker().speak("거실 에어컨을 24도로 맞췄어요.")
    assert audio.spoken_text == "거실 에어컨을 이십사 도로 맞췄어요."
    assert audio.sample_rate == 22_050
    assert 1.0 < audio.duration_s < 6.0
    samples = np.frombuffer(audio.pcm, dtype="<i2")
    assert np.abs(samples).max() > 1000


def test_speech_streams_in_several_buffers() -> None:
    buffers: list[bytes] = []
    Speaker().stream("세탁이 끝났어요. 건조기로 옮겨 주세요.", lambda pcm: buffers.append(pcm) or True)
    assert len(buffers) > 3


def test_korean_phonemes_come_from_the_korean_voice() -> None:
    phonemes = espeak().phonemes("안녕하세요", "ko")
    assert phonemes
    assert not phonemes.isascii()


def test_an_unknown_voice_is_a_clear_error() -> None:
    engine = EspeakEngine(voice="xx-nonexistent")
    with pytest.raises(SpeechEngineUnavailable, match="no voice"):
        engine.synthesize("안녕", lambda _pcm: True)


def test_a_missing_piper_config_is_a_clear_error(tmp_path: Path) -> None:
    model = tmp_path / "voice.onnx"
    model.write_bytes(b"not a model")
    with pytest.raises(SpeechEngineUnavailable, match="not a Piper voice config"):
        load_engine(model)


def test_a_piper_style_onnx_voice_is_fed_phoneme_ids(tmp_path: Path) -> None:
    # A tiny ONNX graph with Piper's inputs and outputs: audio = ids scaled, so the test checks the
    # plumbing (config, phoneme ids, onnxruntime call), not a neural voice.
    onnx = pytest.importorskip("onnx")
    helper = onnx.helper
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["input"], ["as_float"], to=onnx.TensorProto.FLOAT),
            helper.make_node("Mul", ["as_float", "scale"], ["output"]),
        ],
        "tiny_piper",
        [
            helper.make_tensor_value_info("input", onnx.TensorProto.INT64, [1, None]),
            helper.make_tensor_value_info("input_lengths", onnx.TensorProto.INT64, [1]),
            helper.make_tensor_value_info("scales", onnx.TensorProto.FLOAT, [3]),
        ],
        [helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, [1, None])],
        initializer=[helper.make_tensor("scale", onnx.TensorProto.FLOAT, [], [0.01])],
    )
    model_path = tmp_path / "ko_tiny.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), model_path)
    phonemes = sorted(set(espeak().phonemes("거실 불을 켰어요", "ko")))
    table = {"_": [0], "^": [1], "$": [2]} | {p: [i + 3] for i, p in enumerate(phonemes)}
    config = {"audio": {"sample_rate": 16000}, "espeak": {"voice": "ko"}, "phoneme_id_map": table}
    Path(f"{model_path}.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")

    audio = Speaker(load_engine(model_path)).speak("거실 불을 켰어요")
    ids = np.frombuffer(audio.pcm, dtype="<i2")
    assert audio.sample_rate == 16000
    assert ids.size > 10
    assert ids[0] == int(0.01 * 32767)  # "^" first
    assert ids[-1] == int(0.02 * 32767)  # "$" last


def test_sentences_are_spoken_one_at_a_time_with_a_pause_between() -> None:
    text = "세탁이 끝났어요. 건조기로 옮겨 주세요."
    short = Speaker(EspeakEngine(pause_ms=100)).speak(text)
    apart = Speaker(EspeakEngine(pause_ms=500)).speak(text)
    # The pause is silence between the two sentences, nothing more (eSpeak's own trailing silence
    # varies by a frame or two between syntheses: 0.41 s was seen).
    assert apart.duration_s - short.duration_s == pytest.approx(0.4, abs=0.03)
    samples = np.abs(np.frombuffer(apart.pcm, dtype="<i2")).astype(np.int32)
    window = int(0.3 * apart.sample_rate)
    quiet = np.convolve(samples > 200, np.ones(window), mode="valid")
    assert quiet.min() == 0  # somewhere, 0.3 s of silence


def test_an_english_reply_is_spoken_by_an_english_voice() -> None:
    speaker = Speaker()
    english = speaker.speak("The living room light is on.", "en")
    assert speaker.engine_for("en").name == "espeak-ng:en-us"
    assert speaker.engine_for("ko") is speaker.engine
    # Not read through the Korean normaliser (which would spell Latin letters the Korean way).
    assert english.spoken_text == "The living room light is on."
    from oneteam.voice.espeak import espeak

    assert espeak().phonemes("The living room light is on.", "en-us") != espeak().phonemes(
        "The living room light is on.", "ko"
    )
    assert english.duration_s > 1.0
