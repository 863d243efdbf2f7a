"""A batch of claims through a policy and its versions, in the order of docs/specification.md §6.1.

Claims are settled per person in date order (ties: input order), each under
the policy version in force on its date, against one shared year-to-date
ledger, so a Jiamusi file with claims on both sides of 2022-01-01 settles in
one run.  Results come back in input order; a bad claim yields a
:class:`ClaimError` in its place and never stops the others.
"""

from __future__ import annotations

import bisect
import datetime
import functools
from typing import TYPE_CHECKING, Iterable, Iterator, Union

import attrs

from yibao.runtime.admission import validator_for
from yibao.runtime.claim_ids import DEFAULT_IN_MEMORY, ClaimIds
from yibao.runtime.claims import Claim, ClaimError, decode_claim_line
from yibao.runtime.ledger import Ledger
from yibao.dsl.loader import LoadedPolicy
from yibao.dsl.model import Policy

if TYPE_CHECKING:
    from yibao.runtime.evaluate import ClaimResult, ScalarEvaluator

Outcome = Union["ClaimResult", ClaimError]


class Engine:
    """A loaded policy chain, compiled once, ready to settle claims."""

    def __init__(self, loaded: LoadedPolicy):
        # An amendment whose base is missing still loads: each claim that needs the base's
        # values is refused, naming them (runtime/awaited.py), and the batch goes on.
        self.loaded = loaded
        self.versions = loaded.versions
        self._dates = [p.effective for p in self.versions]
        # The latest version's validator: it hands a claim dated earlier to its own.
        self._validator = validator_for(self.policy)
        # The claims of the last batch, by id, for explaining them afterwards.
        self.claims_by_id: dict[str, Claim] = {}

    @functools.cached_property
    def evaluators(self) -> dict[str, ScalarEvaluator]:
        """Each version's graph and scalar evaluator, by policy id, compiled when first
        needed: a run on a SQL backend validates with this engine but settles with the
        backend's plan, and never needs them (nor networkx, which builds the graphs)."""
        from yibao.runtime.evaluate import ScalarEvaluator
        from yibao.compiler.lower import lower_policy

        return {p.policy_id: ScalarEvaluator(lower_policy(p)) for p in self.versions}

    @property
    def policy(self) -> Policy:
        return self.loaded.latest

    def version_for(self, date: datetime.date, claim_id: str | None = None) -> Policy:
        if date >= self._dates[-1]:   # most claims: the latest version
            return self.versions[-1]
        index = bisect.bisect_right(self._dates, date) - 1
        if index < 0:
            first = self.versions[0]
            raise ClaimError("C310", claim_id, "date",
                             f"{date} is before {first.policy_id} takes effect ({first.effective})",
                             "no version of this policy was in force on that date")
        return self.versions[index]

    def validate(self, record: dict) -> Claim:
        return self._validator.validate(record, self.version_for)

    def evaluate_claim(self, claim: Claim, ledger: Ledger, trace: bool = False) -> ClaimResult:
        evaluator = self.evaluators[self.version_for(claim.date, claim.claim_id).policy_id]
        return evaluator.evaluate(claim, ledger, trace)

    # ---- batches -----------------------------------------------------------------
    def evaluate_records(self, records: Iterable[tuple[int, Union[dict, str, bytes]]],
                         trace: bool = False) -> list[Outcome]:
        """Settle a whole batch; every record gets an outcome, in input order."""
        outcomes: list[Outcome | None] = []
        pending: list[tuple[datetime.date, int, Claim, int]] = []
        with ClaimIds() as seen_ids:
            for line_number, record in records:
                index = len(outcomes)
                outcomes.append(None)
                try:
                    claim = self._admit(record, line_number, seen_ids)
                except ClaimError as error:
                    outcomes[index] = error
                    continue
                pending.append((claim.date, index, claim, line_number))
        self.claims_by_id = {claim.claim_id: claim for _, _, claim, _ in pending}
        for index, outcome in self.settle_in_date_order(pending, trace):
            outcomes[index] = outcome
        return outcomes  # type: ignore[return-value]

    def settle_in_date_order(self, pending: list[tuple[datetime.date, int, Claim, int]],
                             trace) -> Iterator[tuple[int, Outcome]]:
        """(index, outcome) of admitted claims given as (date, index, claim, line number),
        settled in the order of docs/specification.md §6.1 — date, then input order — against one ledger."""
        ledger = Ledger()
        for _, index, claim, line_number in sorted(pending, key=lambda item: item[:2]):
            yield index, self.settle_line(claim, ledger, trace, line_number)

    def stream_records(self, records: Iterable[tuple[int, Union[dict, str, bytes]]],
                       trace: bool = False,
                       ids_in_memory: int = DEFAULT_IN_MEMORY) -> Iterator[Outcome]:
        """Settle claims as they arrive (each person's claims in date order).

        Nothing of a claim is kept once it is settled: memory holds one ledger year
        and last date per person, and at most ``ids_in_memory`` claim ids (C312:
        the rest move to a temporary file, runtime/claim_ids.py), whatever the
        number of claims.
        """
        with ClaimIds(ids_in_memory) as seen_ids:
            yield from self._stream(records, trace, seen_ids)

    def _stream(self, records, trace, seen_ids: ClaimIds) -> Iterator[Outcome]:
        ledger = Ledger()
        last_date: dict[str, datetime.date] = {}
        for line_number, record in records:
            try:
                claim = self._admit(record, line_number, seen_ids)
            except ClaimError as error:
                yield error
                continue
            yield self.settle_next(claim, line_number, ledger, last_date, trace)

    def settle_next(self, claim: Claim, line_number: int, ledger: Ledger,
                    last_date: dict[str, datetime.date], trace) -> Outcome:
        """Settle the next claim of a stream, whose people's claims come in date order."""
        previous = last_date.get(claim.person_id)
        if previous is not None and claim.date < previous:
            return ClaimError("C315", claim.claim_id, "date",
                              f"{claim.date} comes after a claim of {claim.person_id} "
                              f"dated {previous} in a streamed batch",
                              "sort the input by date, or evaluate without --stream", line_number)
        last_date[claim.person_id] = claim.date
        if previous is not None and previous.year < claim.date.year:
            # The person's claims come in date order: their earlier year is closed,
            # so the ledger holds one year per person, not every year of the stream.
            ledger.forget(claim.person_id, previous.year)
        return self.settle_line(claim, ledger, trace, line_number)

    def _admit(self, record, line_number: int, seen_ids: ClaimIds) -> Claim:
        claim = self.validate_line(record, line_number)
        if not seen_ids.add(claim.claim_id):
            raise repeated_id(claim.claim_id, line_number)
        return claim

    def validate_line(self, record, line_number: int) -> Claim:
        """Decoded and validated, or the ClaimError with its line; ids are not checked."""
        try:
            if not isinstance(record, dict):
                record = decode_claim_line(record, line_number)
            return self.validate(record)
        except ClaimError as error:
            raise _with_line(error, line_number) from None

    def settle_line(self, claim: Claim, ledger: Ledger, trace, line_number: int) -> Outcome:
        # ``trace`` is a bool, or the set of claim ids whose trace is wanted.
        wanted = trace if isinstance(trace, bool) else claim.claim_id in trace
        try:
            return self.evaluate_claim(claim, ledger, wanted)
        except ClaimError as error:
            return _with_line(error, line_number)


def repeated_id(claim_id: str, line_number: int) -> ClaimError:
    return ClaimError("C312", claim_id, "claim_id", f"claim {claim_id} appears twice in the batch",
                      "claim ids are unique; the first one was settled", line_number)


def _with_line(error: ClaimError, line_number: int) -> ClaimError:
    if error.line_number is not None:
        return error
    return attrs.evolve(error, line_number=line_number)   # its problems kept
