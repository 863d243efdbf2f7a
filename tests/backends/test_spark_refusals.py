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
from robustness.hostile_lines import GOOD_AFTER, GOOD_BEFORE
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
    assert [o.get("error") for o in scalar] == [
        None, "C302", "C302", "C302", "C302", "C302", None, "C300", "C300", "C300", "C300",
        "C300", None]
    assert list(run_backend(engine, str(path), "jsonl", "spark", spark).exchange()) == scalar
