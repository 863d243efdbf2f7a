"""Settling a claims file from the command line, and reporting failed claims."""

from __future__ import annotations

import sys

from yibao.cli.io import read_claim_lines
from yibao.compiler.batch import Engine
from yibao.compiler.claim_ids import DEFAULT_IN_MEMORY
from yibao.compiler.claims import ClaimError
from yibao.dsl.loader import load_policy


def settle_file(policy_path: str, claims_path: str, trace, stream: bool = False,
                ids_in_memory: int = DEFAULT_IN_MEMORY):
    """(engine, outcomes): outcomes a list, or an iterator when streaming."""
    engine = Engine(load_policy(policy_path))
    records = read_claim_lines(claims_path)
    if stream:
        return engine, engine.stream_records(records, trace, ids_in_memory)
    return engine, engine.evaluate_records(records, trace)


def report_failures(failures: list[ClaimError]) -> None:
    for error in failures:
        line = f" (line {error.line_number})" if error.line_number else ""
        hint = f" — {error.hint}" if error.hint else ""
        print(f"yibao: {error}{line}{hint}", file=sys.stderr)
    if failures:
        print(f"yibao: {len(failures)} claim(s) failed; the others were settled", file=sys.stderr)
