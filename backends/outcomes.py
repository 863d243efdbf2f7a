"""What a SQL backend hands back: result rows and refused claims, in input order.

The result rows (an Arrow table in :func:`~yibao.backends.result_phase.output_columns`)
and the refused claims (ClaimError by input position) become the exchange
format of docs/claims.md, exactly as runtime/results.py writes the scalar
path's outcomes (no trace: a batch backend never builds one).
"""

from __future__ import annotations

from typing import Iterator

import attrs

from yibao.backends.admission import typed_row
from yibao.backends.columns import ClaimColumns
from yibao.runtime.claims import Claim, ClaimError, decode_claim_line


@attrs.frozen
class BatchResults:
    columns: ClaimColumns
    results: object                  # pyarrow.Table in output columns, ordered by idx
    errors: dict[int, ClaimError]    # input position → the claim's error
    count: int                       # records read
    walked: int = 0                  # claims settled by the per-person walk
    settled_by: str = "duckdb"       # what settled the others: duckdb, spark or columnar
    walked_by: str = "duckdb"        # what walked the walked claims: duckdb or numpy
    presumed: int = 0                # settled unwalked under a presumed winner, checked

    def exchange(self) -> Iterator[dict]:
        """Every claim's outcome as docs/claims.md JSON (without trace), in input order."""
        rows = _rows(self.results)
        row = next(rows, None)
        for idx in range(self.count):
            if row is not None and row["idx"] == idx:
                yield self.result_json(row)
                row = next(rows, None)
            elif idx in self.errors:
                yield self.errors[idx].to_json()
            else:
                raise AssertionError(f"record {idx} has neither a result nor an error")

    def result_json(self, row: dict) -> dict:
        columns = self.columns
        policy = columns.versions[row["version"]]
        payouts = {}
        for line in policy.lines:
            column = (columns.final_upstream(line.name) if line.upstream
                      else columns.settled("fin", line.name))
            payouts[line.name] = money(row[column])
        return {
            "claim_id": row["claim_id"],
            "policy": policy.policy_id,
            "identity": row["cand"],
            "payouts": payouts,
            "total_paid": money(row["total_paid"]),
            "personal_burden": money(row["personal_burden"]),
            "alerts": [a.name for a in policy.alerts
                       if row[f"alert_{columns.alerts.index(a.name)}"]],
            "referrals": [r.name for r in policy.referrals
                          if row[f"referral_{columns.referrals.index(r.name)}"]],
        }


def _rows(table) -> Iterator[dict]:
    for batch in table.to_batches(max_chunksize=65_536):
        names = batch.schema.names
        values = [batch.column(i).to_pylist() for i in range(len(names))]
        for row in zip(*values):
            yield dict(zip(names, row))


def money(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def validate_suspects(engine, columns: ClaimColumns, records) -> tuple[list[dict], dict]:
    """The validator's verdict on suspect rows: typed rows it accepts, errors it gives."""
    accepted, errors = [], {}
    versions = [policy.policy_id for policy in engine.versions]
    for idx, line_number, record in records:
        try:
            claim = _validate(engine, record, line_number)
        except ClaimError as error:
            errors[idx] = error
            continue
        version = versions.index(engine.version_for(claim.date, claim.claim_id).policy_id)
        accepted.append(typed_row(claim, columns, version, idx, line_number))
    return accepted, errors


def validate_claims(engine, records) -> tuple[list[tuple[int, Claim]], dict]:
    """The validator's verdict on records (idx, line number, raw line or record):
    (idx, claim) for those it accepts, idx → ClaimError for those it refuses."""
    accepted, errors = [], {}
    for idx, line_number, record in records:
        try:
            accepted.append((idx, _validate(engine, record, line_number)))
        except ClaimError as error:
            errors[idx] = error
    return accepted, errors


def _validate(engine, record, line_number: int) -> Claim:
    try:
        if not isinstance(record, dict):
            record = decode_claim_line(record, line_number)
        return engine.validate(record)
    except ClaimError as error:
        if error.line_number is not None:
            raise
        raise attrs.evolve(error, line_number=line_number) from None


@attrs.define
class Refusals:
    """The claims a batch refuses, by input position, with the scalar path's errors."""

    plan: object
    errors: dict[int, ClaimError]

    def copies(self, rows) -> None:
        """Later copies of a claim id (C312); the first copy was settled."""
        for idx, claim_id, line_number in rows:
            self.errors[idx] = ClaimError(
                "C312", claim_id, "claim_id", f"claim {claim_id} appears twice in the batch",
                "claim ids are unique; the first one was settled", line_number)

    def unspecified(self, rows) -> None:
        """Claims that need a value the notice leaves open (C311), unless already refused."""
        for idx, claim_id, index, line_number in rows:
            if idx not in self.errors:
                need = self.plan.unspecified[index]
                self.errors[idx] = ClaimError("C311", claim_id, None, need.message, need.hint,
                                              line_number)


def arrow_typed_schema(columns: ClaimColumns):
    import pyarrow as pa

    fields = [("idx", pa.int64()), ("line_number", pa.int64()), ("claim_id", pa.string()),
              ("person_id", pa.string()), ("date", pa.date32()), ("year", pa.int64()),
              ("version", pa.int32()), ("scheme", pa.string()), ("visit", pa.string()),
              ("total_fen", pa.int64()), ("in_scope_fen", pa.int64())]
    fields += [(f"up_{i}", pa.int64()) for i in range(len(columns.upstream))]
    kinds = columns.field_types()
    fields += [(f"fld_{i}", pa.bool_() if kinds[name].type == "bool" else pa.int64())
               for i, name in enumerate(columns.fields)]
    fields += [(f"has_{i}", pa.bool_()) for i in range(len(columns.identities))]
    return pa.schema(fields)
