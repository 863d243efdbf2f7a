"""`yibao eval POLICY CLAIMS`: settle claims; results in docs/claims.md's format.

With ``--record STORE`` every outcome is also appended to an audit store
(:mod:`yibao.audit`), in transactions of ``--commit-every`` lines; a result is
written out only after the transaction holding it has committed, so whatever
was reported is in the store.  ``--resume`` continues the store's latest,
interrupted batch without recording any line twice.
"""

from __future__ import annotations

import argparse
import json
import sys

from typing import TYPE_CHECKING

from yibao.cli.batch_io import (AUTO, add_arguments as add_batch_arguments, beyond_json_lines,
                                chosen_backend,
                                claims_format, noting_failures as _noting_failures,
                                progress_bar, read_ahead, run_batch, wants_batch)
from yibao.cli.io import output_file
from yibao.cli.main import EXIT_CLAIMS_FAILED, EXIT_OK, EXIT_USAGE
from yibao.cli.outcomes import (add_encoding_argument, refuse_claims_file, report_failures,
                                settle_file)
from yibao.runtime.claim_ids import DEFAULT_IN_MEMORY
from yibao.core.jsonl import write_lines

# The claims' model, the results and the readers are imported where they are used:
# a Parquet run starts reading before it imports them (cli/batch_io.py, read_ahead).
if TYPE_CHECKING:
    from yibao.backends.parquet_claims import ParquetRead
    from yibao.runtime.claims import ClaimError


def register(commands) -> None:
    evaluate = commands.add_parser("eval", help="settle claims (JSON Lines) under a policy")
    evaluate.add_argument("policy")
    evaluate.add_argument("claims", help="a .jsonl file, or - for stdin")
    evaluate.add_argument("--format", choices=("jsonl", "json", "text"), default="jsonl")
    evaluate.add_argument("--trace", action="store_true", help="include each claim's trace")
    evaluate.add_argument("--stream", action="store_true",
                          help="input is in date order: settle and write claim by claim")
    evaluate.add_argument("--ids-in-memory", type=_positive, default=DEFAULT_IN_MEMORY,
                          metavar="N",
                          help="with --stream: claim ids kept in memory for the repeated-id "
                               "check (C312); older ones move to a temporary file "
                               f"(default {DEFAULT_IN_MEMORY:,}, about 100 MB)")
    evaluate.add_argument("--jobs", type=_positive, default=1, metavar="N",
                          help="settle in N processes, each person in one (JSON Lines out; "
                               "the same text as one process)")
    evaluate.add_argument("-o", "--output", help="write results to a file instead of stdout")
    evaluate.add_argument("--record", metavar="STORE",
                          help="also append every outcome, with its trace, to an audit store "
                               "(a SQLite file path)")
    evaluate.add_argument("--resume", action="store_true",
                          help="with --record: continue the store's latest batch, skipping the "
                               "lines it already recorded")
    evaluate.add_argument("--commit-every", type=_positive, default=500, metavar="N",
                          help="with --record: lines per transaction (default 500)")
    evaluate.add_argument("--memory-limit", metavar="SIZE",
                          help="with --backend duckdb or columnar: DuckDB's memory limit, a share of this "
                               "machine's memory (\"30%%\") or a size (\"4GB\"); default "
                               "$YIBAO_DUCKDB_MEMORY_LIMIT, else 50%%; past it DuckDB spills "
                               "to the temporary directory")
    add_batch_arguments(evaluate)   # --backend, --input-format, --output-format, --progress
    add_encoding_argument(evaluate)
    evaluate.set_defaults(handler=run)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, found {text!r}")
    return int(text)


def run(args) -> int:
    """Settle the claims, read as UTF-8 whatever ``--encoding`` they were written in
    (backends/encodings.py: the same file for every backend and mode)."""
    # --backend auto as the engine it picks, once, before anything reads the choice
    args = argparse.Namespace(**{**vars(args), "backend": chosen_backend(args),
                                 "backend_chosen": args.backend == AUTO})
    fmt = claims_format(args)
    if fmt == "parquet" and (args.encoding or "utf-8") not in ("utf-8", "utf-8-sig"):
        print("yibao: --encoding is for JSON Lines and CSV claims; Parquet text is UTF-8",
              file=sys.stderr)
        return EXIT_USAGE
    with read_ahead(args, fmt) as read:
        from yibao.backends.encodings import ClaimsFileError, utf8_claims

        try:
            with utf8_claims(args.claims, fmt, args.encoding) as path:
                return _run(argparse.Namespace(**{**vars(args), "claims": path}), read)
        except ClaimsFileError as error:
            return refuse_claims_file(error)


