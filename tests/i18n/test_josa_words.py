"""A Latin word before a particle is read as a word (owner → 오너를), an acronym letter by letter
(TV → 티비를): what the serve message about the first owner prints."""

from __future__ import annotations

import pytest

from oneteam.i18n import render
from oneteam.i18n.josa import attach


@pytest.mark.parametrize(
    ("word", "particle", "expected"),
    [
        ("owner", "을", "owner를"),  # 오너
        ("admin", "를", "admin을"),  # 어드민
        ("home", "를", "home을"),  # 홈 (a silent e)
        ("robot", "가", "robot이"),  # 로봇
        ("light", "을", "light를"),  # 라이트
        ("host", "은", "host는"),  # 호스트
        ("mail", "으로", "mail로"),  # 메일: ㄹ takes 로
        ("Alex", "이", "Alex가"),  # 알렉스
        ("TV", "을", "TV를"),  # spelled: 티비
        ("LG", "을", "LG를"),  # spelled: 엘지
        ("HDMI", "은", "HDMI는"),  # spelled: 에이치디엠아이
        ("m", "를", "m을"),  # one letter is spelled: 엠
    ],
)
def test_a_latin_word_takes_the_particle_of_how_it_is_read(word: str, particle: str, expected: str) -> None:
    assert attach(word, particle) == expected


def test_the_first_owner_message_takes_the_particle_of_the_name_it_prints() -> None:
    assert "owner를 만들었어요" in render("cli.owner_created", "ko", name="owner")
    assert "민수를 만들었어요" in render("cli.owner_created", "ko", name="민수")
    assert "준영을 만들었어요" in render("cli.owner_created", "ko", name="준영")
