"""Recording a batch: every input line's outcome, appended in commit-sized chunks.

Every line of the input is recorded, results and errors alike (format
``yibao-audit/3``: the outcome without its trace), under its
position (line number) in the batch: a batch's records are then exactly its
input, so replay re-settles them in the same order with the same ledger.

Resuming (``--resume``) continues the store's latest batch.  The whole input
is settled again, so the year-to-date ledger is rebuilt exactly as in an
uninterrupted run; lines already recorded are not recorded again, but each is
checked against its record (same text, same settlement), and only the others
are appended.  Because chunks are committed in input order, the
recorded lines are always a prefix of the input.

Re-recording a claim id that the store already holds (a new batch over the
same claims, under the same policy or another) appends a new record whose
``previous`` names the claim's latest earlier record (seq and hash): the
history of a claim is a linked list inside the chain, and no batch ever lacks
a claim its ledger needed.
"""

from __future__ import annotations

import base64
import datetime
from collections import deque
from typing import Callable, Iterable, Iterator

import attrs

from yibao import ENGINE_VERSION
from yibao.audit.chain import link
from yibao.audit.policies import policy_chain, policy_key
from yibao.audit.store import STREAM, AuditError, AuditStore, Batch, StoredRecord
from yibao.runtime.batch import Engine, Outcome
from yibao.runtime.claim_ids import DEFAULT_IN_MEMORY
from yibao.runtime.claims import ClaimError, decode_claim_line
from yibao.runtime.evaluate import ClaimResult
from yibao.runtime.results import outcome_to_json


CONCURRENT_RUN = "A435"   # a second run recording the same batch at the same time


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")


def claim_fields(raw: bytes | str) -> dict:
    """The claim exactly as received: its text, or base64 when it is not UTF-8."""
    if isinstance(raw, str):
        return {"claim": raw}
    try:
        return {"claim": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"claim_base64": base64.b64encode(raw).decode("ascii")}


def claim_bytes(body: dict) -> bytes:
    if "claim_base64" in body:
        return base64.b64decode(body["claim_base64"])
    return body["claim"].encode("utf-8")


def settlement(outcome_json: dict) -> dict:
    """An outcome's JSON without its trace: what was paid, to whom, and why not."""
    return {key: value for key, value in outcome_json.items() if key != "trace"}


@attrs.frozen
class Committed:
    """Outcomes that may now be reported (in input order), and the records just committed."""

    outcomes: tuple[Outcome, ...]
    first: int | None = None
    last: int | None = None


