"""`yibao audit replay`: settle recorded claims again and report every difference.

A claim's result depends on the person's earlier claims that year, so a
record is never re-settled alone: each batch is re-settled whole, from its
records in input order (position), under the policy texts it was recorded
with, the way it was first settled (sorted or streamed), with a fresh ledger
— exactly the original run.  Only then are the wanted records compared: their
settlements, and their traces when they hold one (formats ``yibao-audit/1`` and
``/2``; a ``/3`` record holds none, audit/chain.py).  A difference means the engine (or the policy loader) now settles the claim
otherwise: the regression check across engine versions.
"""

from __future__ import annotations

import json
from typing import Iterable

import attrs

from yibao.audit.book_replay import book_person_years, replay_person_year
from yibao.audit.chain import UNTRACED_FORMATS
from yibao.audit.policies import PolicyRef, load_stored_policy, policy_key
from yibao.audit.record import claim_bytes, settle_lines, settlement
from yibao.audit.store import AuditError, AuditStore
from yibao.runtime.batch import Engine
from yibao.runtime.results import outcome_to_json
from yibao.core.diagnostics import PolicyError


@attrs.frozen
class Difference:
    seq: int
    claim_id: str | None
    field: str          # "total_paid", "payouts.基本救助", "outcome", "trace[12]", "policy", …
    recorded: str
    replayed: str


@attrs.frozen
class ReplayReport:
    compared: int
    differences: tuple[Difference, ...]
    engine_versions: tuple[str, ...]    # the versions that made the compared records

    @property
    def ok(self) -> bool:
        return not self.differences


def replay_store(store: AuditStore, claim_id: str | None = None,
                 compare_trace: bool = True) -> ReplayReport:
    """Replay every batch (or those holding ``claim_id``) and compare (those) records."""
    if claim_id is None:
        batches = sorted({record.batch for record in store.records()
                          if "kind" not in record.data})
    else:
        batches = sorted({record.batch for record in store.records_of_claim(claim_id)
                          if "kind" not in record.data})
    book = book_person_years(store, claim_id)
    if claim_id is not None and not batches and not book:
        raise AuditError(f"{store.location} holds no record of claim {claim_id}")
    differences: list[Difference] = []
    compared, versions = 0, set()
    engines: dict[str, Engine] = {}
    # The book's entries (yibao-audit/2, audit/book.py): person-year by person-year.
    for person_id, year in book:
        count, found, made_by = replay_person_year(store, person_id, year, engines, Difference)
        compared += count if claim_id is None else 1
        differences.extend(d for d in found if claim_id in (None, d.claim_id))
        versions |= made_by
    for batch in batches:
        wanted = {record.position for record in store.records(batch)
                  if claim_id is None or record.claim_id == claim_id}
        compared += len(wanted)
        differences.extend(_replay_batch(store, batch, wanted, compare_trace, engines, versions))
    return ReplayReport(compared, tuple(differences), tuple(sorted(versions)))


def _replay_batch(store: AuditStore, batch: int, wanted: set[int], compare_trace: bool,
                  engines: dict[str, Engine], versions: set[str]) -> Iterable[Difference]:
    # Records are appended in input order, so a batch's records come in position
    # order; they are read twice (claims, then outcomes) to keep memory to one line.
    lines = [(record.position, claim_bytes(record.data)) for record in store.records(batch)]
    first = next(store.records(batch)).data
    engine = _engine(store, first, engines)
    if isinstance(engine, Difference):
        yield engine
        return
    trace = (lambda position: position in wanted) if compare_trace else False
    settled = settle_lines(engine, lines, first["mode"], trace)
    for record, (position, _, outcome) in zip(store.records(batch), settled):
        if record.position != position:
            raise AuditError(f"batch {batch} is out of order at record #{record.seq}",
                             "run yibao audit verify")
        if position in wanted:
            body = record.data
            versions.add(body["engine_version"])
            # A yibao-audit/3 or /4 record holds no trace: its settlement is what is compared.
            traced = compare_trace and body["format"] not in UNTRACED_FORMATS
            yield from compare(record.seq, record.claim_id, body["outcome"],
                               outcome_to_json(outcome, trace=traced), traced)


def _engine(store: AuditStore, body: dict, engines: dict[str, Engine]) -> Engine | Difference:
    """The batch's policy chain, rebuilt from its stored texts (once per chain)."""
    chain = [PolicyRef.from_json(ref) for ref in body["policies"]]
    key = policy_key(chain)
    if key not in engines:
        try:
            engines[key] = Engine(load_stored_policy(chain, store.source))
        except (AuditError, PolicyError) as error:
            names = " → ".join(ref.policy_id for ref in chain)
            return Difference(body["seq"], body["claim_id"], "policy", f"{names} loaded",
                              f"does not load now: {_reason(error)}")
    return engines[key]


def _reason(error: Exception) -> str:
    if isinstance(error, PolicyError):
        return "; ".join(f"{d.code} {d.message}" for d in error.diagnostics)
    return str(error)


def compare(seq: int, claim_id: str | None, recorded: dict, replayed: dict,
            compare_trace: bool = True) -> list[Difference]:
    """The differences between a recorded outcome and a replayed one, field by field."""
    if ("error" in recorded) != ("error" in replayed):
        return [Difference(seq, claim_id, "outcome", _summary(recorded), _summary(replayed))]
    found = []
    before, after = settlement(recorded), settlement(replayed)
    for field in sorted(set(before) | set(after)):
        old, new = before.get(field), after.get(field)
        if old == new:
            continue
        if field == "payouts":
            for line in sorted(set(old) | set(new)):
                if old.get(line) != new.get(line):
                    found.append(Difference(seq, claim_id, f"payouts.{line}",
                                            _show(old.get(line)), _show(new.get(line))))
        else:
            found.append(Difference(seq, claim_id, field, _show(old), _show(new)))
    if (compare_trace and recorded.get("trace") != replayed.get("trace")
            and not _words_only(recorded.get("trace", ()))):
        found.append(_trace_difference(seq, claim_id, recorded.get("trace", []),
                                       replayed.get("trace", [])))
    return found


def _words_only(trace) -> bool:
    """A trace recorded before steps carried facts (each step's Chinese words): it can
    no longer equal a replayed one, and its figures are compared field by field above."""
    return any("facts" not in step for step in trace)


def _trace_difference(seq: int, claim_id, old: list, new: list) -> Difference:
    index = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
    step = (lambda steps: _show(steps[index]) if index < len(steps) else "(no step)")
    return Difference(seq, claim_id, f"trace[{index}]", step(old), step(new))


def _summary(outcome: dict) -> str:
    if "error" in outcome:
        return f"error {outcome['error']} {outcome.get('message', '')}"
    return f"paid {outcome.get('total_paid')}"


def _show(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)

