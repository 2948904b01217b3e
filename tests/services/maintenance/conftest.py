"""Fixtures: the public data sets read in place from shared/data, and small slices of them."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from oneteam.services.maintenance.datasets import CmapssSet, load_ai4i, load_cmapss

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
SLICE_UNITS = 30


@pytest.fixture(scope="session")
def data_root() -> Path:
    """shared/data beside the repository."""
    if not (DATA / "cmapss").is_dir() or not (DATA / "ai4i2020").is_dir():
        pytest.skip(f"public data sets not found at {DATA}")
    return DATA


@pytest.fixture(scope="session")
def fd001(data_root: Path) -> CmapssSet:
    """The whole FD001 subset."""
    return load_cmapss("FD001", data_root)


@pytest.fixture(scope="session")
def fd001_slice(fd001: CmapssSet) -> CmapssSet:
    """The first 30 training and test units of FD001, so training stays quick."""
    return CmapssSet(
        name="FD001",
        train=fd001.train[fd001.train["unit"] <= SLICE_UNITS].reset_index(drop=True),
        test=fd001.test[fd001.test["unit"] <= SLICE_UNITS].reset_index(drop=True),
        test_rul=fd001.test_rul[:SLICE_UNITS],
        fingerprint=fd001.fingerprint,
    )


@pytest.fixture(scope="session")
def ai4i(data_root: Path) -> tuple[pd.DataFrame, str]:
    """The AI4I 2020 table and its fingerprint."""
    return load_ai4i(data_root)


@pytest.fixture
def sliced_data_root(tmp_path: Path, fd001_slice: CmapssSet, ai4i: tuple[pd.DataFrame, str]) -> Path:
    """A data root with a 30-unit FD001 and a 3,000-row AI4I, in the public files' formats."""
    cmapss = tmp_path / "shared_slice" / "cmapss"
    cmapss.mkdir(parents=True)
    for kind, frame in (("train", fd001_slice.train), ("test", fd001_slice.test)):
        with gzip.open(cmapss / f"{kind}_FD001.txt.gz", "wt") as handle:
            frame.to_csv(handle, sep=" ", header=False, index=False)
    with gzip.open(cmapss / "RUL_FD001.txt.gz", "wt") as handle:
        handle.write("\n".join(str(int(v)) for v in fd001_slice.test_rul) + "\n")
    ai4i_dir = tmp_path / "shared_slice" / "ai4i2020"
    ai4i_dir.mkdir()
    ai4i[0].sample(n=3000, random_state=0).to_csv(ai4i_dir / "ai4i2020.csv", index=False)
    return tmp_path / "shared_slice"
