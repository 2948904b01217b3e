"""The Korean reading of numbers, units and abbreviations before speech synthesis."""

from __future__ import annotations

import pytest

from oneteam.voice.normalize import native, normalize, sino, spell_out_recognised_numbers


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("24도", "이십사 도"),
        ("3시", "세 시"),
        ("30분", "삼십 분"),
        ("1시간 반", "한 시간 반"),
        ("영하 18도", "영하 십팔 도"),
        ("-18도", "영하 십팔 도"),
        ("50%", "오십 퍼센트"),
        ("81%예요", "팔십일 퍼센트예요"),
        ("95%로 맞출게요", "구십오 퍼센트로 맞출게요"),
        ("2단", "이 단"),
        ("TV", "티비"),
        ("20개", "스무 개"),
        ("12시 30분", "열두 시 삼십 분"),
        ("07:30", "일곱 시 삼십 분"),
        ("23.5도", "이십삼 점 오 도"),
        ("1,000원", "천 원"),
        ("6월", "유월"),
        ("10월 3일", "시월 삼 일"),
        ("2024-06-03", "이천이십사 년 유월 삼 일"),
        ("010-1234-5678", "공일공 일이삼사 오육칠팔"),
        ("LG 세탁기", "엘지 세탁기"),
    ],
)
def test_written_korean_is_read_as_a_korean_speaker_reads_it(written: str, spoken: str) -> None:
    assert normalize(written) == spoken


def test_a_whole_reply_keeps_its_words_and_spaces_numbers_from_particles() -> None:
    assert normalize("거실 에어컨을 24도로 맞췄어요.") == "거실 에어컨을 이십사 도로 맞췄어요."
    assert normalize("세탁이 1시간 30분 남았어요") == "세탁이 한 시간 삼십 분 남았어요"


@pytest.mark.parametrize(
    ("number", "reading"),
    [
        (0, "영"),
        (10, "십"),
        (11, "십일"),
        (110, "백십"),
        (2018, "이천십팔"),
        (10000, "만"),
        (12345, "만 이천삼백사십오"),
    ],
)
def test_sino_korean_numbers_drop_a_leading_one_before_units(number: int, reading: str) -> None:
    assert sino(number) == reading


def test_native_numbers_shorten_before_a_counter() -> None:
    assert native(3, before_counter=True) == "세"
    assert native(3, before_counter=False) == "셋"
    assert native(24, before_counter=True) == "스물네"


def test_recognised_bracketed_numbers_are_spelled_for_scoring() -> None:
    assert spell_out_recognised_numbers("[64] 년 (천)") == "육십사 년 천"
