"""The same SQL on Spark gives exactly DuckDB's alerts (`make test-spark`; needs Java 17+ and PySpark)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from oneteam.services.epidemic.engine import AlertQuery, QueryResult
from oneteam.services.epidemic.engine_duckdb import DuckDBEngine
from oneteam.services.epidemic.generate import generate
from oneteam.services.epidemic.privacy import SubscriberHasher
from oneteam.services.epidemic.schema import RiskList
from tests.services.epidemic.conftest import AS_OF, known_records, write_known_records

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark_engine() -> Iterator[object]:
    pytest.importorskip("pyspark", reason="PySpark is not installed (pip install -e '.[spark]')")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed")
    from oneteam.services.epidemic.engine_spark import SparkEngine

    engine = SparkEngine(master="local[2]", shuffle_partitions=4)
    yield engine
    engine.stop()


def _both(spark_engine: object, query: AlertQuery) -> tuple[QueryResult, QueryResult]:
    return DuckDBEngine().run(query), spark_engine.run(query)  # type: ignore[attr-defined]


def _same(duck: QueryResult, spark: QueryResult) -> None:
    assert spark.exposures == duck.exposures
    assert spark.alerts == duck.alerts
    assert dict(spark.problems) == dict(duck.problems)
    assert dict(spark.unknown_codes) == dict(duck.unknown_codes)
    assert spark.examples == duck.examples
    assert (spark.rows_total, spark.exposed_persons, spark.exposed_records) == (
        duck.rows_total,
        duck.exposed_persons,
        duck.exposed_records,
    )


def test_spark_and_duckdb_agree_on_hand_written_csv_records(
    spark_engine: object, tmp_path: Path, hasher: SubscriberHasher, risk: RiskList
) -> None:
    write_known_records(tmp_path, hasher)
    key = known_records(hasher)
    consent = [
        ("link-mother", key["mother"], "", "ko"),
        ("link-father", key["father"], "", "ko"),
        ("link-son", key["son"], "", "ko"),
    ]
    duck, spark = _both(
        spark_engine,
        AlertQuery(records_dir=tmp_path, risk=risk, as_of=AS_OF, consent=consent, collect_all=True),
    )
    _same(duck, spark)
    assert [a.link_id for a in spark.alerts] == ["link-father", "link-mother"]
    assert spark.malformed_rows == 11 and spark.exposed_persons == 3


def test_spark_and_duckdb_agree_on_generated_parquet(
    spark_engine: object, tmp_path: Path, hasher: SubscriberHasher, risk: RiskList
) -> None:
    generate(tmp_path, 30_000, as_of=AS_OF, hasher=hasher, malformed_rate=0.002)
    query = AlertQuery(records_dir=tmp_path, risk=risk, as_of=AS_OF, collect_all=True)
    duck, spark = _both(spark_engine, query)
    _same(duck, spark)
    assert len(spark.exposures) > 1000
