"""`yibao eval` and `yibao settle` import only what their runs use (issues 22 and 28,
fixed costs).

pandas is imported by pyarrow and DuckDB only as a probe (cli/lean.py keeps it
out of the command's process); networkx only to draw a graph (compiler/graph.py
builds the evaluation order without it); Lark and the checker only when a policy
is not in the policy cache (dsl/policy_cache.py).  Each run is the console script's own entry point in a fresh
process, which reports at exit which of the libraries it had imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from helpers import EXAMPLES, POLICIES

WATCHED = ("pandas", "networkx", "lark", "sqlglot", "yibao.runtime.evaluate",
           "yibao.runtime.tracing")
REPORTING = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(
    name for name in %r
    if name in sys.modules)),
    file=sys.stderr))
sys.argv = ["yibao", *sys.argv[1:]]
from yibao.cli.main import entry
entry()
"""


def imported(tmp_path, *argv: str, watched: tuple[str, ...] = WATCHED
             ) -> tuple[list[str], str]:
    """The ``watched`` modules a run of the command with ``argv`` imported, and its output."""
    run = subprocess.run([sys.executable, "-c", REPORTING % (watched,), *argv],
                         capture_output=True,
                         text=True, timeout=300, check=False,
                         env={**os.environ, "YIBAO_CACHE_DIR": str(tmp_path / "cache")})
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stderr.splitlines()[-1]), run.stdout


def test_a_duckdb_run_imports_neither_pandas_nor_networkx(tmp_path):
    argv = ("eval", str(POLICIES / "benxi-2023.policy"), str(EXAMPLES / "benxi-2023.jsonl"),
            "--backend", "duckdb")
    first, first_out = imported(tmp_path, *argv)
    # the policy parsed and the plan rendered (sqlglot) once; graphs built without networkx
    assert first == ["lark", "sqlglot"]
    again, again_out = imported(tmp_path, *argv)
    assert again == []                      # rendered already: nothing of the compiler
    assert again_out == first_out and first_out.count("\n") > 10


def test_a_program_calling_main_keeps_its_imports(tmp_path):
    """Only the command's own process keeps pandas out: ``main()`` is a library call."""
    script = ("import sys\nfrom yibao.cli.main import main\n"
              f"main(['eval', {str(POLICIES / 'benxi-2023.policy')!r}, "
              f"{str(EXAMPLES / 'benxi-2023.jsonl')!r}, '--backend', 'duckdb'])\n"
              "import pandas\nprint(pandas.__name__)\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, check=False,
                         env={**os.environ, "YIBAO_CACHE_DIR": str(tmp_path / "cache")})
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "pandas"


def test_a_daily_settle_imports_neither_networkx_nor_the_parser(tmp_path):
    """Settling builds its evaluators without networkx (compiler/graph.py) and without
    the trace's modules (runtime/evaluate.py builds its traced plan when a trace is
    asked for), and a policy loaded once comes from the policy cache
    (dsl/policy_cache.py) without Lark."""
    book = str(tmp_path / "book.db")
    claims = tmp_path / "claims.jsonl"
    lines = (EXAMPLES / "benxi-2023.jsonl").read_text(encoding="utf-8").splitlines()
    argv = ("settle", str(POLICIES / "benxi-2023.policy"), str(claims), "--book", book)
    claims.write_text(lines[0] + "\n", encoding="utf-8")
    first, _ = imported(tmp_path, *argv)
    assert first == ["lark", "yibao.runtime.evaluate"]     # parsed and checked, once
    claims.write_text(lines[1] + "\n", encoding="utf-8")
    again, out = imported(tmp_path, *argv)
    assert again == ["yibao.runtime.evaluate"]
    assert json.loads(out)["kind"] == "settlement"


def test_a_parquet_run_with_its_plan_cached_imports_no_sqlglot(tmp_path):
    """``--backend auto`` on Parquet (the columnar engine): the SQL modules build their
    expressions through backends/sql.py's lazy ``exp``, and the plan comes from the
    cache, so sqlglot is never imported (issue 28 §3)."""
    from yibao.api import load_engine
    from yibao.backends.formats import write_records

    engine = load_engine(POLICIES / "benxi-2023.policy")
    claims = tmp_path / "claims.parquet"
    lines = (EXAMPLES / "benxi-2023.jsonl").read_text(encoding="utf-8").splitlines()
    write_records([json.loads(line) for line in lines], str(claims), "parquet", engine.versions)
    argv = ("eval", str(POLICIES / "benxi-2023.policy"), str(claims),
            "-o", str(tmp_path / "results.parquet"))
    first, _ = imported(tmp_path, *argv)
    assert "sqlglot" in first                  # rendered once
    again, _ = imported(tmp_path, *argv)
    assert again == []


