"""The public data sets (NASA C-MAPSS, AI4I 2020): where they are, how to read them, how to check input.

The data are read in place from `shared/data/` (never copied into the repository). The root is,
in order: the `root` argument, `ONETEAM_SHARED_DATA`, or `shared/data` beside the repository.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from oneteam.services.maintenance.errors import DatasetNotFound, MaintenanceInputError
from oneteam.services.maintenance.references import CMAPSS_SUBSETS

_LOGGER = logging.getLogger(__name__)

SETTING_COLUMNS = ("op_setting_1", "op_setting_2", "op_setting_3")
SENSOR_COLUMNS = tuple(f"sensor_{i}" for i in range(1, 22))
CMAPSS_COLUMNS = ("unit", "cycle", *SETTING_COLUMNS, *SENSOR_COLUMNS)

AI4I_FEATURE_COLUMNS = (
    "Type",
    "Air temperature [K]",
    "Process temperature [K]",
    "Rotational speed [rpm]",
    "Torque [Nm]",
    "Tool wear [min]",
)
AI4I_TARGET = "Machine failure"
AI4I_MODES = ("TWF", "HDF", "PWF", "OSF", "RNF")
AI4I_TYPES = ("L", "M", "H")


def data_root(root: Path | None = None) -> Path:
    """The folder holding `cmapss/` and `ai4i2020/`."""
    if root is not None:
        return root
    env = os.environ.get("ONETEAM_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3].parent / "shared" / "data"


@dataclass(frozen=True, slots=True, kw_only=True)
class CmapssSet:
    """One C-MAPSS subset: run-to-failure training units, truncated test units and their true RUL."""

    name: str
    train: pd.DataFrame
    test: pd.DataFrame
    test_rul: np.ndarray
    """True RUL after the last cycle of each test unit, in unit order (raw, uncapped)."""
    fingerprint: str
    """sha256 over the three files' bytes: names the exact data a model was trained on."""


def _file(path: Path) -> Path:
    if not path.is_file():
        raise DatasetNotFound(str(path))
    return path


def fingerprint_files(paths: Sequence[Path]) -> str:
    """sha256 over the files' bytes, in the given order."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint_frame(frame: pd.DataFrame) -> str:
    """sha256 of a data frame's columns and values (for data that never lived in a file)."""
    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def load_cmapss(subset: str, root: Path | None = None) -> CmapssSet:
    """Read one subset (`FD001`..`FD004`) from `<root>/cmapss/`."""
    name = subset.upper()
    if name not in CMAPSS_SUBSETS:
        raise MaintenanceInputError(
            "maintenance.error.unknown_dataset",
            f"unknown C-MAPSS subset {subset!r}; known: {', '.join(CMAPSS_SUBSETS)}",
            dataset=subset,
            known=", ".join(CMAPSS_SUBSETS),
        )
    folder = data_root(root) / "cmapss"
    paths = [_file(folder / f"{kind}_{name}.txt.gz") for kind in ("train", "test", "RUL")]
    # Lines end in trailing spaces, so split on runs of whitespace (see shared/data/README.md).
    train = pd.read_csv(paths[0], sep=r"\s+", header=None, names=list(CMAPSS_COLUMNS))
    test = pd.read_csv(paths[1], sep=r"\s+", header=None, names=list(CMAPSS_COLUMNS))
    rul = pd.read_csv(paths[2], sep=r"\s+", header=None).iloc[:, 0].to_numpy(dtype=float)
    _LOGGER.info("read C-MAPSS %s: %d train rows, %d test units", name, len(train), len(rul))
    return CmapssSet(name=name, train=train, test=test, test_rul=rul, fingerprint=fingerprint_files(paths))


def ai4i_path(root: Path | None = None) -> Path:
    """The AI4I 2020 CSV file."""
    return _file(data_root(root) / "ai4i2020" / "ai4i2020.csv")


def load_ai4i(root: Path | None = None) -> tuple[pd.DataFrame, str]:
    """The AI4I 2020 table (pandas strips the file's BOM) and its fingerprint."""
    path = ai4i_path(root)
    return pd.read_csv(path), fingerprint_files([path])


def check_frame(
    frame: pd.DataFrame,
    numeric: Sequence[str],
    categorical: dict[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """`frame` restricted to the named columns, numeric ones as float; a clear error names the bad column."""
    if frame.empty:
        raise MaintenanceInputError("maintenance.error.empty", "the input has no rows")
    categorical = categorical or {}
    for column in (*numeric, *categorical):
        if column not in frame.columns:
            raise MaintenanceInputError(
                "maintenance.error.missing_column",
                f"missing column {column!r}",
                column=column,
            )
    out = pd.DataFrame(index=frame.index)
    for column in numeric:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna()
        if bad.any() or values.isna().any():
            row = int(np.flatnonzero((bad | values.isna()).to_numpy())[0])
            raise MaintenanceInputError(
                "maintenance.error.not_a_number",
                f"column {column!r} row {row + 1}: {frame[column].iloc[row]!r} is not a number",
                column=column,
                row=row + 1,
                value=str(frame[column].iloc[row]),
            )
        out[column] = values.astype(float)
    for column, allowed in categorical.items():
        text = frame[column].astype(str)
        bad_rows = np.flatnonzero(~text.isin(list(allowed)).to_numpy())
        if len(bad_rows):
            row = int(bad_rows[0])
            raise MaintenanceInputError(
                "maintenance.error.bad_category",
                f"column {column!r} row {row + 1}: {text.iloc[row]!r} is not one of {', '.join(allowed)}",
                column=column,
                row=row + 1,
                value=text.iloc[row],
                allowed=", ".join(allowed),
            )
        out[column] = text
    return out


def read_csv_input(path: Path) -> pd.DataFrame:
    """A user's CSV file; unreadable or empty files become clear errors."""
    if not path.is_file():
        raise MaintenanceInputError("maintenance.error.no_file", f"no such file: {path}", path=str(path))
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError as exc:
        raise MaintenanceInputError("maintenance.error.empty", f"{path} is empty") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise MaintenanceInputError(
            "maintenance.error.unreadable", f"{path} is not a readable CSV: {exc}", detail=str(exc)
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise MaintenanceInputError("maintenance.error.empty", f"{path} has a header but no rows")
    return frame
