"""The library's front door: load a policy, settle claims, read the results.

    >>> from yibao.api import load_engine, evaluate_claims
    >>> engine = load_engine("policies/benxi-2023.policy")
    >>> [r.total_paid for r in evaluate_claims(engine, claims)]

The CLI, the test fixtures and other programs all go through these functions.
"""

from __future__ import annotations

import json
import pathlib
from typing import Iterable, Union

from yibao.runtime.batch import Engine, Outcome
from yibao.runtime.claims import ClaimError
from yibao.runtime.evaluate import ClaimResult
from yibao.runtime.results import outcome_to_json
from yibao.dsl.loader import LoadedPolicy, load_policy

__all__ = ["load_engine", "evaluate_claims", "read_claims_file", "Engine", "ClaimResult",
           "ClaimError", "outcome_to_json", "load_policy", "LoadedPolicy"]


def load_engine(policy: Union[str, pathlib.Path, LoadedPolicy]) -> Engine:
    loaded = policy if isinstance(policy, LoadedPolicy) else load_policy(policy)
    return Engine(loaded)


def evaluate_claims(engine: Union[Engine, str, pathlib.Path],
                    claims: Iterable[Union[dict, str]], trace: bool = False) -> list[Outcome]:
    """Settle claims (dicts as in docs/claims.md, or JSON strings); results in input order."""
    if not isinstance(engine, Engine):
        engine = load_engine(engine)
    records = []
    for number, claim in enumerate(claims, 1):
        if isinstance(claim, dict):
            # Round-trip through JSON so numbers are read exactly as from a file.
            claim = json.dumps(claim, ensure_ascii=False)
        records.append((number, claim))
    return engine.evaluate_records(records, trace)


def read_claims_file(path: Union[str, pathlib.Path]) -> list[str]:
    return [line for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines()
            if line.strip()]
