"""Spark refuses what the validator refuses, on the lines robustness found hard.

tests/robustness/test_backend_properties.py found two places where DuckDB and
the scalar evaluator read a JSON line differently (an id holding a control
character or a space SQL's TRIM keeps; a key given twice), and a review a third (a
trailing comma, which DuckDB's JSON parser takes).  Spark parses JSON
with its own functions, so the same lines go through it too: each claim's
outcome must be the scalar evaluator's (C302 and C300 here), the good claims
around them settled.
"""

from __future__ import annotations

import json

from helpers import POLICIES
from robustness.hostile_lines import GOOD_AFTER, GOOD_BEFORE, LOOK_ALIKE_IDS
from yibao.api import load_engine, outcome_to_json
from yibao.backends.formats import read_records
from yibao.backends.run import run_backend


def encode(claim: dict) -> bytes:
    return json.dumps(claim, ensure_ascii=False).encode()


def test_spark_refuses_odd_ids_and_keys_given_twice_as_the_validator_does(tmp_path, spark):
    lines = [encode(GOOD_BEFORE)]
    for field, value in [("claim_id", "a\u0001b"), ("person_id", "p\nq"), ("claim_id", "\t"),
                         ("claim_id", "\u0085"), ("claim_id", "\u001c"),
                         ("claim_id", "id\u3000x")]:
        claim = dict(GOOD_BEFORE, claim_id=f"odd-{len(lines)}", person_id="p-x")
        claim[field] = value
        lines.append(encode(claim))
    for key, value in [("total_cost", '"1.00"'), ("claim_id", '"other"'), ("identities", "[]")]:
        text = encode(dict(GOOD_BEFORE, claim_id=f"twice-{len(lines)}", person_id="p-y"))
        lines.append(text[:-1] + f', "{key}": {value}}}'.encode())
    for old, new in [(b'"}}', b'"},}'), (b'"]', b'", ]')]:   # a trailing comma (C300)
        lines.append(encode(dict(GOOD_BEFORE, claim_id=f"comma-{len(lines)}")).replace(old, new))
    lines.append(encode(GOOD_AFTER))
    path = tmp_path / "claims.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    engine = load_engine(POLICIES / "benxi-2023.policy")
    scalar = [outcome_to_json(o, trace=False)
              for o in engine.evaluate_records(read_records(str(path), "jsonl"))]
    # id\u3000x: settled before issue 21, now refused (an ideographic space in an id)
    assert [o.get("error") for o in scalar] == [
        None, "C302", "C302", "C302", "C302", "C302", "C302", "C300", "C300", "C300", "C300",
        "C300", None]
    assert list(run_backend(engine, str(path), "jsonl", "spark", spark).exchange()) == scalar


def _look_alike_claims() -> list[dict]:
    claims = [GOOD_BEFORE]
    for field in ("claim_id", "person_id"):
        for value in LOOK_ALIKE_IDS.values():
            claim = dict(GOOD_BEFORE, claim_id=f"odd-{len(claims)}", person_id="p-x")
            claims.append(dict(claim, **{field: value}))
    # several problems in one claim: one error naming each (item 13)
    claims.append(dict(GOOD_BEFORE, claim_id="many", person_id="p\u200b", visit="急诊",
                       total_cost="10.00", identities=["外星人"]))
    many = dict(GOOD_BEFORE, claim_id="missing")
    del many["date"], many["visit"]
    claims.append(many)
    return claims + [GOOD_AFTER]


def test_spark_refuses_look_alike_ids_and_reports_every_problem_as_the_validator_does(
        tmp_path, spark):
    from yibao.backends.formats import write_records

    engine = load_engine(POLICIES / "benxi-2023.policy")
    claims = _look_alike_claims()
    for fmt in ("jsonl", "csv", "parquet"):
        path = tmp_path / f"claims.{fmt}"
        write_records(claims, str(path), fmt, engine.versions)
        scalar = [outcome_to_json(o, trace=False)
                  for o in engine.evaluate_records(read_records(str(path), fmt))]
        assert [o.get("error") for o in scalar] == [None] + ["C302"] * 22 + ["C302", "C301",
                                                                            None], fmt
        assert [p["error"] for p in scalar[-3]["problems"]] == ["C302", "C305", "C313", "C304"]
        assert [p["field"] for p in scalar[-2]["problems"]] == ["date", "visit"]
        assert list(run_backend(engine, str(path), fmt, "spark", spark).exchange()) == scalar, fmt
        assert list(run_backend(engine, str(path), fmt, "duckdb").exchange()) == scalar, fmt


def test_spark_reads_gbk_and_byte_order_marked_csv_as_the_others_do(tmp_path, spark):
    """Issue 21, item 9: the file every backend reads is prepared once
    (backends/encodings.py); Spark's own CSV reader never sees GBK or a mark."""
    from yibao.backends.encodings import utf8_claims
    from yibao.backends.formats import write_records

    engine = load_engine(POLICIES / "benxi-2023.policy")
    plain = tmp_path / "plain.csv"
    write_records([GOOD_BEFORE, GOOD_AFTER], str(plain), "csv", engine.versions)
    expected = [outcome_to_json(o, trace=False)
                for o in engine.evaluate_records(read_records(str(plain), "csv"))]
    assert [o["identity"] for o in expected] == ["低保对象", "特困人员"]
    for encoding in ("gbk", "utf-8-sig"):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(plain.read_text("utf-8").encode(encoding))
        with utf8_claims(str(path), "csv", encoding) as readable:
            got = list(run_backend(engine, readable, "csv", "spark", spark).exchange())
        assert got == expected, encoding
