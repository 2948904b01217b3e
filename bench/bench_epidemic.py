"""Epidemic alerts: time and peak memory to compute alerts from 1M, 10M and 100M roaming records.

Beside oneteam's full run (validation of every row, MCC/ISO normalization, retention limit,
per-person dedup, the consent join, queueing one alert per consenting person in SQLite) the same
run times two anchors on the same files: DuckDB and Polars running the plain query (join on the
country code, risk window and watch period, one row per person), with nothing else.

Each measurement is a fresh process pinned to 2 cores (where the machine has more); peak memory is
that process's peak resident set. Data is generated once into a cache folder outside the
repository and reused; a size whose data would not fit on the disk is skipped with a note.

    python bench/bench_epidemic.py [--sizes 1M,10M,100M] [--cache /tmp/oneteam-bench/epidemic]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _rounds import ROUNDS, cpu_s, load_line, print_rounds

AS_OF = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
OPERATOR_KEY = bytes(range(32))
CONSENT_SHARE = 0.01
"""Share of travellers whose household opted in (linked by phone number)."""
BYTES_PER_ROW = 26
"""Parquet on disk per record, measured on generated data (random 64-bit keys do not compress)."""
CORES = 2
DUCKDB_MEMORY_LIMIT = "600MB"
"""DuckDB's own buffers; the process (Python, SQLite, the results) stays under 1 GiB with it."""


def _sizes(text: str) -> list[int]:
    sizes = []
    for raw in text.split(","):
        part = raw.strip().upper()
        scale = {"K": 1_000, "M": 1_000_000}.get(part[-1:], 1)
        sizes.append(int(float(part.rstrip("KM")) * scale))
    return sizes


def _pin() -> None:
    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > CORES:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:CORES])


def _peak_mib() -> float:
    # VmHWM, not getrusage: Linux carries ru_maxrss over exec, so a worker would report the
    # driver's peak (the data generator's) instead of its own.
    own_kib = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            own_kib = int(line.split()[1])
    children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the JVM of Spark
    return max(own_kib, children_kib) / 1024


def _risk_path() -> Path:
    from oneteam.services.epidemic.schema import sample_risk_path

    return sample_risk_path()


# -- workers (each runs in its own process) ----------------------------------------------------


def _worker_oneteam(records: Path, consent_db: Path, engine_name: str) -> dict[str, object]:
    from oneteam.services.epidemic import EpidemicService, EpidemicStore, SubscriberHasher, make_engine

    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "oneteam.sqlite3"
        shutil.copy(consent_db, database)
        store = EpidemicStore(database)
        service = EpidemicService(store, SubscriberHasher(OPERATOR_KEY))
        engine = make_engine(
            engine_name, threads=CORES, memory_limit=DUCKDB_MEMORY_LIMIT if engine_name == "duckdb" else None
        )
        started, cpu_started = time.perf_counter(), cpu_s()
        report = service.run(records, _risk_path(), engine=engine, as_of=AS_OF)
        seconds, cpu_seconds = time.perf_counter() - started, cpu_s() - cpu_started
        again = time.perf_counter()
        repeat = service.run(records, _risk_path(), engine=engine, as_of=AS_OF)
        repeat_s = time.perf_counter() - again
        store.close()
    data = report.as_dict()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "persons": data["exposed_persons"],
        "malformed": data["malformed_rows"],
        "queued": data["queued"],
        "repeat_duplicates": repeat.duplicates,
        "repeat_seconds": repeat_s,
        "steps": data["timings_s"],
    }


def _plain_inputs() -> tuple[list[tuple[str, str, int, int, int]], int]:
    """The risk list expanded to every code a record may carry: (code, disease, start, end, incubation)."""
    from oneteam.services.epidemic.schema import countries, load_risk_list

    rows = []
    for entry in load_risk_list(_risk_path()).entries:
        country = countries()[entry.country]
        for code in (entry.country, *country.mcc):
            rows.append(
                (
                    code,
                    entry.disease,
                    int(entry.window_start.timestamp()),
                    int(entry.window_end.timestamp()),
                    entry.incubation_days * 86_400,
                )
            )
    return rows, int(AS_OF.timestamp())


