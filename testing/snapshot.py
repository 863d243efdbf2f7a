"""A claims file settled under a policy, as one stable text document for a snapshot.

Each claim gets its result (amounts as two-decimal strings) and its auditor's
explanation (:func:`yibao.explain.text.render_text`), or its refusal.  Nothing
volatile goes in: no time, no absolute path, no hash; the claims file is named
by its file name only.  So when a policy changes, the snapshot's diff is the
change a reviewer needs to read, claim by claim, in the document's own words.
"""

from __future__ import annotations

import datetime
import pathlib
from typing import Sequence, Union

from yibao.runtime.batch import Engine, Outcome
from yibao.runtime.claims import ClaimError
from yibao.runtime.evaluate import ClaimResult
from yibao.core.money import format_money
from yibao.dsl.loader import load_policy
from yibao.dsl.model import NO_IDENTITY
from yibao.explain.text import render_text

PathLike = Union[str, pathlib.Path]


def settle_for_snapshot(policy: PathLike, claims: PathLike, at: datetime.date | None = None):
    """(engine, outcomes) of a whole claims file, traced; ``at`` pins one version."""
    loaded = load_policy(policy)
    if at is None:
        engine = Engine(loaded)
    else:
        from yibao.diff.sides import PinnedEngine, version_in_force

        engine = PinnedEngine(loaded, version_in_force(loaded, at, str(policy)))
    lines = pathlib.Path(claims).read_bytes().split(b"\n")
    records = [(n, raw.rstrip(b"\r")) for n, raw in enumerate(lines, 1) if raw.strip()]
    return engine, engine.evaluate_records(records, trace=True)


def snapshot_document(engine: Engine, outcomes: Sequence[Outcome], claims_name: str) -> str:
    versions = ", ".join(f"{p.policy_id} (from {p.effective})" for p in engine.versions)
    out = [f"# yibao snapshot: {engine.policy.policy_id} × {claims_name}, {len(outcomes)} claims",
           f"# versions: {versions}",
           "# amounts in yuan; each claim's result, then its explanation (yibao explain)"]
    for outcome in outcomes:
        out.append("")
        if isinstance(outcome, ClaimError):
            out.extend(_refusal(outcome))
        else:
            out.extend(_result(engine, outcome))
    return "\n".join(out) + "\n"


def _refusal(error: ClaimError) -> list[str]:
    where = f" (line {error.line_number})" if error.line_number is not None else ""
    lines = [f"== {error.claim_id or '?'}{where} ==", f"refused: {error.code}"]
    if error.field:
        lines.append(f"field: {error.field}")
    lines.append(f"message: {error.message}")
    if error.hint:
        lines.append(f"hint: {error.hint}")
    return lines


def _result(engine: Engine, result: ClaimResult) -> list[str]:
    lines = [f"== {result.claim_id} ==",
             f"policy: {result.policy}",
             f"identity: {result.identity or NO_IDENTITY}",
             "payouts:"]
    lines += [f"  {line}: {format_money(amount)}" for line, amount in result.payouts]
    lines += [f"total_paid: {format_money(result.total_paid)}",
              f"personal_burden: {format_money(result.personal_burden)}",
              f"alerts: {', '.join(result.alerts) or '—'}",
              f"referrals: {', '.join(result.referrals) or '—'}",
              "explanation:"]
    claim = engine.claims_by_id[result.claim_id]
    text = render_text(result, claim, engine.version_for(claim.date, claim.claim_id))
    lines += [f"  | {line}".rstrip() for line in text.rstrip("\n").split("\n")]
    return lines