def _run(args, read: ParquetRead | None = None) -> int:
    """``read``: the claims file's read started already (cli/batch_io.py, read_ahead)."""
    if args.resume and not args.record:
        print("yibao: --resume continues a recorded batch: give --record STORE", file=sys.stderr)
        return EXIT_USAGE
    problem = _memory_limit_problem(args)
    if problem:
        print(f"yibao: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if args.jobs > 1:
        return _in_processes(args)
    if wants_batch(args):   # a SQL backend, CSV/Parquet, Parquet results or a progress bar
        return run_batch(args, read)
    # the audit store's modules (and orjson) only for the scalar path, which may record:
    # a batch run never raises AuditError, and importing them is 0.02-0.05 s of its start
    from yibao.audit.store import AuditError

    kept = _Kept()
    if args.record:
        outcomes = _recorded(args, kept)
    else:
        _, outcomes = settle_file(args.policy, args.claims, args.trace, args.stream,
                                  args.ids_in_memory)
    try:
        failures = _write(args, outcomes)
    except AuditError as error:
        hint = f" — {error.hint}" if error.hint else ""
        print(f"yibao: {error.message}{hint}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError as error:
        if args.record:
            # The store is closed before it is reported on: whatever it holds then is
            # whole transactions, a prefix of the input (audit/record.py).
            outcomes.close()
            error.add_note(kept.summary(args.record))
        raise
    report_failures(failures)
    return EXIT_CLAIMS_FAILED if failures else EXIT_OK


def _memory_limit_problem(args) -> str | None:
    """--memory-limit, or $YIBAO_DUCKDB_MEMORY_LIMIT for a DuckDB run, in a form DuckDB
    is given (backends/duckdb_runner.py), before anything is read."""
    if args.backend not in ("duckdb", "columnar"):
        if args.memory_limit:
            return "--memory-limit is DuckDB's: give --backend duckdb or columnar"
        return None
    from yibao.backends.duckdb_runner import resolve_memory_limit

    try:
        resolve_memory_limit(args.memory_limit)
    except ValueError as error:
        return str(error)
    return None


def _in_processes(args) -> int:
    """``--jobs N``: the scalar evaluator in N processes (runtime/parallel.py)."""
    from yibao.core.jsonl import read_lines
    from yibao.runtime.batch import Engine
    from yibao.runtime.parallel import MAX_JOBS, settle_in_processes
    from yibao.dsl.policy_cache import load_policy_cached

    if args.record or args.format != "jsonl" or beyond_json_lines(args):
        print("yibao: --jobs settles JSON Lines into JSON Lines with the scalar evaluator: "
              "drop --record, --format, --backend or the other formats", file=sys.stderr)
        return EXIT_USAGE
    if args.jobs > MAX_JOBS:
        print(f"yibao: --jobs is at most {MAX_JOBS}", file=sys.stderr)
        return EXIT_USAGE
    engine = Engine(load_policy_cached(args.policy))
    lines = settle_in_processes(engine, read_lines(args.claims), args.jobs, args.trace,
                                args.stream, args.ids_in_memory)
    bar = progress_bar(args, "claims", unit="claim")
    failures: list[ClaimError] = []

    def texts():
        for text, error in lines:
            if error is not None:
                failures.append(error)
            if bar is not None:
                bar.update(1)
            yield text

    try:
        with output_file(args.output) as out:
            write_lines(texts(), out)
    finally:
        lines.close()
        if bar is not None:
            bar.close()
    report_failures(failures)
    return EXIT_CLAIMS_FAILED if failures else EXIT_OK


def _write(args, outcomes) -> list[ClaimError]:
    from yibao.runtime.results import outcome_line, outcome_to_json

    failures: list[ClaimError] = []
    noted = _noting_failures(outcomes, failures)
    with output_file(args.output) as out:
        if args.format == "jsonl":
            write_lines((outcome_line(outcome, args.trace) for outcome in noted), out,
                        flush=bool(args.stream or args.record))
            return failures
        collected = list(noted)
        if args.format == "json":
            data = [outcome_to_json(o, args.trace) for o in collected]
            out.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        elif args.format == "text":
            from yibao.explain.summary import render_summary

            out.write(render_summary(collected))
    return failures


class _Kept:
    """What ``--record`` has committed so far: told when the output is cut (exit 141)."""

    def __init__(self) -> None:
        self.batch: int | None = None
        self.before = 0     # lines the batch held already (--resume)
        self.appended = 0   # records this run committed

    def summary(self, store: str) -> str:
        if self.batch is None:
            return f"{store}: nothing recorded"
        resumed = f", {self.before} of them from the earlier run" if self.before else ""
        return (f"{store}: batch {self.batch} holds the first {self.before + self.appended} "
                f"claim line(s) of the input{resumed}, every record committed; run again "
                "with --resume to record the rest")


def _recorded(args, kept: _Kept):
    """Outcomes in input order, each yielded only after its record has committed."""
    from yibao.audit.record import Recorder, record_batch, utc_now
    from yibao.audit.store import SORTED, STREAM
    from yibao.cli.audit import sign_after_recording
    from yibao.audit.stores import open_store
    from yibao.core.jsonl import read_lines
    from yibao.runtime.batch import Engine
    from yibao.dsl.policy_cache import load_policy_cached

    engine = Engine(load_policy_cached(args.policy))
    with open_store(args.record, create=True) as store:
        recorder = Recorder(store, engine, STREAM if args.stream else SORTED, args.resume)
        batch = recorder.batch.batch
        kept.batch, kept.before = batch, len(recorder.recorded)
        if recorder.resumed:
            print(f"yibao: resuming batch {batch} of {args.record}: "
                  f"{len(recorder.recorded)} line(s) already recorded", file=sys.stderr)
        if not recorder.resumed:
            # What verify compares an unfinished batch with (issue 25: an interrupted batch
            # abandoned by a run without --resume is flagged, recorded of expected lines).
            store.mark_batch(batch, "expected", _claim_line_count(args.claims), utc_now())
        lines = read_lines(args.claims)
        for chunk in record_batch(recorder, engine, lines, args.commit_every, args.trace,
                                  args.ids_in_memory):
            if chunk.first is not None:
                kept.appended += chunk.last - chunk.first + 1
                print(f"yibao: recorded #{chunk.first}–#{chunk.last} (batch {batch}) "
                      f"in {args.record}", file=sys.stderr, flush=True)
            yield from chunk.outcomes
        store.mark_batch(batch, "finished", kept.before + kept.appended, utc_now())
        sign_after_recording(store)


def _claim_line_count(path: str) -> int | None:
    """The input's claim lines (non-blank), when it is a file that can be read twice."""
    import os

    if path == "-" or not os.path.isfile(path):
        return None
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())
