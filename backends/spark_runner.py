"""``--backend spark``: the same plan on a Spark cluster (local mode in the tests).

Every statement is the plan's SQL rendered for Spark.  One stage differs in
how it runs, not in what it computes: the per-person walk.  Spark's recursive
CTE re-joins the whole claims table at every level (measured: over 8 minutes
for 10^6 rows × 50 levels, against 1 s in DuckDB), so the walk's claims are
shuffled by person-year and each partition runs the walk's recursive SQL —
the very statement the DuckDB backend runs — in an embedded DuckDB inside
the executor (``mapInArrow``).  Executors therefore need ``duckdb`` and
``pyarrow`` (``pip install 'yibao[spark]'``), nothing else of yibao.

A cluster: ``SparkSession.builder.master("spark://host:7077")`` (or YARN,
Kubernetes) and a claims path every executor can read; see the README.
"""

from __future__ import annotations

from typing import Callable

from yibao.backends.outcomes import (BatchResults, Refusals, arrow_typed_schema,
                                     validate_suspects)
from yibao.backends.plan import SettlementPlan
from yibao.backends.spark_io import fetch_records, load_source, raw_select

DIALECT = "spark"
STAGES = ("read", "admit", "validate", "route", "settle", "results")
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": "2g",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # The lowering names every intermediate value once, level by level; collapsing
    # the levels would inline each name wherever it is read, and the expressions
    # grow exponentially with the depth of the graph (seen: out of memory on 2,000
    # claims).  Keep the projections apart.
    "spark.sql.optimizer.excludedRules":
        "org.apache.spark.sql.catalyst.optimizer.CollapseProject",
    "spark.sql.maxPlanStringLength": "65536",
}


def local_session(master: str | None = None, conf: dict | None = None):
    """A Spark session: ``master``, else $YIBAO_SPARK_MASTER (a cluster's URL), else local."""
    import os
    import sys

    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    master = master or os.environ.get("YIBAO_SPARK_MASTER", "local[2]")
    builder = SparkSession.builder.master(master).appName("yibao")
    # Python workers run this interpreter (the venv with duckdb and pyarrow).
    settings = {**LOCAL_CONF, "spark.pyspark.python": sys.executable, **(conf or {})}
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkRunner:
    def __init__(self, engine, spark=None):
        self.engine = engine
        self.plan = SettlementPlan(engine.loaded)
        self.spark = spark or local_session()

    def run(self, path: str, fmt: str, progress: Callable[[str], None] | None = None
            ) -> BatchResults:
        step = progress or (lambda stage: None)
        spark, plan, columns = self.spark, self.plan, self.plan.columns
        types = load_source(spark, path, fmt)
        spark.sql(raw_select(columns, fmt, types)).createOrReplaceTempView("raw_claims")
        step("read")
        claims = self._view("claims", plan.claims("raw_claims", DIALECT))
        count = claims.count()
        step("admit")
        refusals = self._validate(fmt)
        step("validate")
        self._view("slow_py", plan.slow_person_years("settleable"))
        self._view("fast_claims", plan.fast_claims("settleable", "slow_py"))
        walk_claims = self._view("walk_claims", plan.walk_claims("settleable", "slow_py"))
        walked = walk_claims.count()
        step("route")
        settled = spark.sql(plan.window_settled("fast_claims").sql(DIALECT))
        if walked:
            settled = settled.unionByName(self._walk(walk_claims, settled.schema))
        settled = settled.localCheckpoint()
        settled.createOrReplaceTempView("settled")
        step("settle")
        results = _collect(spark.sql(plan.results("settled", "claims").sql(DIALECT)))
        step("results")
        return BatchResults(columns, results, refusals.errors, count, walked, "spark")

    def _view(self, name: str, statement):
        """Materialise a stage; the checkpoint cuts its lineage, so later plans stay small."""
        frame = self.spark.sql(statement.sql(DIALECT)).localCheckpoint()
        frame.createOrReplaceTempView(name)
        return frame

    def _validate(self, fmt: str) -> Refusals:
        spark, plan, columns = self.spark, self.plan, self.plan.columns
        suspects = [row.idx for row in spark.sql(
            "SELECT idx FROM claims WHERE suspect ORDER BY idx").collect()]
        accepted, errors = validate_suspects(self.engine, columns,
                                             fetch_records(spark, fmt, suspects))
        valid = "SELECT * FROM claims WHERE NOT suspect"
        if accepted:
            import pyarrow as pa

            table = pa.Table.from_pylist(accepted, arrow_typed_schema(columns))
            spark.createDataFrame(table).createOrReplaceTempView("accepted")
            valid += " UNION ALL " + plan.accepted("accepted", DIALECT).sql(DIALECT)
        spark.sql(valid).localCheckpoint().createOrReplaceTempView("valid")
        if spark.sql(plan.collisions("valid").sql(DIALECT)).collect()[0][0]:
            self._view("valid", plan.dense_keys("valid"))
        refusals = Refusals(plan, errors)
        copies = None
        if spark.sql(plan.duplicate_ids("valid").sql(DIALECT)).limit(1).count():
            self._view("duplicated", plan.duplicate_ids("valid"))
            refusals.copies([tuple(r) for r in self._view(
                "copies", plan.later_copies("valid", "duplicated")).collect()])
            copies = "copies"
        self._view("settleable", plan.settleable("valid", copies))
        refusals.unspecified([tuple(r) for r in spark.sql(
            plan.unspecified_claims("valid").sql(DIALECT)).collect()])
        return refusals

    def _walk(self, walk_claims, schema):
        """Each partition's person-years walked by the plan's recursive SQL in DuckDB."""
        statement = self.plan.walk_settled("walk_claims").sql("duckdb")
        arrow_schema = _arrow_schema(schema)

        def walk_partition(batches):
            import duckdb
            import pyarrow as pa

            tables = list(batches)
            if not tables:
                return
            con = duckdb.connect()
            con.register("walk_claims", pa.Table.from_batches(tables))
            result = con.sql(statement).to_arrow_table()
            yield from result.select(arrow_schema.names).cast(arrow_schema).to_batches()

        partitioned = walk_claims.repartition("py")
        return partitioned.mapInArrow(walk_partition, schema)


def _collect(frame):
    """The result rows on the driver, as Arrow (``toArrow`` can stall on local mode)."""
    import pyarrow as pa

    names = frame.columns
    rows = frame.collect()
    # Typed from Spark's schema: a column that is all NULL (no claim with an identity,
    # every claim refused) would otherwise come back with Arrow's null type.
    return pa.table({name: [row[i] for row in rows] for i, name in enumerate(names)},
                    schema=_arrow_schema(frame.schema))


def _arrow_schema(schema):
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(schema)
