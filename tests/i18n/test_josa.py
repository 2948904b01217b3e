from __future__ import annotations

import pytest

from oneteam.i18n import attach, has_final_consonant, language_from_header, render


@pytest.mark.parametrize(
    ("word", "particle", "expected"),
    [
        ("에어컨", "를", "에어컨을"),
        ("조명", "를", "조명을"),
        ("TV", "을", "TV를"),
        ("세탁기", "이", "세탁기가"),
        ("건조기", "이", "건조기가"),
        ("냉장고", "은", "냉장고는"),
        ("24도", "으로", "24도로"),
        ("18도", "으로", "18도로"),
        ("10", "로", "10으로"),
        ("서울", "으로", "서울로"),  # a final ㄹ takes 로
        ("1", "으로", "1로"),  # 일
        ("3", "을", "3을"),  # 삼
        ("2", "을", "2를"),  # 이
        ("100", "이", "100이"),  # 백
        ("1000", "이", "1000이"),  # 천
        ("50%", "을", "50%를"),  # 퍼센트
        ("LG", "가", "LG가"),  # 지
        ("HDMI", "가", "HDMI가"),
        ("거실", "과", "거실과"),
        ("안방", "랑", "안방이랑"),
    ],
)
def test_the_particle_follows_the_final_sound(word: str, particle: str, expected: str) -> None:
    assert attach(word, particle) == expected


def test_words_ending_in_a_consonant_are_recognised() -> None:
    assert has_final_consonant("에어컨") and not has_final_consonant("세탁기")
    assert has_final_consonant("L") and not has_final_consonant("TV")


def test_a_template_attaches_particles_to_its_values() -> None:
    text = render("error.temperature_out_of_range", "ko", device="거실 에어컨", low=18, high=30, value=45)
    assert text.startswith("거실 에어컨의 온도는 18도에서 30도까지")


def test_accept_language_picks_the_best_supported_language() -> None:
    assert language_from_header("en-US,en;q=0.9,ko;q=0.8") == "en"
    assert language_from_header("fr-FR,ko;q=0.5,en;q=0.4") == "ko"
    assert language_from_header("de") == "ko"
    assert language_from_header(None) == "ko"
