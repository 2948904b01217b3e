"""The alert query on Apache Spark (PySpark): the same SQL text, for nationwide scale on a cluster.

Locally it runs Spark in this process's JVM (`local[N]`); on a cluster pass the master URL.
PySpark is an optional extra (`pip install 'oneteam[spark]'`) and needs Java 17 or later.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from oneteam.services.epidemic import sql
from oneteam.services.epidemic.engine import (
    AlertQuery,
    QueryResult,
    RecordFiles,
    Stopwatch,
    alert_from_row,
    count_rows,
    example_from_row,
    exposure_from_row,
    find_record_files,
    small_tables,
    within_retention,
)
from oneteam.services.epidemic.errors import EngineUnavailable, RecordsError
from oneteam.services.epidemic.schema import RECORD_COLUMNS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_LOGGER = logging.getLogger(__name__)

# The same reading rules as engine_duckdb: what does not cast becomes NULL and is counted.
_PARQUET_COLUMNS = (
    "try_cast(subscriber_key AS BIGINT) AS subscriber_key",
    "try_cast(visited AS STRING) AS visited",
    "unix_seconds(try_cast(first_seen AS TIMESTAMP)) AS first_seen_s",
    "unix_seconds(try_cast(last_seen AS TIMESTAMP)) AS last_seen_s",
    "CAST(NULL AS STRING) AS first_seen_raw",
    "CAST(NULL AS STRING) AS last_seen_raw",
)
_CSV_COLUMNS = (
    "try_cast(trim(subscriber_key) AS BIGINT) AS subscriber_key",
    "upper(trim(visited)) AS visited",
    "unix_seconds(try_cast(trim(first_seen) AS TIMESTAMP)) AS first_seen_s",
    "unix_seconds(try_cast(trim(last_seen) AS TIMESTAMP)) AS last_seen_s",
    "first_seen AS first_seen_raw",
    "last_seen AS last_seen_raw",
)


class SparkEngine:
    """Runs sql.py on Spark."""

    name = "spark"

    def __init__(self, *, master: str = "local[2]", shuffle_partitions: int = 8) -> None:
        self._master = master
        self._shuffle_partitions = shuffle_partitions

    def _session(self) -> SparkSession:
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise EngineUnavailable(
                "spark", "PySpark is not installed (pip install 'oneteam[spark]')"
            ) from exc
        try:
            builder: Any = SparkSession.builder
            # Typed through a variable, not `type: ignore`: mypy must pass with and without PySpark.
            session: SparkSession = (
                builder.master(self._master)
                .appName("oneteam-epidemic")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.shuffle.partitions", str(self._shuffle_partitions))
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .getOrCreate()
            )
            return session
        except Exception as exc:  # The JVM's failures arrive as many unrelated types.
            raise EngineUnavailable("spark", f"cannot start Spark: {str(exc).splitlines()[0]}") from exc

    def run(self, query: AlertQuery) -> QueryResult:
        """Run the alert query over the records of `query.records_dir`."""
        watch = Stopwatch()
        files = within_retention(find_record_files(query.records_dir), query.as_of)
        with watch.step("start"):
            spark = self._session()
        from pyspark.errors import PySparkException

        try:
            with watch.step("load"):
                _records_view(spark, files).createOrReplaceTempView("records_in")
                for name, columns in small_tables(query).items():
                    _small_frame(spark, name, columns).createOrReplaceTempView(name)
            with watch.step("count"):
                past_rows = count_rows(files.past_retention)
                rows_total = int(spark.sql(sql.ROW_COUNT).collect()[0][0]) + past_rows
            with watch.step("validate"):
                problem_summary = spark.sql(sql.PROBLEM_SUMMARY).cache()
                problem_summary.count()
                problem_summary.createOrReplaceTempView("problem_summary")
            with watch.step("exposures"):
                exposures = spark.sql(sql.EXPOSURES).cache()
                exposures.count()
                exposures.createOrReplaceTempView("exposures")
            with watch.step("alerts"):
                persons, records = spark.sql(sql.EXPOSURE_COUNTS).collect()[0]
                alerts = tuple(alert_from_row(tuple(row)) for row in spark.sql(sql.ALERTS).collect())
                everyone = (
                    tuple(exposure_from_row(tuple(row)) for row in spark.sql(sql.ALL_EXPOSURES).collect())
                    if query.collect_all
                    else ()
                )
            with watch.step("report"):
                problems = {str(r[0]): int(r[1]) for r in spark.sql(sql.PROBLEM_COUNTS).collect()}
                unknown = {str(r[0]): int(r[1]) for r in spark.sql(sql.UNKNOWN_CODES).collect()}
                examples = tuple(example_from_row(tuple(r)) for r in spark.sql(sql.EXAMPLES).collect())
            problem_summary.unpersist()
            exposures.unpersist()
        except PySparkException as exc:
            raise RecordsError(str(exc).strip().splitlines()[0]) from exc
        return QueryResult(
            engine=self.name,
            rows_total=rows_total,
            problems=problems,
            unknown_codes=unknown,
            examples=examples,
            exposed_persons=int(persons),
            exposed_records=int(records),
            alerts=alerts,
            exposures=everyone,
            timings_s=watch.timings_s,
            rows_past_retention=past_rows,
        )

    def stop(self) -> None:
        """Stop the Spark session of this process (frees the JVM's memory)."""
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if active is not None:
            active.stop()


def _records_view(spark: SparkSession, files: RecordFiles) -> DataFrame:
    frames: list[DataFrame] = []
    if files.parquet:
        frame = spark.read.option("mergeSchema", "true").parquet(*[str(p) for p in files.parquet])
        frames.append(_checked(frame, _PARQUET_COLUMNS))
    if files.csv:
        frame = (
            spark.read.option("header", "true")
            .option("inferSchema", "false")
            .option("mode", "PERMISSIVE")
            .csv([str(p) for p in files.csv])
        )
        frames.append(_checked(frame, _CSV_COLUMNS))
    if not frames:  # every file lies before the retention limit
        return spark.sql(
            "SELECT CAST(NULL AS BIGINT) AS subscriber_key, CAST(NULL AS STRING) AS visited,"
            " CAST(NULL AS BIGINT) AS first_seen_s, CAST(NULL AS BIGINT) AS last_seen_s,"
            " CAST(NULL AS STRING) AS first_seen_raw, CAST(NULL AS STRING) AS last_seen_raw LIMIT 0"
        )
    combined = frames[0]
    for frame in frames[1:]:
        combined = combined.unionByName(frame)
    return combined


def _checked(frame: DataFrame, columns: tuple[str, ...]) -> DataFrame:
    missing = [c for c in RECORD_COLUMNS if c not in frame.columns]
    if missing:
        raise RecordsError(f"missing columns {', '.join(missing)} (expected {', '.join(RECORD_COLUMNS)})")
    return frame.selectExpr(*columns)


def _small_frame(spark: SparkSession, name: str, columns: dict[str, list[Any]]) -> DataFrame:
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    text = {"code", "iso2", "country", "disease", "link_id", "label", "language"}
    schema = StructType(
        [StructField(col, StringType() if col in text else LongType(), nullable=True) for col in columns]
    )
    rows = list(zip(*columns.values(), strict=True))
    return spark.createDataFrame(rows, schema=schema)
