"""The risk list format and the country table."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from oneteam.services.epidemic.errors import RiskListError
from oneteam.services.epidemic.schema import countries, country_codes, load_risk_list, sample_risk_path


def test_the_sample_risk_list_loads_and_says_it_is_an_example() -> None:
    risk = load_risk_list(sample_risk_path())
    assert risk.is_example and risk.hotline == "1339"
    mers = risk.entry("SA", "mers")
    assert mers.incubation_days == 14 and mers.names["ko"] == "메르스"
    assert mers.window_end.hour == 23 and mers.window_start < mers.window_end


def test_codes_map_mcc_and_iso_to_the_same_country() -> None:
    codes = country_codes()
    assert codes["440"] == codes["441"] == codes["JP"] == "JP"
    assert codes["420"] == "SA" and codes["452"] == "VN"
    assert "GU" in codes and all(len(code) in (2, 3) for code in codes)


def test_the_country_mix_weights_follow_2019_korean_travel() -> None:
    table = countries()
    top = sorted(table.values(), key=lambda c: c.weight_k, reverse=True)[:3]
    assert {c.iso2 for c in top} == {"JP", "CN", "VN"}
    assert all(c.names["ko"] and c.names["en"] for c in table.values())


def _write(tmp_path: Path, **changes: object) -> Path:
    entry: dict[str, object] = {
        "country": "JP",
        "disease": "x",
        "window_start": "2026-01-01",
        "window_end": "2026-02-01",
        "incubation_days": 3,
        "name": {"ko": "가", "en": "a"},
        "symptoms": {"ko": "가", "en": "a"},
        "advice": {"ko": "가", "en": "a"},
        **changes,
    }
    path = tmp_path / "risk.yaml"
    path.write_text(yaml.safe_dump({"entries": [entry]}, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"country": "ZZ"}, "unknown country"),
        ({"window_start": "2026-03-01"}, "ends before it starts"),
        ({"incubation_days": 30}, "incubation_days"),
        ({"disease": "X Y"}, "disease"),
        ({"name": {"ko": "가"}}, "name.en"),
    ],
)
def test_a_bad_risk_entry_is_refused_with_the_reason(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(RiskListError, match=message):
        load_risk_list(_write(tmp_path, **changes))


def test_a_good_entry_loads(tmp_path: Path) -> None:
    assert load_risk_list(_write(tmp_path)).entry("JP", "x").incubation_days == 3


def test_a_risk_csv_without_its_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "risk.csv"
    path.write_text("country,disease\nJP,x\n", encoding="utf-8")
    with pytest.raises(RiskListError, match="missing columns"):
        load_risk_list(path)


def test_a_missing_risk_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RiskListError, match="No such file"):
        load_risk_list(tmp_path / "nope.yaml")
