"""Published results and our goals, printed beside our own figures (CLI `eval`, bench, BENCHMARKS.md).

C-MAPSS figures are test RMSE at the last cycle of each test unit; the references report them
against capped truth as far as their papers say. AI4I F1 is the range reported in the literature.
"""

from __future__ import annotations

from types import MappingProxyType

CMAPSS_SUBSETS = ("FD001", "FD002", "FD003", "FD004")
PUBLISHED_RMSE = MappingProxyType(
    {
        "FD001": (
            ("CNN (Babu et al. 2016)", 18.45),
            ("LSTM (Zheng et al. 2017)", 16.14),
            ("MS-DCNN (2020)", 11.44),
            ("MTSTAN", 10.97),
        ),
        "FD002": (("FFVE, capped", 12.55),),
        "FD003": (),
        "FD004": (("FFVE, capped", 14.08),),
    }
)
GOAL_RMSE_CAPPED = MappingProxyType({"FD001": 11.0, "FD002": 12.5, "FD003": 11.5, "FD004": 14.0})
PUBLISHED_AI4I_F1 = "0.85-0.90"
GOAL_AI4I_F1 = 0.90
GOAL_CMAPSS_TRAIN_S = 60.0
"""All four subsets, on 2 CPU cores."""


def published_text(subset: str) -> str:
    """The published figures of one subset as one line."""
    return "; ".join(f"{name} {value:.2f}" for name, value in PUBLISHED_RMSE.get(subset, ())) or "-"