def _worker_duckdb(records: Path) -> dict[str, object]:
    import duckdb
    import pyarrow as pa

    risk, as_of_s = _plain_inputs()
    con = duckdb.connect()
    con.execute(f"SET threads = {CORES}")
    con.register(
        "risk",
        pa.table(dict(zip(("code", "disease", "ws", "we", "inc"), zip(*risk, strict=True), strict=True))),
    )
    started, cpu_started = time.perf_counter(), cpu_s()
    row = con.execute(
        f"""
        SELECT count(*) FROM (
          SELECT r.subscriber_key, max(least(epoch(r.last_seen)::BIGINT, k.we) + k.inc) AS watch_until
          FROM read_parquet('{records}/**/*.parquet') AS r JOIN risk AS k ON k.code = r.visited
          WHERE epoch(r.first_seen)::BIGINT <= k.we AND epoch(r.last_seen)::BIGINT >= k.ws
          GROUP BY r.subscriber_key
          HAVING max(least(epoch(r.last_seen)::BIGINT, k.we) + k.inc) >= {as_of_s}
        )"""
    ).fetchone()
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": cpu_s() - cpu_started,
        "persons": int(row[0]) if row else 0,
    }


def _worker_polars(records: Path) -> dict[str, object]:
    import polars as pl

    risk_rows, as_of_s = _plain_inputs()
    risk = pl.DataFrame(risk_rows, schema=["code", "disease", "ws", "we", "inc"], orient="row")
    started, cpu_started = time.perf_counter(), cpu_s()
    frame = (
        pl.scan_parquet(f"{records}/**/*.parquet")
        .with_columns(
            first_s=pl.col("first_seen").dt.epoch("s"),
            last_s=pl.col("last_seen").dt.epoch("s"),
        )
        .join(risk.lazy(), left_on="visited", right_on="code")
        .filter((pl.col("first_s") <= pl.col("we")) & (pl.col("last_s") >= pl.col("ws")))
        .with_columns(watch=pl.min_horizontal("last_s", "we") + pl.col("inc"))
        .group_by("subscriber_key")
        .agg(pl.col("watch").max())
        .filter(pl.col("watch") >= as_of_s)
        .select(pl.len())
        .collect(engine="streaming")
    )
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": cpu_s() - cpu_started,
        "persons": int(frame.item()),
    }


def _worker(kind: str, records: Path, consent_db: Path) -> None:
    _pin()
    if kind == "oneteam":
        result = _worker_oneteam(records, consent_db, "duckdb")
    elif kind == "spark":
        result = _worker_oneteam(records, consent_db, "spark")
    elif kind == "duckdb":
        result = _worker_duckdb(records)
    else:
        result = _worker_polars(records)
    result["peak_mib"] = _peak_mib()
    sys.stdout.write(json.dumps(result) + "\n")


# -- the driver ---------------------------------------------------------------------------------


def _prepare(rows: int, cache: Path) -> tuple[Path, Path] | str:
    from oneteam.services.epidemic import EpidemicStore, SubscriberHasher
    from oneteam.services.epidemic.generate import generate, subscriber_count, synthetic_msisdn

    folder = cache / f"rows-{rows}"
    records, consent_db, marker = folder / "records", folder / "consent.sqlite3", folder / "complete.json"
    hasher = SubscriberHasher(OPERATOR_KEY)
    if not (marker.exists() and json.loads(marker.read_text())["rows"] == rows):
        needed = rows * BYTES_PER_ROW * 1.2
        cache.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(cache).free
        if free < needed:
            return (
                f"skipped: needs about {needed / 2**30:.1f} GiB free in {cache}, has {free / 2**30:.1f} GiB"
            )
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        started = time.perf_counter()

        def progress(phase: str, done: int, total: int) -> None:
            print(f"\r  generating {rows:,}: {phase} {done:,}/{total:,}", end="", file=sys.stderr, flush=True)

        generate(records, rows, as_of=AS_OF, hasher=hasher, progress=progress)
        print(file=sys.stderr)
        marker.write_text(json.dumps({"rows": rows, "generated_s": round(time.perf_counter() - started, 1)}))
    # The consent links are rebuilt each run (a second or two): the store's schema may have changed.
    consent_db.unlink(missing_ok=True)
    people = subscriber_count(rows)
    step = max(1, round(1 / CONSENT_SHARE))
    keys = hasher.keys_of(synthetic_msisdn(i) for i in range(0, people, step))
    store = EpidemicStore(consent_db)
    store.link_many(keys, home_ids=[f"home-{i}" for i in range(len(keys))])
    store.close()
    return records, consent_db


