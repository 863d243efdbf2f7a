"""Settling a claims file from the command line, and reporting failed claims."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from yibao.cli.main import EXIT_USAGE
from yibao.runtime.claim_ids import DEFAULT_IN_MEMORY

# The engine and the policy loader are imported by settle_file, which runs them: the
# commands import this module to build their options (cli/batch_io.py, read_ahead).
if TYPE_CHECKING:
    from yibao.backends.encodings import ClaimsFileError
    from yibao.runtime.batch import Engine
    from yibao.runtime.claims import ClaimError


def settle_file(policy_path: str, claims_path: str, trace, stream: bool = False,
                ids_in_memory: int = DEFAULT_IN_MEMORY, encoding: str | None = None):
    """(engine, outcomes): outcomes a list, or an iterator when streaming.

    ``encoding``: the claims file's (backends/encodings.py); a file that cannot be
    read in it raises ClaimsFileError, before any outcome unless streaming."""
    from yibao.dsl.policy_cache import load_policy_cached
    from yibao.runtime.batch import Engine

    engine = Engine(load_policy_cached(policy_path))
    outcomes = _settled(engine, claims_path, trace, stream, ids_in_memory, encoding)
    return engine, (outcomes if stream else list(outcomes))


def _settled(engine: Engine, claims_path: str, trace, stream: bool, ids_in_memory: int,
             encoding: str | None):
    from yibao.backends.encodings import utf8_claims
    from yibao.core.jsonl import read_lines

    with utf8_claims(claims_path, "jsonl", encoding) as path:
        records = read_lines(path)
        if stream:
            yield from engine.stream_records(records, trace, ids_in_memory)
        else:
            yield from engine.evaluate_records(records, trace)


# backends/encodings.py's ENCODINGS, named here because that module imports attrs and
# the claims' model (≈ 0.03 s), which a Parquet run does not need before it starts
# reading (cli/batch_io.py, read_ahead); tests/cli/test_cli_core.py keeps them equal.
ENCODING_CHOICES = ("utf-8", "utf-8-sig", "gbk", "gb18030")


def add_encoding_argument(parser) -> None:
    parser.add_argument("--encoding", choices=ENCODING_CHOICES, type=str.lower,
                        help="the claims file's text encoding (default: UTF-8, a byte-order "
                             "mark skipped); gbk or gb18030 for files from Chinese Excel")


def refuse_claims_file(error: ClaimsFileError) -> int:
    """A claims file that cannot be read at all: say why, and what to do (exit 2)."""
    hint = f" — {error.hint}" if error.hint else ""
    print(f"yibao: {error}{hint}", file=sys.stderr)
    return EXIT_USAGE


# Failure lines written to stderr at a time.  print() wrote each line and its newline
# apart: two system calls a refused claim, 25,000 for the 12,700 refusals of 10^6
# synthetic claims.
REPORTED_AT_ONCE = 4_096


def report_failures(failures: list[ClaimError]) -> None:
    for start in range(0, len(failures), REPORTED_AT_ONCE):
        sys.stderr.write("".join(_failure_line(error)
                                 for error in failures[start:start + REPORTED_AT_ONCE]))
        sys.stderr.flush()
    if failures:
        print(f"yibao: {len(failures)} claim(s) failed; the others were settled", file=sys.stderr)


def _failure_line(error: ClaimError) -> str:
    line = f" (line {error.line_number})" if error.line_number else ""
    hint = f" — {error.hint}" if error.hint else ""
    return f"yibao: {error}{line}{hint}\n"
