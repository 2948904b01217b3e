"""`oneteam maintenance …`: train, evaluate and run the failure-prediction models.

Registered by the main CLI as a sub-command group:
`app.add_typer(maintenance_cli.app, name="maintenance")`.
"""

from __future__ import annotations

import json as jsonlib
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from oneteam.i18n import language_from_environment, render
from oneteam.model import OneteamError
from oneteam.services.maintenance.errors import MaintenanceInputError, ModelMismatch, ModelNotFound
from oneteam.services.maintenance.references import (
    CMAPSS_SUBSETS,
    GOAL_AI4I_F1,
    GOAL_RMSE_CAPPED,
    PUBLISHED_AI4I_F1,
    published_text,
)
from oneteam.sim import PROFILES

if TYPE_CHECKING:
    from oneteam.services.maintenance.store import ModelStore, SavedModel

# LightGBM, scikit-learn, pandas and matplotlib are imported inside the commands, so that
# registering this group does not slow down every other `oneteam` command.

_LOGGER = logging.getLogger(__name__)

app = typer.Typer(help="Failure prediction: train, evaluate and run models.", no_args_is_help=True)

DatasetOpt = Annotated[
    str | None,
    typer.Option("--dataset", help="cmapss:FD001..FD004, cmapss:all, ai4i, appliances or all."),
]
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Models go to DATA_DIR/models (or ONETEAM_DATA_DIR).")
]
DataRootOpt = Annotated[
    Path | None,
    typer.Option("--data-root", help="Folder with cmapss/ and ai4i2020/ (or ONETEAM_SHARED_DATA)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]

_CONSOLE = Console()
_ERRORS = Console(stderr=True)


def _t(key: str, **params: object) -> str:
    return render(key, language_from_environment(), **params)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Expected failures become one line on stderr and exit code 2, never a traceback."""
    try:
        yield
    except OneteamError as exc:
        # Column names like "Tool wear [min]" would read as rich markup: print the text as is.
        _ERRORS.print(
            render(exc.key, language_from_environment(), **exc.params),
            style="red",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(2) from exc


def _targets(dataset: str | None, *, default: list[str]) -> list[str]:
    if dataset is None:
        return default
    name = dataset.strip()
    lowered = name.lower()
    if lowered == "all":
        return [*(f"cmapss:{s}" for s in CMAPSS_SUBSETS), "ai4i", "appliances"]
    if lowered == "cmapss:all":
        return [f"cmapss:{s}" for s in CMAPSS_SUBSETS]
    if lowered in ("ai4i", "appliances"):
        return [lowered]
    if lowered.startswith("cmapss:") and name.split(":", 1)[1].upper() in CMAPSS_SUBSETS:
        return [f"cmapss:{name.split(':', 1)[1].upper()}"]
    known = "cmapss:FD001..FD004, cmapss:all, ai4i, appliances, all"
    raise MaintenanceInputError(
        "maintenance.error.unknown_dataset", f"unknown data set {dataset!r}", dataset=dataset, known=known
    )


@contextmanager
def _progress(enabled: bool = True) -> Iterator[Callable[[str], Callable[[float], None]]]:
    """Yields a factory: one progress bar per description, fed with fractions done."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    ) as bars:

        def bar(description: str) -> Callable[[float], None]:
            task = bars.add_task(description, total=1.0)
            return lambda fraction: bars.update(task, completed=fraction)

        yield bar


def _train_one(
    target: str, store: ModelStore, data_root: Path | None, bars: Callable[[str], Callable[[float], None]]
) -> list[SavedModel]:
    """Train one target (a data set, or every appliance type) and save what it makes."""
    from oneteam.services.maintenance.classify import train_ai4i
    from oneteam.services.maintenance.datasets import load_ai4i, load_cmapss
    from oneteam.services.maintenance.fleet import train_appliance_model
    from oneteam.services.maintenance.rul import train_cmapss
    from oneteam.services.maintenance.store import SavedModel

    if target == "appliances":
        models = [
            train_appliance_model(t, progress=bars(_t("maintenance.cli.training", dataset=t.value)))
            for t in PROFILES
        ]
    elif target == "ai4i":
        frame, fingerprint = load_ai4i(data_root)
        models = [
            train_ai4i(frame, fingerprint, progress=bars(_t("maintenance.cli.training", dataset=target)))
        ]
    else:
        data = load_cmapss(target.split(":", 1)[1], data_root)
        models = [train_cmapss(data, progress=bars(_t("maintenance.cli.training", dataset=target)))]
    saved = []
    for model in models:
        card = store.save(model.card, model.boosters)
        saved.append(SavedModel(card=card, boosters=model.boosters))
    return saved


@app.command()
def train(
    dataset: DatasetOpt = "cmapss:FD001", data_dir: DataDirOpt = None, data_root: DataRootOpt = None
) -> None:
    """Train models and save them with their metrics, data fingerprint and version."""
    from oneteam.services.maintenance.store import ModelStore, models_dir

    with _user_errors():
        store = ModelStore(models_dir(data_dir))
        targets = _targets(dataset, default=["cmapss:FD001"])
        with _progress() as bars:
            for target in targets:
                started = time.perf_counter()
                for saved in _train_one(target, store, data_root, bars):
                    path = store.root / saved.card.name
                    _CONSOLE.print(
                        _t(
                            "maintenance.cli.trained",
                            name=saved.card.name,
                            version=saved.card.version,
                            path=path,
                        )
                    )
                _LOGGER.info("trained %s in %.1f s", target, time.perf_counter() - started)


def _saved_or_trained(
    name: str,
    target: str,
    store: ModelStore,
    data_root: Path | None,
    bars: Callable[[str], Callable[[float], None]],
) -> SavedModel:
    try:
        return store.load(name)
    except (ModelNotFound, ModelMismatch) as exc:
        _LOGGER.info("%s; training it now", exc)
        return _train_one(target, store, data_root, bars)[0]


def _evaluate_cmapss(
    subset: str,
    store: ModelStore,
    data_root: Path | None,
    plot_dir: Path,
    bars: Callable[[str], Callable[[float], None]],
) -> dict[str, Any]:
    from oneteam.services.maintenance.datasets import load_cmapss
    from oneteam.services.maintenance.plot import plot_rul
    from oneteam.services.maintenance.rul import evaluate_cmapss

    data = load_cmapss(subset, data_root)
    model = _saved_or_trained(f"cmapss-{subset}", f"cmapss:{subset}", store, data_root, bars)
    evaluation = evaluate_cmapss(model, data)
    plot = plot_rul(evaluation, plot_dir / f"cmapss-{subset}-rul.png")
    return {
        **evaluation.metrics(),
        "goal_rmse_capped": GOAL_RMSE_CAPPED[subset],
        "published": published_text(subset),
        "model_version": model.card.version,
        "same_data_as_training": model.card.fingerprint == data.fingerprint,
        "plot": str(plot),
    }


def _evaluate_all(
    targets: list[str], store: ModelStore, data_root: Path | None, plot_dir: Path, show_progress: bool
) -> dict[str, dict[str, Any]]:
    from oneteam.services.maintenance.classify import cross_validate
    from oneteam.services.maintenance.datasets import load_ai4i
    from oneteam.services.maintenance.fleet import train_appliance_model

    results: dict[str, dict[str, Any]] = {}
    with _progress(show_progress) as bars:
        for target in targets:
            if target.startswith("cmapss:"):
                results[target] = _evaluate_cmapss(target.split(":", 1)[1], store, data_root, plot_dir, bars)
            elif target == "ai4i":
                frame, _ = load_ai4i(data_root)
                bar = bars(_t("maintenance.cli.evaluating", dataset=target))
                metrics = cross_validate(frame, progress=bar).metrics()
                results[target] = {**metrics, "goal_f1": GOAL_AI4I_F1, "published_f1": PUBLISHED_AI4I_F1}
            else:
                # Appliance models are scored on a held-out simulated fleet when trained.
                for device_type in PROFILES:
                    results[f"sim:{device_type.value}"] = dict(
                        train_appliance_model(device_type).card.metrics
                    )
    return results


@app.command("eval")
def evaluate(
    dataset: DatasetOpt = None,
    json: JsonOpt = False,
    plot_dir: Annotated[
        Path | None, typer.Option("--plot-dir", help="Where the RUL plots go (default DATA_DIR/reports).")
    ] = None,
    data_dir: DataDirOpt = None,
    data_root: DataRootOpt = None,
) -> None:
    """Score the models on the public test protocols (a missing model is trained first)."""
    from oneteam.services.maintenance.store import ModelStore, models_dir

    with _user_errors():
        store = ModelStore(models_dir(data_dir))
        targets = _targets(dataset, default=[*(f"cmapss:{s}" for s in CMAPSS_SUBSETS), "ai4i"])
        plots = plot_dir or store.root.parent / "reports"
        results = _evaluate_all(targets, store, data_root, plots, show_progress=not json)
    if json:
        sys.stdout.write(jsonlib.dumps({"results": results}, ensure_ascii=False) + "\n")
        return
    _print_results(results)


def _print_results(results: dict[str, dict[str, Any]]) -> None:
    table = Table()
    for key in ("col_dataset", "col_metric", "col_ours", "col_goal", "col_published"):
        table.add_column(_t(f"maintenance.cli.{key}"))
    for name, metrics in results.items():
        if name.startswith("cmapss:"):
            table.add_row(
                name,
                "RMSE capped",
                f"{metrics['rmse_capped']:.2f}",
                f"≤{metrics['goal_rmse_capped']}",
                metrics["published"],
            )
            table.add_row("", "RMSE raw", f"{metrics['rmse_raw']:.2f}", "", "")
            table.add_row("", "NASA score", f"{metrics['nasa_score']:.0f}", "", "")
        elif name == "ai4i":
            table.add_row(
                name, "F1", f"{metrics['f1']:.3f}", f"≥{metrics['goal_f1']}", metrics["published_f1"]
            )
            for metric in ("precision", "recall", "roc_auc"):
                table.add_row("", metric, f"{metrics[metric]:.3f}", "", "")
            caught = ", ".join(f"{m} {v['caught']}/{v['total']}" for m, v in metrics["modes_caught"].items())
            table.add_row("", "modes caught", caught, "", "")
        else:
            table.add_row(name, "RMSE capped (days)", f"{metrics['rmse_capped_days']:.2f}", "", "")
    _CONSOLE.print(table)
    for metrics in results.values():
        if "plot" in metrics:
            _CONSOLE.print(_t("maintenance.cli.plot_saved", path=metrics["plot"]))


@app.command()
def predict(
    file: Annotated[
        Path, typer.Argument(help="A CSV file: C-MAPSS columns, AI4I columns or appliance telemetry.")
    ],
    model: Annotated[
        str | None, typer.Option("--model", help="A saved model name (default: by the columns).")
    ] = None,
    json: JsonOpt = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Predict remaining life or failure for the rows of a CSV file."""
    from oneteam.services.maintenance.datasets import read_csv_input
    from oneteam.services.maintenance.service import MaintenanceService
    from oneteam.services.maintenance.store import ModelStore, models_dir

    with _user_errors():
        frame = read_csv_input(file)
        service = MaintenanceService(ModelStore(models_dir(data_dir)))
        card, predictions = service.predict(frame, model)
    if json:
        rows = jsonlib.loads(predictions.to_json(orient="records"))
        payload = {"model": card.name, "version": card.version, "predictions": rows}
        sys.stdout.write(jsonlib.dumps(payload, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"{card.name} v{card.version}")
    for column in predictions.columns:
        table.add_column(str(column))
    for row in predictions.itertuples(index=False):
        table.add_row(*(f"{v:.1f}" if isinstance(v, float) else str(v) for v in row))
    _CONSOLE.print(table)