def _measure(kind: str, records: Path, consent_db: Path, timeout_s: float) -> dict[str, object] | str:
    command = [
        sys.executable,
        __file__,
        "--worker",
        kind,
        "--records",
        str(records),
        "--consent",
        str(consent_db),
    ]
    env = {**os.environ, "POLARS_MAX_THREADS": str(CORES)}
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return f"over {timeout_s:.0f} s"
    if done.returncode != 0:
        return "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1M,10M,100M")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "oneteam-bench" / "epidemic"
    )
    parser.add_argument("--spark", action="store_true", help="Also time the Spark engine (sizes up to 10M).")
    parser.add_argument("--timeout", type=float, default=120.0, help="Seconds allowed per measurement.")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--records", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--consent", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.records, args.consent)
        return
    print(f"epidemic alerts: {CORES} cores per measurement, {ROUNDS} rounds ({load_line()})")
    print(f"{'rows':>12} {'round':>5} {'what':<42} {'seconds':>8} {'peak MiB':>9} {'persons':>9}")
    kinds = ["oneteam", "duckdb", "polars", *(["spark"] if args.spark else [])]
    labels = {
        "oneteam": "oneteam (full: validate, consent, dedup)",
        "spark": "oneteam on Spark local[2]",
        "duckdb": "anchor: DuckDB plain query",
        "polars": "anchor: Polars plain query",
    }
    for rows in _sizes(args.sizes):
        prepared = _prepare(rows, args.cache)
        if isinstance(prepared, str):
            print(f"{rows:>12,} {prepared}")
            continue
        records, consent_db = prepared
        seconds: dict[str, list[float]] = {kind: [] for kind in kinds}
        peaks: dict[str, list[float]] = {kind: [] for kind in kinds}
        cpus: dict[str, list[float]] = {kind: [] for kind in kinds}
        for round_no in range(1, ROUNDS + 1):
            # Interleaved, so each round's figure sits beside its anchors under the same load.
            for kind in kinds:
                if kind == "spark" and rows > 10_000_000:
                    continue
                result = _measure(kind, records, consent_db, args.timeout)
                if isinstance(result, str):
                    print(f"{rows:>12,} {round_no:>5} {labels[kind]:<42} {result}")
                    continue
                seconds[kind].append(float(result["seconds"]))  # type: ignore[arg-type]
                peaks[kind].append(float(result["peak_mib"]))  # type: ignore[arg-type]
                cpus[kind].append(float(result["cpu_seconds"]))  # type: ignore[arg-type]
                print(
                    f"{rows:>12,} {round_no:>5} {labels[kind]:<42} {seconds[kind][-1]:>8.2f}"
                    f" {peaks[kind][-1]:>9.0f} {int(result['persons']):>9,}"  # type: ignore[call-overload]
                )
                if kind in ("oneteam", "spark"):
                    print(
                        f"{'':>18}   steps {result['steps']}; queued {result['queued']}, same-day rerun "
                        f"{float(result['repeat_seconds']):.2f} s, {result['repeat_duplicates']} duplicates"
                    )  # type: ignore[arg-type]
        print(f"{rows:>12,} summary ({load_line()}):")
        for kind in kinds:
            if seconds[kind]:
                print_rounds(f"{labels[kind]} seconds", seconds[kind], "s")
                print_rounds(f"{labels[kind]} CPU", cpus[kind], "s")
                print_rounds(f"{labels[kind]} peak", peaks[kind], "MiB")
        paired = list(zip(seconds["oneteam"], seconds["duckdb"], strict=False))
        if paired:
            print_rounds("oneteam / DuckDB plain, same round (goal <= 1.5)", [a / b for a, b in paired], "x")
            paired_cpu = list(zip(cpus["oneteam"], cpus["duckdb"], strict=False))
            # CPU seconds (all threads) swing far less than wall time on a shared machine.
            print_rounds("same ratio in CPU seconds", [a / b for a, b in paired_cpu], "x")


if __name__ == "__main__":
    main()