def test_a_batch_run_imports_no_audit_store(tmp_path):
    """A batch run (here the columnar engine on JSON Lines) never records: the audit
    store, its hash chain and orjson stay out of its start-up."""
    argv = ("eval", str(POLICIES / "benxi-2023.policy"), str(EXAMPLES / "benxi-2023.jsonl"),
            "--backend", "columnar", "-o", str(tmp_path / "results.jsonl"))
    audit = ("yibao.audit.store", "yibao.audit.chain", "orjson")
    assert imported(tmp_path, *argv, watched=audit)[0] == []
    record = ("eval", str(POLICIES / "benxi-2023.policy"), str(EXAMPLES / "benxi-2023.jsonl"),
              "--record", str(tmp_path / "store.db"), "-o", str(tmp_path / "recorded.jsonl"))
    assert "yibao.audit.store" in imported(tmp_path, *record, watched=audit)[0]


def test_a_parquet_run_starts_reading_before_it_imports_the_engine(tmp_path):
    """``yibao eval CLAIMS.parquet`` starts reading its claims on a thread as soon as its
    options are parsed (cli/batch_io.py, read_ahead), with pyarrow alone imported: the
    claims' model, attrs, the policy loader and the engines are imported while the file
    is read.  The columnar engine never imports DuckDB for a Parquet file (the DuckDB
    runner's module it derives from runs no statement)."""
    from yibao.api import load_engine
    from yibao.backends.formats import write_records

    engine = load_engine(POLICIES / "benxi-2023.policy")
    claims = tmp_path / "claims.parquet"
    lines = (EXAMPLES / "benxi-2023.jsonl").read_text(encoding="utf-8").splitlines()
    write_records([json.loads(line) for line in lines], str(claims), "parquet", engine.versions)
    engine_modules = ("attrs", "yibao.core.diagnostics", "yibao.runtime.claims",
                      "yibao.runtime.batch", "yibao.dsl.policy_cache",
                      "yibao.backends.columnar.runner", "duckdb")
    script = ("import json, sys\n"
              "from yibao.backends import parquet_claims\n"
              "original = parquet_claims.ParquetRead.__init__\n"
              "def noting(self, path):\n"
              f"    print(json.dumps([m for m in {engine_modules!r} if m in sys.modules]),"
              " file=sys.stderr)\n"
              "    original(self, path)\n"
              "parquet_claims.ParquetRead.__init__ = noting\n"
              + REPORTING % (("duckdb",),))
    argv = ("eval", str(POLICIES / "benxi-2023.policy"), str(claims),
            "-o", str(tmp_path / "results.parquet"))
    run = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True,
                         text=True, timeout=300, check=False,
                         env={**os.environ, "YIBAO_CACHE_DIR": str(tmp_path / "cache")})
    assert run.returncode == 1, run.stderr          # bx-0013 is refused (C307)
    told = run.stderr.splitlines()
    assert json.loads(told[0]) == []                  # when the read starts
    assert json.loads(told[-1]) == []                 # at exit: no DuckDB


def test_the_walk_before_a_settle_is_forked_before_the_evaluator_is_imported():
    """``yibao settle`` forks the walk of its book's chain (audit/verify_ahead.py) as soon
    as the walk's modules are imported, so that it runs on the core the rest of the
    start-up leaves idle: those modules import neither the book's settling, the
    evaluator, nor the policy language (audit/book_index.py, dsl/source_digest.py)."""
    heavy = ("yibao.audit.book", "yibao.runtime.batch", "yibao.runtime.evaluate",
             "yibao.dsl.ast", "yibao.dsl.loader", "yibao.dsl.model")
    script = ("import json, sys\nimport yibao.audit.verify_ahead\n"
              f"print(json.dumps(sorted(n for n in {heavy!r} if n in sys.modules)))\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == []
