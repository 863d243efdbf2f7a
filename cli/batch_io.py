"""`yibao eval` at scale: ``--backend``, ``--input-format``, ``--output-format``, ``--progress``.

``yibao eval`` hands a run here when it asks for anything beyond the scalar
evaluator on JSON Lines: a SQL backend (DuckDB embedded, Spark), CSV or
Parquet claims, Parquet results, or a progress bar.  The backends return the
same outcomes as the scalar evaluator (tests/backends/test_differential.py);
they never build a trace.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import TYPE_CHECKING, Iterator

from yibao.cli.io import output_file
from yibao.cli.main import EXIT_CLAIMS_FAILED, EXIT_OK, EXIT_USAGE
from yibao.cli.outcomes import report_failures
from yibao.core.jsonl import write_lines

# The engines, the claims' model and the policy loader are imported by the functions
# that use them: ``yibao eval CLAIMS.parquet`` starts reading the claims as soon as its
# options are parsed, and what it imports until then delays the read (read_ahead).
if TYPE_CHECKING:
    from yibao.backends.parquet_claims import ParquetRead
    from yibao.runtime.batch import Engine
    from yibao.runtime.claims import ClaimError

AUTO = "auto"
# JSON Lines files from this size take the columnar engine under --backend auto.  The
# scalar evaluator starts ≈ 0.6 s of CPU sooner (no DuckDB, no Arrow) and settles a
# claim in ≈ 0.1 ms, the columnar engine in ≈ 0.01: they cross near 7,000 claims,
# 10,000 claims (3.4 MB) took 1.7 s of CPU scalar and 1.5 columnar, 3,000 (1 MB)
# 0.85 against 1.7 (benchmarks/RESULTS.md, "The command line end to end").  A
# synthetic claim line is ≈ 340 bytes, so 2 MiB is ≈ 6,000 claims.
COLUMNAR_JSON_LINES_BYTES = 2 << 20
# What the columnar engine imports (the ``batch`` extra)
BATCH_MODULES = ("duckdb", "pyarrow", "numpy")
BACKENDS = (AUTO, "scalar", "columnar", "duckdb", "spark")
INPUT_FORMATS = ("jsonl", "csv", "parquet")
OUTPUT_FORMATS = ("jsonl", "parquet")


def add_arguments(parser) -> None:
    parser.add_argument("--backend", choices=BACKENDS, default=AUTO,
                        help="auto (default: columnar for CSV/Parquet claims, Parquet results "
                             "or a JSON Lines file of 2 MiB or more, else scalar), scalar "
                             "(traces), columnar (NumPy over DuckDB's admission), duckdb "
                             "(embedded SQL) or spark")
    parser.add_argument("--input-format", choices=INPUT_FORMATS,
                        help="claims format (default: from the file name, else jsonl)")
    parser.add_argument("--output-format", choices=OUTPUT_FORMATS,
                        help="results format (default: from -o's name, else jsonl)")
    parser.add_argument("--progress", action="store_true",
                        help="show a progress bar on stderr")


def chosen_backend(args) -> str:
    """``--backend auto`` (the default) as the engine that settles this run.

    The columnar engine is the fastest exact one (benchmarks/RESULTS.md), so a run that
    is a batch already — CSV or Parquet claims, Parquet results — takes it, unless it
    asks for what only the scalar evaluator gives (traces, --stream, --record, --jobs,
    the text table).  So does a JSON Lines file of COLUMNAR_JSON_LINES_BYTES or more
    when the ``batch`` extra is installed.  Smaller JSON Lines, and standard input
    (its size is not known, and a pipe's reader may want each result as it is
    settled), stay with the scalar evaluator: for the few claims of a file typed by
    hand it is done before DuckDB has started, and it says nothing of it."""
    if args.backend != AUTO:
        return args.backend
    scalar_only = (args.trace or args.stream or getattr(args, "record", None)
                   or getattr(args, "jobs", 1) > 1 or args.format == "text")
    if not scalar_only and (_beyond_json_lines(args, "scalar") or _large_json_lines(args)):
        return "columnar"
    return "scalar"


def _large_json_lines(args) -> bool:
    """A JSON Lines file (not standard input, not a pipe) of COLUMNAR_JSON_LINES_BYTES or
    more, with the columnar engine's libraries at hand."""
    if args.claims == "-" or not os.path.isfile(args.claims):
        return False
    if os.path.getsize(args.claims) < COLUMNAR_JSON_LINES_BYTES:
        return False
    from importlib.util import find_spec

    return all(find_spec(name) is not None for name in BATCH_MODULES)


def wants_batch(args) -> bool:
    """Does this run need more than the scalar evaluator on JSON Lines?"""
    return args.progress or beyond_json_lines(args)


def beyond_json_lines(args) -> bool:
    """A SQL backend, or claims or results in another format than JSON Lines?"""
    return _beyond_json_lines(args, chosen_backend(args))


def _beyond_json_lines(args, backend: str) -> bool:
    return (backend != "scalar"
            or args.input_format not in (None, "jsonl")
            or _output_format(args) == "parquet"
            or (args.input_format is None and _format_of(args.claims, INPUT_FORMATS) != "jsonl"))


@contextlib.contextmanager
def read_ahead(args, fmt: str) -> Iterator[ParquetRead | None]:
    """For a run of the columnar engine on a Parquet file, the file's read started now on
    a thread of its own (backends/parquet_claims.py), else None; given up on leaving if
    the run did not take the table (a refused option, a policy that does not load).

    Reading 10^6 claims takes ≈ 0.3 s, and so do the imports, the policy and the
    runner that come before the engine asks for them: side by side, on the two cores,
    the engine starts ≈ 0.2 s sooner (benchmarks/RESULTS.md, "The command line end to
    end").  Only a run that will read the file is given a read: the checks of
    :func:`_incompatible` come first, and ``--memory-limit``'s (cli/eval.py) gives up
    the read it refuses."""
    wanted = (args.backend == "columnar" and fmt == "parquet" and args.claims != "-"
              and getattr(args, "jobs", 1) == 1 and not getattr(args, "record", None)
              and not getattr(args, "resume", False) and _incompatible(args) is None)
    if not wanted:
        yield None
        return
    from yibao.backends.parquet_claims import ParquetRead

    read = ParquetRead(args.claims)
    try:
        yield read
    finally:
        read.cancel()


def run_batch(args, read: ParquetRead | None = None) -> int:
    """``read``: the claims file's read started already (:func:`read_ahead`)."""
    from yibao.dsl.policy_cache import load_policy_cached
    from yibao.runtime.batch import Engine

    problem = _incompatible(args)
    if problem:
        print(f"yibao: {problem}", file=sys.stderr)
        return EXIT_USAGE
    engine = Engine(load_policy_cached(args.policy))
    fmt = claims_format(args)
    failures: list[ClaimError] = []
    if args.backend == "scalar":
        _write(args, engine, noting_failures(_scalar(engine, args, fmt), failures))
        report_failures(failures)
    else:
        failures = _columnar(engine, args, fmt, read)   # reported there
    return EXIT_CLAIMS_FAILED if failures else EXIT_OK


def _incompatible(args) -> str | None:
    columnar = args.backend != "scalar"
    if columnar and args.trace:
        return f"--backend {args.backend} settles without traces: drop --trace or use scalar"
    if columnar and args.stream:
        return "--stream is the scalar evaluator's mode: drop it with --backend " + args.backend
    if getattr(args, "record", None):
        return "--record works with the scalar evaluator on JSON Lines, without --progress"
    if columnar and args.format == "text":
        return "--format text needs the scalar evaluator's results: use --backend scalar"
    if _output_format(args) == "parquet" and not args.output:
        return "--output-format parquet writes a file: give -o PATH"
    if args.claims == "-" and (args.input_format or "jsonl") != "jsonl":
        return "only JSON Lines can come from stdin"
    return None


def claims_format(args) -> str:
    """The claims file's format: as given, or from its name (default JSON Lines)."""
    return args.input_format or _format_of(args.claims, INPUT_FORMATS)


def _format_of(path: str | None, formats) -> str:
    for name in formats:
        if path and str(path).endswith("." + name):
            return name
    return "jsonl"


def _output_format(args) -> str:
    return args.output_format or _format_of(args.output, OUTPUT_FORMATS)


def _scalar(engine: Engine, args, fmt: str):
    from yibao.backends.formats import read_records

    bar = progress_bar(args, "claims", unit="claim")
    if bar is not None:
        engine = _counting(engine.loaded, bar)
    records = read_records(args.claims, fmt)
    settled = (engine.stream_records(records, args.trace, args.ids_in_memory) if args.stream
               else engine.evaluate_records(records, args.trace))
    try:
        yield from settled
    finally:
        if bar is not None:
            bar.close()


def _counting(loaded, bar) -> Engine:
    """The engine, ticking a progress bar for every claim it settles."""
    from yibao.runtime.batch import Engine

    class Counting(Engine):
        def evaluate_claim(self, claim, ledger, trace=False):
            try:
                return super().evaluate_claim(claim, ledger, trace)
            finally:
                bar.update(1)

    return Counting(loaded)


def _columnar(engine: Engine, args, fmt: str, read: ParquetRead | None = None
              ) -> list[ClaimError]:
    """Settle with a SQL backend, write the results and report the refused claims; them,
    in order.  ``read``: the claims file's read started already (:func:`read_ahead`)."""
    from yibao.backends.duckdb_runner import STAGES
    from yibao.backends.run import run_backend

    if read is not None:
        # What settling and writing import, imported while the file is read rather
        # than after (≈ 0.1 s: pyarrow's compute functions, numpy.ma, the writer).
        import yibao.backends.columnar.typed  # noqa: F401
        import yibao.backends.results_columns  # noqa: F401
    bar = progress_bar(args, "stages", total=len(STAGES) + 1, unit="stage")

    def step(stage: str) -> None:
        if bar is not None:
            bar.set_postfix_str(stage)
            bar.update(1)

    reported = []

    def report() -> None:
        """What stderr says of the run: the engine an ``auto`` run took, the refusals."""
        if getattr(args, "backend_chosen", False):
            print(f"yibao: {settled_by(batch)} (--backend auto)", file=sys.stderr)
        report_failures(failures)
        reported.append(True)

    try:
        batch = run_backend(engine, args.claims, fmt, args.backend, progress=step,
                            memory_limit=getattr(args, "memory_limit", None), read=read)
        failures = [batch.errors[idx] for idx in sorted(batch.errors)]
        # Parquet results go to a file, not beside stderr: the refusals (12,471 lines at
        # 10^6 synthetic claims, ≈ 0.03 s) are reported while the file is encoded
        _write_columns(args, engine, batch, report if bar is None else None)
        step("write")
    finally:
        if bar is not None:
            bar.close()
    if not reported:
        report()
    return failures


def settled_by(batch) -> str:
    """Which engine settled the run, for the line an ``auto`` run ends with."""
    settled = batch.count - len(batch.errors)
    said = (f"settled {settled:,} of {batch.count:,} claims with the {batch.settled_by} "
            f"engine, {batch.walked:,} of them walked by {_WALKED_BY[batch.walked_by]}")
    if batch.presumed:   # backends/columnar/presumed.py
        said += f", {batch.presumed:,} under a presumed winner, checked"
    return said


_WALKED_BY = {"duckdb": "DuckDB", "numpy": "NumPy"}   # BatchResults.walked_by, as said


def progress_bar(args, what: str, **options):
    if not args.progress:
        return None
    from tqdm import tqdm

    return tqdm(desc=f"yibao {args.backend}: {what}", file=sys.stderr, mininterval=0.5,
                **options)


def noting_failures(outcomes, failures: list[ClaimError]):
    """The scalar evaluator's outcomes as they pass, noting the refused ones."""
    from yibao.runtime.claims import ClaimError

    for outcome in outcomes:
        if isinstance(outcome, ClaimError):
            failures.append(outcome)
        yield outcome


def _write_columns(args, engine: Engine, batch, meanwhile=None) -> None:
    """A SQL backend's results, written column by column (backends/results_columns.py):
    the same file as writing ``batch.exchange()``'s dicts, several times faster.
    ``meanwhile``: what this thread may do while a Parquet file is encoded."""
    from yibao.backends.results_columns import write_jsonl, write_parquet

    if _output_format(args) == "parquet":
        write_parquet(batch, args.output, meanwhile)
        return
    if args.format == "json":   # one indented array: for a handful of claims, by hand
        _write(args, engine, batch.exchange())
        return
    if not args.output:
        sys.stdout.flush()
        binary = getattr(sys.stdout, "buffer", None)   # None: stdout replaced by a StringIO
        write_jsonl(batch, binary if binary is not None else _TextSink(sys.stdout))
        sys.stdout.flush()
        return
    with open(args.output, "wb") as out:
        write_jsonl(batch, out)


class _TextSink:
    """A text stream taking the UTF-8 bytes write_jsonl gives."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, data) -> None:
        self.stream.write(bytes(data).decode("utf-8"))


def _as_json(outcome, trace: bool) -> dict:
    from yibao.runtime.results import outcome_to_json

    return outcome if isinstance(outcome, dict) else outcome_to_json(outcome, trace)


def _write(args, engine: Engine, outcomes) -> None:
    from yibao.runtime.results import outcome_line

    if _output_format(args) == "parquet":
        from yibao.backends.results_io import write_results

        write_results((_as_json(o, False) for o in outcomes), args.output, "parquet",
                      engine.versions)
        return
    with output_file(args.output) as out:
        if args.format == "json":
            data = [_as_json(o, args.trace) for o in outcomes]
            out.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        elif args.format == "text":
            from yibao.explain.summary import render_summary

            out.write(render_summary(list(outcomes)))
        else:
            write_lines((outcome if isinstance(outcome, dict) else outcome_line(outcome, args.trace)
                         for outcome in outcomes), out)
