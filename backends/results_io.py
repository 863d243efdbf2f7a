"""Writing results: JSON Lines (docs/claims.md, no trace) or Parquet, in input order.

Parquet results are flat, one column per line of defence, so an analyst reads
them with any SQL engine:

``claim_id``, ``policy``, ``identity``, ``payout.<line>`` (decimal(18,2), one
per line of any version), ``total_paid``, ``personal_burden``, ``alerts`` and
``referrals`` (list<string>), and for a refused claim ``error`` (its code),
``error_field``, ``error_message``, ``error_hint``, ``line``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from yibao.core import jsonl
from yibao.dsl.model import Policy


def result_columns(versions: Iterable[Policy]) -> list[str]:
    lines: list[str] = []
    for policy in versions:
        for line in policy.lines:
            if line.name not in lines:
                lines.append(line.name)
    return lines


def write_results(outcomes: Iterable[dict], path: str, fmt: str,
                  versions: Iterable[Policy]) -> int:
    """Write exchange-format outcomes (results and error objects); returns how many."""
    if fmt == "jsonl":
        return jsonl.write_file(outcomes, path)
    if fmt == "parquet":
        return _write_parquet(outcomes, path, result_columns(versions))
    raise ValueError(f"unknown results format {fmt}")


# Parquet dictionary-encodes only the result columns with few distinct values.  Ids,
# amounts, messages and line numbers are nearly all distinct: a dictionary there
# doubled the write time and grew the file (10^6 results: 1.34 s and 34 MiB, against
# 0.68 s and 27 MiB with these alone).
DICTIONARY_COLUMNS = ["policy", "identity", "alerts.list.element", "referrals.list.element",
                      "error", "error_field", "error_hint"]
# Min/max statistics only where a reader can skip a row group by them: the claim id
# (row groups hold the input in order), the policy (a batch across versions is in date
# order), the error code and field (a group without refusals).  Every group's amounts
# span nearly the whole range, so theirs skip nothing, and computing them was a quarter
# of writing 10^6 results (0.51 → 0.38 CPU s with none at all); every group holds
# every identity too, and its statistics were 12 ms of the 0.37 s (benchmarks/
# RESULTS.md, "The command line end to end").
STATISTICS_COLUMNS = ["claim_id", "policy", "error", "error_field"]


def parquet_schema(lines: list[str]):
    import pyarrow as pa

    money = pa.decimal128(18, 2)
    return pa.schema(
        [("claim_id", pa.string()), ("policy", pa.string()), ("identity", pa.string())]
        + [(f"payout.{line}", money) for line in lines]
        + [("total_paid", money), ("personal_burden", money),
           ("alerts", pa.list_(pa.string())), ("referrals", pa.list_(pa.string())),
           ("error", pa.string()), ("error_field", pa.string()), ("error_message", pa.string()),
           ("error_hint", pa.string()), ("line", pa.int64())])


def _write_parquet(outcomes: Iterable[dict], path: str, lines: list[str]) -> int:
    from yibao.backends.formats import write_parquet_rows

    return write_parquet_rows((_row(outcome) for outcome in outcomes), path,
                              parquet_schema(lines), use_dictionary=DICTIONARY_COLUMNS,
                              write_statistics=STATISTICS_COLUMNS)


def error_row(outcome: dict) -> dict:
    """A refused claim's row: its id and the error's code, field, message, hint, line."""
    return {"claim_id": outcome.get("claim_id"), "error": outcome["error"],
            "error_field": outcome.get("field"), "error_message": outcome.get("message"),
            "error_hint": outcome.get("hint"), "line": outcome.get("line")}


def _row(outcome: dict) -> dict:
    if "error" in outcome:
        return error_row(outcome)
    row = {"claim_id": outcome["claim_id"], "policy": outcome["policy"],
           "identity": outcome["identity"], "total_paid": Decimal(outcome["total_paid"]),
           "personal_burden": Decimal(outcome["personal_burden"]),
           "alerts": outcome["alerts"], "referrals": outcome["referrals"]}
    for line, amount in outcome["payouts"].items():
        row[f"payout.{line}"] = Decimal(amount)
    return row
