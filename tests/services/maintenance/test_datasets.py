"""Reading the public data sets and checking a user's input with errors that name the column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from oneteam.i18n import render
from oneteam.services.maintenance import DatasetNotFound, MaintenanceInputError
from oneteam.services.maintenance.datasets import (
    AI4I_MODES,
    CmapssSet,
    check_frame,
    load_cmapss,
    read_csv_input,
)


def test_fd001_has_the_published_shape(fd001: CmapssSet) -> None:
    assert len(fd001.train) == 20631
    assert fd001.train["unit"].nunique() == 100
    assert fd001.test["unit"].nunique() == 100
    assert len(fd001.test_rul) == 100
    assert fd001.train.groupby("unit")["cycle"].min().eq(1).all()
    assert len(fd001.fingerprint) == 64


def test_fingerprint_is_stable_across_reads(fd001: CmapssSet, data_root: Path) -> None:
    assert load_cmapss("fd001", data_root).fingerprint == fd001.fingerprint


def test_unknown_subset_is_refused(data_root: Path) -> None:
    with pytest.raises(MaintenanceInputError) as caught:
        load_cmapss("FD009", data_root)
    assert caught.value.params["dataset"] == "FD009"


def test_missing_data_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFound, match="train_FD001"):
        load_cmapss("FD001", tmp_path)


def test_ai4i_has_339_failures(ai4i: tuple[pd.DataFrame, str]) -> None:
    frame, fingerprint = ai4i
    assert len(frame) == 10000
    assert int(frame["Machine failure"].sum()) == 339
    assert set(AI4I_MODES) <= set(frame.columns)
    assert frame.columns[0] == "UDI"  # the BOM is not part of the first name
    assert len(fingerprint) == 64


def test_missing_column_is_named() -> None:
    frame = pd.DataFrame({"a": [1.0]})
    with pytest.raises(MaintenanceInputError) as caught:
        check_frame(frame, ["a", "b"])
    assert caught.value.params["column"] == "b"
    assert "'b'" in render(caught.value.key, "en", **caught.value.params)


def test_text_in_a_numeric_column_names_column_and_row() -> None:
    frame = pd.DataFrame({"torque": ["1.5", "2.0", "lots"]})
    with pytest.raises(MaintenanceInputError) as caught:
        check_frame(frame, ["torque"])
    assert caught.value.params == {"column": "torque", "row": 3, "value": "lots"}
    assert "lots" in render(caught.value.key, "ko", **caught.value.params)


def test_category_outside_the_allowed_values_is_refused() -> None:
    frame = pd.DataFrame({"Type": ["L", "X"]})
    with pytest.raises(MaintenanceInputError) as caught:
        check_frame(frame, [], {"Type": ("L", "M", "H")})
    assert caught.value.params["value"] == "X"


def test_empty_csv_file_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(MaintenanceInputError) as caught:
        read_csv_input(empty)
    assert caught.value.key == "maintenance.error.empty"
    header_only = tmp_path / "header.csv"
    header_only.write_text("unit,cycle\n")
    with pytest.raises(MaintenanceInputError):
        read_csv_input(header_only)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MaintenanceInputError) as caught:
        read_csv_input(tmp_path / "nope.csv")
    assert caught.value.key == "maintenance.error.no_file"
