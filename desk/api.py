"""The settlement API (JSON), for a payment system: settle, withdraw, correct, and a
claim's result with its trace.

It writes to the book exactly as ``yibao settle`` does: the same library calls
in the same order (verify the chain from the last verified head and refuse a
book that does not verify; then :class:`yibao.audit.settle.BookSettler`, one
batch per request, one transaction per ``commit_every`` events).  What it
answers is what ``settle`` prints, one object per entry or event, in
``"entries"``.  Writing needs the token (:mod:`yibao.desk.security`); reading a
result needs nothing more than the pages do.

Codes (docs/errors.md, the D family: the desk):

- D101 writing is off (no token configured)             HTTP 403
- D102 no token, or the wrong one                       HTTP 401
- D103 the body is not a JSON object of the agreed form HTTP 400
- D104 a policy name that is not a file of --policies   HTTP 404
- D105 a claim id the book does not hold                HTTP 404
- D106 the book does not verify: nothing is written     HTTP 409
- D108 the book cannot be read where the call needs it  HTTP 409
  (the store's own error in the message, e.g. A438: a person-year's list of entries
  that names another's; nothing is written)
"""

from __future__ import annotations

import json

from yibao.audit.settle import BookSettler
from yibao.audit.stores import open_store
from yibao.audit.verify import verify_store
from yibao.runtime.results import outcome_to_json
from yibao.core.money import format_money
from yibao.desk.book_read import booked_claim, explanation
from yibao.desk.context import UnknownPolicy

WRITING_OFF, BAD_TOKEN, BAD_REQUEST, UNKNOWN_POLICY, UNKNOWN_CLAIM, BOOK_UNVERIFIED = (
    "D101", "D102", "D103", "D104", "D105", "D106")
BOOK_UNREADABLE = "D108"    # (D107: the desk's search index file, at start-up)
HTTP_STATUS = {WRITING_OFF: 403, BAD_TOKEN: 401, BAD_REQUEST: 400, UNKNOWN_POLICY: 404,
               UNKNOWN_CLAIM: 404, BOOK_UNVERIFIED: 409, BOOK_UNREADABLE: 409}
MAX_EVENTS = 10_000
MAX_BODY = 16 * 1024 * 1024


class ApiError(Exception):
    def __init__(self, code: str, message: str, hint: str = ""):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint

    @property
    def status(self) -> int:
        return HTTP_STATUS[self.code]

    def to_json(self) -> dict:
        return {"error": self.code, "message": self.message, "hint": self.hint}


def parse_body(raw: bytes) -> dict:
    if len(raw) > MAX_BODY:
        raise ApiError(BAD_REQUEST, f"the body is over {MAX_BODY} bytes",
                       "send the events in several requests")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(BAD_REQUEST, f"the body is not UTF-8 JSON ({error})",
                       "send a JSON object, Content-Type: application/json") from None
    if not isinstance(data, dict):
        raise ApiError(BAD_REQUEST, "the body is not a JSON object", "send a JSON object")
    return data


def _engine_by_name(ctx, data: dict):
    name = data.get("policy")
    if not isinstance(name, str):
        raise ApiError(BAD_REQUEST, '"policy" must name a policy of the desk\'s folder',
                       f"one of: {', '.join(sorted(ctx.policy_files))}")
    try:
        return ctx.file_engine(name)
    except UnknownPolicy:
        raise ApiError(UNKNOWN_POLICY, f"no policy named {name!r} in the desk's folder",
                       f"one of: {', '.join(sorted(ctx.policy_files))}") from None


def _engine_of_claim(ctx, data: dict, claim_id: str):
    """The named policy, or else the texts the claim's person-year was settled under."""
    if "policy" in data:
        return _engine_by_name(ctx, data)
    with ctx.reading() as store:
        view = booked_claim(ctx, store, claim_id)
        if view is None:
            raise ApiError(UNKNOWN_CLAIM, f"the book holds no claim {claim_id!r}",
                           "check the claim id")
        return view.engine


def _write(ctx, engine, events: list, commit_every: int = 500) -> dict:
    lines = [(number, json.dumps(event, ensure_ascii=False))
             for number, event in enumerate(events, start=1)]
    with open_store(ctx.book, create=True) as store:
        # As yibao settle: a book that does not verify is not written into.
        report = verify_store(store, since=store.verified_head())
        if not report.ok:
            raise ApiError(BOOK_UNVERIFIED, f"the book does not verify: {report.problem.message}",
                           "run yibao audit verify; nothing was written")
        store.mark_verified(report.records, report.head)
        settler = BookSettler(store, engine)
        entries = [entry for chunk in settler.run(lines, commit_every) for entry in chunk]
    return {"batch": settler.batch.batch, "entries": entries,
            "refused": sum(entry["kind"] == "error" for entry in entries)}


def settle(ctx, data: dict) -> dict:
    events = data.get("events")
    if not isinstance(events, list) or not events or len(events) > MAX_EVENTS:
        raise ApiError(BAD_REQUEST, f'"events" must be a list of 1 to {MAX_EVENTS} claims, '
                                    "corrections and withdrawals (JSON objects)",
                       'e.g. {"policy": "benxi-2023", "events": [{"claim_id": …}]}')
    commit_every = data.get("commit_every", 500)
    if not isinstance(commit_every, int) or isinstance(commit_every, bool) or commit_every < 1:
        raise ApiError(BAD_REQUEST, '"commit_every" must be a whole number ≥ 1')
    return _write(ctx, _engine_by_name(ctx, data), events, commit_every)


def withdraw(ctx, data: dict) -> dict:
    claim_id = data.get("claim_id")
    if not isinstance(claim_id, str) or set(data) - {"claim_id", "reason", "policy"}:
        raise ApiError(BAD_REQUEST, 'a withdrawal is {"claim_id": ID} with an optional '
                                    '"reason" (and "policy")')
    event = {"claim_id": claim_id, "withdraw": True}
    if "reason" in data:
        event["reason"] = data["reason"]
    return _write(ctx, _engine_of_claim(ctx, data, claim_id), [event])


def correct(ctx, data: dict) -> dict:
    claim = data.get("claim")
    if not isinstance(claim, dict) or not isinstance(claim.get("claim_id"), str):
        raise ApiError(BAD_REQUEST, 'a correction is {"claim": the whole corrected claim}',
                       "the claim keeps the id of the booked one")
    event = {**claim, "correction": True}
    return _write(ctx, _engine_of_claim(ctx, data, claim["claim_id"]), [event])


def result(ctx, claim_id: str) -> dict:
    """The claim as booked (nets, adjustments, record) and today's outcome with its trace."""
    with ctx.reading() as store:
        view = booked_claim(ctx, store, claim_id)
        if view is None:
            raise ApiError(UNKNOWN_CLAIM, f"the book holds no claim {claim_id!r}",
                           "check the claim id")
        explained = explanation(store, view)
    booked = view.booked
    outcome = explained.outcome
    return {"claim_id": claim_id, "person_id": view.person_id, "year": view.year,
            "live": booked.live, "record": {"seq": booked.seq, "hash": booked.hash},
            "policy": {"policy_id": booked.policy[0], "sha256": booked.policy[1]}
            if booked.policy else None,
            "net": {line: format_money(amount) for line, amount in sorted(booked.net.items())},
            "adjustments": [{k: a[k] for k in ("seq", "line", "delta", "direction", "net",
                                                "caused_by") if k in a}
                            for a in booked.adjustments],
            "year_to_date_from": list(explained.earlier),
            "outcome": outcome_to_json(outcome)}
