"""What one claim's evaluation reads and writes as it runs through the graph.

Its own module because both the scalar evaluator (runtime/evaluate.py) and the
trace's facts (runtime/tracing.py) read it, and the evaluator calls the facts:
the context here keeps that a one-way import.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from yibao.runtime.claims import Claim
from yibao.runtime.ledger import PersonYear


@attrs.define
class EvaluationContext:
    claim: Claim
    person_year: PersonYear
    candidate: str | None = None
    values: dict[str, Any] = attrs.field(factory=dict)
    # In the result phase: each candidate identity and its total (take highest).
    candidates: tuple[tuple[str | None, Decimal], ...] = ()
