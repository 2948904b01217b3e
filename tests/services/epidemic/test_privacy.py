"""Keyed hashing of subscriber numbers and the operator key."""

from __future__ import annotations

import hashlib
import hmac
import stat
from pathlib import Path

import pytest

from oneteam.services.epidemic.errors import InvalidPhoneNumber, OperatorKeyError
from oneteam.services.epidemic.privacy import KEY_ENV, SubscriberHasher, load_operator_key, normalize_msisdn
from tests.services.epidemic.conftest import OPERATOR_KEY


@pytest.mark.parametrize(
    "spelling",
    [
        "010-1234-5678",
        "01012345678",
        "+82 10 1234 5678",
        "+82-10-1234-5678",
        "(010) 1234.5678",
        "821012345678",
    ],
)
def test_every_spelling_of_a_number_normalizes_alike(spelling: str) -> None:
    assert normalize_msisdn(spelling) == "01012345678"


@pytest.mark.parametrize("bad", ["02-123-4567", "1339", "010-12-34", "hello", "+1 415 555 0100", ""])
def test_a_number_that_is_not_a_korean_mobile_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as caught:
        normalize_msisdn(bad)
    assert bad not in str(caught.value) or not bad


def test_the_key_is_the_first_8_bytes_of_hmac_sha256() -> None:
    expected = hmac.new(OPERATOR_KEY, b"01012345678", hashlib.sha256).digest()[:8]
    hasher = SubscriberHasher(OPERATOR_KEY)
    assert hasher.key_of("+82 10-1234-5678") == int.from_bytes(expected, "big", signed=True)
    assert hasher.keys_of(["01012345678"]) == [hasher.key_of("010-1234-5678")]


def test_a_long_key_is_hashed_first_as_hmac_requires() -> None:
    long_key = b"k" * 100
    expected = hmac.new(long_key, b"01099998888", hashlib.sha256).digest()
    assert SubscriberHasher(long_key).digest("01099998888") == expected


def test_another_operator_key_gives_other_keys() -> None:
    assert SubscriberHasher(OPERATOR_KEY).key_of("01012345678") != SubscriberHasher(b"x" * 32).key_of(
        "01012345678"
    )


def test_a_short_key_is_refused() -> None:
    with pytest.raises(OperatorKeyError):
        SubscriberHasher(b"short")


def test_a_key_is_created_once_in_the_data_dir_readable_by_the_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    first = load_operator_key(data_dir=tmp_path)
    assert len(first) == 32 and load_operator_key(data_dir=tmp_path) == first
    assert stat.S_IMODE((tmp_path / "epidemic.key").stat().st_mode) == 0o600


def test_the_environment_key_wins_over_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, OPERATOR_KEY.hex())
    assert load_operator_key(data_dir=tmp_path) == OPERATOR_KEY
    monkeypatch.setenv(KEY_ENV, "abcd")
    with pytest.raises(OperatorKeyError, match="at least 16"):
        load_operator_key(data_dir=tmp_path)


def test_a_key_file_that_is_not_hex_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("not hex at all", encoding="ascii")
    with pytest.raises(OperatorKeyError, match="hex"):
        load_operator_key(key_file)
