"""`oneteam maintenance train | eval | predict`, run through typer on sliced public data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from oneteam.services.maintenance.cli import app

RUNNER = CliRunner()


def _invoke(*args: str) -> tuple[int, str, str]:
    result = RUNNER.invoke(app, list(args), env={"ONETEAM_LANG": "en"})
    return result.exit_code, result.stdout, result.stderr


def test_train_then_eval_json_reports_the_protocols_metrics(tmp_path: Path, sliced_data_root: Path) -> None:
    data_dir = tmp_path / "data"
    code, out, _ = _invoke(
        "train",
        "--dataset",
        "cmapss:FD001",
        "--data-dir",
        str(data_dir),
        "--data-root",
        str(sliced_data_root),
    )
    assert code == 0, out
    assert (data_dir / "models" / "cmapss-FD001" / "card.json").is_file()
    code, out, _ = _invoke(
        "eval",
        "--dataset",
        "cmapss:FD001",
        "--json",
        "--data-dir",
        str(data_dir),
        "--data-root",
        str(sliced_data_root),
    )
    assert code == 0, out
    results = json.loads(out)["results"]["cmapss:FD001"]
    assert results["test_units"] == 30
    assert {"rmse_raw", "rmse_capped", "nasa_score", "goal_rmse_capped", "published"} <= set(results)
    assert results["same_data_as_training"] is True  # trained and scored on the same files
    assert results["model_version"] == 1
    plot = Path(results["plot"])
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_table_shows_ai4i_beside_published_figures(tmp_path: Path, sliced_data_root: Path) -> None:
    code, out, _ = _invoke(
        "eval", "--dataset", "ai4i", "--data-dir", str(tmp_path), "--data-root", str(sliced_data_root)
    )
    assert code == 0, out
    assert "F1" in out
    assert "0.85-0.90" in out
    assert "HDF" in out


def test_predict_csv_gives_failure_probability_per_row(tmp_path: Path, sliced_data_root: Path) -> None:
    code, out, _ = _invoke(
        "train", "--dataset", "ai4i", "--data-dir", str(tmp_path), "--data-root", str(sliced_data_root)
    )
    assert code == 0, out
    rows = pd.read_csv(sliced_data_root / "ai4i2020" / "ai4i2020.csv").head(5)
    csv = tmp_path / "rows.csv"
    rows.to_csv(csv, index=False)
    code, out, _ = _invoke("predict", str(csv), "--json", "--data-dir", str(tmp_path))
    assert code == 0, out
    answer = json.loads(out)
    assert answer["model"] == "ai4i"
    assert len(answer["predictions"]) == 5
    assert all(0.0 <= p["failure_probability"] <= 1.0 for p in answer["predictions"])

    rows.drop(columns=["Tool wear [min]"]).to_csv(csv, index=False)
    code, _, err = _invoke("predict", str(csv), "--model", "ai4i", "--data-dir", str(tmp_path))
    assert code == 2
    assert "Tool wear [min]" in err
    assert "Traceback" not in err


def test_bad_input_exits_2_with_a_message(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = _invoke("predict", str(empty), "--data-dir", str(tmp_path))
    assert code == 2
    assert "no data rows" in err
    code, _, err = _invoke("train", "--dataset", "cmapss:FD007", "--data-dir", str(tmp_path))
    assert code == 2
    assert "FD007" in err
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    code, _, err = _invoke("predict", str(wrong), "--data-dir", str(tmp_path))
    assert code == 2
    assert "--model" in err
