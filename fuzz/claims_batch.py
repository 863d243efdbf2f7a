"""Atheris harness: a claims file (JSON Lines bytes) settled under Benxi 2023, as `yibao eval`.

Every non-blank line gets exactly one outcome, in input order: a result or a
ClaimError with a C3xx code; and every outcome can be written out as UTF-8
JSON the way the CLI writes it.  Anything else is a crash.

    .venv/bin/pip install atheris
    .venv/bin/python fuzz/claims_batch.py -max_total_time=600 -timeout=30 -rss_limit_mb=2048

Seeds: the shipped example claims files (copied to a scratch corpus).
"""

from __future__ import annotations

import functools
import json
import re
import sys

CODE = re.compile(r"C3\d{2}")


@functools.cache
def _engine():
    from harness import ROOT

    from yibao.api import load_engine

    return load_engine(ROOT / "policies" / "benxi-2023.policy")


def test_one_input(data: bytes) -> None:
    from yibao.runtime.claims import ClaimError
    from yibao.runtime.results import outcome_to_json

    lines = [(number, raw.rstrip(b"\r\n"))
             for number, raw in enumerate(data.splitlines(keepends=True), 1) if raw.strip()]
    outcomes = _engine().evaluate_records(lines)
    assert len(outcomes) == len(lines)
    for outcome in outcomes:
        if isinstance(outcome, ClaimError):
            assert CODE.fullmatch(outcome.code), outcome
        json.dumps(outcome_to_json(outcome, False), ensure_ascii=False).encode("utf-8")


def seeds():
    from harness import ROOT

    return (sorted((ROOT / "policies" / "examples").glob("*.jsonl"))
            + sorted((ROOT / "fuzz" / "seeds").glob("*.jsonl")))


if __name__ == "__main__":
    from harness import run

    run("claims", seeds(), test_one_input,
        ["yibao.runtime.claims", "yibao.runtime.batch", "yibao.runtime.evaluate"])
    sys.exit(0)