class Recorder:
    """Appends one batch's outcomes to a store; see the module docstring."""

    def __init__(self, store: AuditStore, engine: Engine, mode: str, resume: bool = False,
                 clock: Callable[[], str] = utc_now):
        self.store = store
        self.clock = clock
        self.chain, texts = policy_chain(engine.loaded)
        key = policy_key(self.chain)
        batch = self._resumable(mode, key) if resume else None
        self.resumed = batch is not None
        self.batch: Batch = batch or store.open_batch(mode, ENGINE_VERSION, key, clock(), texts)
        # The chain's head as this run last saw it: a record of this batch appended after
        # it by someone else means another run is recording the same batch (two --resume).
        # Read before the batch's lines, and only lines up to it taken as recorded: read
        # after them, a run committed in between was taken as this run's own past, and
        # its lines were appended again (an IntegrityError on (batch, position)).
        self._seen_head = store.last_seq()
        # position → (claim as received, settlement) of the lines this batch already holds
        self.recorded: dict[int, tuple[dict, dict]] = {}
        for record in store.records(self.batch.batch) if self.resumed else ():
            if record.seq > self._seen_head:
                break
            data = record.data
            claim = {k: data[k] for k in ("claim", "claim_base64") if k in data}
            self.recorded[record.position] = (claim, settlement(data["outcome"]))
        self._seen: set[int] = set()
        self._pending: list[tuple[int, bytes | str, Outcome]] = []

    def _resumable(self, mode: str, key: str) -> Batch | None:
        latest = self.store.latest_batch()
        if latest is None:
            return None
        hint = "run without --resume to record a new batch"
        if latest.policy_key != key:
            raise AuditError(f"cannot resume batch {latest.batch}: it was recorded under other "
                             "policy texts", hint)
        if latest.engine_version != ENGINE_VERSION:
            raise AuditError(f"cannot resume batch {latest.batch}: it was recorded by yibao "
                             f"{latest.engine_version}, this is {ENGINE_VERSION}", hint)
        if latest.mode != mode:
            raise AuditError(f"cannot resume batch {latest.batch}: it was settled "
                             f"{latest.mode}, not {mode}", "give --stream as the first run did")
        return latest

    # ---- one line at a time ------------------------------------------------------------
    def already_recorded(self, position: int, raw: bytes | str, outcome: Outcome) -> bool:
        """True for a line this batch holds, after checking it is the same line, settled the same."""
        held = self.recorded.get(position)
        if held is None:
            return False
        claim, recorded = held
        if claim != claim_fields(raw):
            raise AuditError(f"line {position} differs from what batch {self.batch.batch} "
                             "recorded for it: this is not the interrupted input",
                             "resume with the same claims file, or run without --resume")
        if settlement(outcome_to_json(outcome, trace=False)) != recorded:
            raise AuditError(f"line {position} settles differently from its record in batch "
                             f"{self.batch.batch}", "the claims before it changed; "
                             "run without --resume to record a new batch")
        self._seen.add(position)
        return True

    def add(self, position: int, raw: bytes | str, outcome: Outcome) -> None:
        self._pending.append((position, raw, outcome))

    @property
    def pending(self) -> int:
        return len(self._pending)

    def commit(self) -> tuple[int | None, int | None]:
        """Append the pending outcomes in one transaction; (first seq, last seq) appended."""
        if not self._pending:
            return None, None
        now = self.clock()
        with self.store.appending() as tail:
            self._refuse_a_second_writer(tail.seq)
            first = tail.seq + 1
            for position, raw, outcome in self._pending:
                fields = self._fields(position, raw, outcome, now)
                earlier = tail.latest_of(outcome.claim_id) if outcome.claim_id else None
                fields["previous"] = {"seq": earlier.seq, "hash": earlier.hash} if earlier else None
                body, digest = link(fields, tail.seq + 1, tail.hash)
                tail.add(StoredRecord(tail.seq + 1, digest, self.batch.batch, position,
                                      outcome.claim_id, body))
            last = tail.seq
        self._pending.clear()
        self._seen_head = last
        return first, last

    def _refuse_a_second_writer(self, head: int) -> None:
        """Inside the write transaction: has another run appended to this batch since?

        Two ``--resume`` runs of one batch would each append its missing lines; the
        second's inserts used to fail on ``UNIQUE (batch, position)`` with an
        IntegrityError.  It is refused with A435 instead, its transaction rolled back."""
        if head == self._seen_head:
            return
        theirs = [r.seq for r in self.store.records(self.batch.batch, after=self._seen_head)]
        if theirs:
            raise AuditError(f"{CONCURRENT_RUN} batch {self.batch.batch} is being recorded by "
                             f"another run (it appended #{theirs[0]}–#{theirs[-1]} since this "
                             "run began)", "let that run finish; run --resume again after it "
                                           "if it was interrupted")
        self._seen_head = head

    def finish(self) -> None:
        missing = sorted(set(self.recorded) - self._seen)
        if missing:
            raise AuditError(f"batch {self.batch.batch} recorded line {missing[0]}, which this "
                             "input does not have", "resume with the same claims file")

    def _fields(self, position: int, raw, outcome: Outcome, now: str) -> dict:
        applied = outcome.policy if isinstance(outcome, ClaimResult) else None
        sha = next((ref.sha256 for ref in self.chain if ref.policy_id == applied), None)
        return {
            "batch": self.batch.batch,
            "mode": self.batch.mode,
            "position": position,
            "claim_id": outcome.claim_id,
            **claim_fields(raw),
            # yibao-audit/3: no trace (audit/chain.py); audit show derives it again.
            "outcome": outcome_to_json(outcome, trace=False),
            "policy_id": applied,
            "policy_sha256": sha,
            "policies": [ref.to_json() for ref in self.chain],
            "engine_version": ENGINE_VERSION,
            "recorded_at": now,
        }


# ---- driving a batch through the recorder -------------------------------------------------
def settle_lines(engine: Engine, lines: Iterable[tuple[int, bytes | str]], mode: str,
                 trace: bool | Callable[[int], bool], ids_in_memory: int = DEFAULT_IN_MEMORY
                 ) -> Iterator[tuple[int, bytes | str, Outcome]]:
    """(position, line, outcome) in input order; ``trace(position)`` says which lines to trace.

    Sorted batches are settled whole (Engine.evaluate_records), streamed ones
    line by line; either way outcomes come back one per line, in input order.
    """
    wanted: set[str] = set()
    fed: deque[tuple[int, bytes | str]] = deque()

    def feed():
        for position, raw in lines:
            if not isinstance(trace, bool) and trace(position):
                claim_id = _claim_id_of(raw)
                if claim_id is not None:
                    wanted.add(claim_id)
            fed.append((position, raw))
            yield position, raw

    traced = trace if isinstance(trace, bool) else wanted
    if mode == STREAM:
        outcomes = engine.stream_records(feed(), traced, ids_in_memory)
    else:
        outcomes = engine.evaluate_records(feed(), traced)
    for outcome in outcomes:
        position, raw = fed.popleft()
        yield position, raw, outcome


def _claim_id_of(raw: bytes | str) -> str | None:
    try:
        claim_id = decode_claim_line(raw).get("claim_id")
    except ClaimError:
        return None
    return claim_id if isinstance(claim_id, str) else None


def record_batch(recorder: Recorder, engine: Engine, lines: Iterable[tuple[int, bytes | str]],
                 commit_every: int = 500, trace_all: bool = False,
                 ids_in_memory: int = DEFAULT_IN_MEMORY) -> Iterator[Committed]:
    """Settle and record a batch; yield each chunk once its transaction has committed.

    Records hold no trace, so claims are settled on the untraced path unless
    ``trace_all`` asks for the trace in the outcomes yielded (``eval --trace``).
    """
    ready: list[Outcome] = []
    for position, raw, outcome in settle_lines(engine, lines, recorder.batch.mode,
                                               trace_all, ids_in_memory):
        if not recorder.already_recorded(position, raw, outcome):
            recorder.add(position, raw, outcome)
        ready.append(outcome)
        if recorder.pending >= commit_every or len(ready) >= commit_every:
            yield Committed(tuple(ready), *recorder.commit())
            ready = []
    recorder.finish()
    yield Committed(tuple(ready), *recorder.commit())
