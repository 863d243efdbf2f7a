"""Bad claims are refused exactly as the scalar path refuses them (DOMAIN.md §5, C3xx).

The SQL admission only vouches for plain claims; every other row goes to the
project's validator, so each backend must give the same code, field, message,
hint and line for every spoiled claim, in every input format.  Jiamusi 2022
adds what the computable policies lack: a version change on 2022-01-01, bands
(§二.1) and values left unspecified (C311 for 特困人员, 低保对象, 返贫致贫人口).
"""

from __future__ import annotations

import unicodedata

import pytest

from helpers import POLICIES
from yibao.api import load_engine
from yibao.backends.admission import _text_ok
from yibao.backends.formats import read_records, write_records
from yibao.backends.run import run_backend
from yibao.backends.synthetic import (CORRUPTIONS, FLAT_CORRUPTIONS, corrupt,
                                      synthetic_claims)
from yibao.compiler.results import outcome_to_json


def _outcomes(engine, tmp_path, fmt, kinds, count=3000, share=0.1, seed=9):
    claims = corrupt(list(synthetic_claims(engine.loaded, count, seed=seed)), share, seed, kinds)
    path = tmp_path / f"claims.{fmt}"
    write_records(claims, str(path), fmt, engine.versions)
    scalar = [outcome_to_json(o, trace=False)
              for o in engine.evaluate_records(read_records(str(path), fmt))]
    return path, scalar


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_duckdb_refuses_what_the_scalar_path_refuses(benxi_engine, tmp_path, fmt):
    kinds = CORRUPTIONS if fmt == "jsonl" else FLAT_CORRUPTIONS
    path, scalar = _outcomes(benxi_engine, tmp_path, fmt, kinds)
    codes = {o["error"] for o in scalar if "error" in o}
    # every spoilt kind shows up: missing field, bad money, unknown names, duplicates, …
    assert {"C301", "C305", "C310", "C312", "C304", "C308", "C313"} <= codes
    if fmt == "jsonl":
        assert {"C300", "C302", "C303", "C306", "C307"} <= codes
    got = list(run_backend(benxi_engine, str(path), fmt, "duckdb").exchange())
    assert got == scalar


def test_spark_refuses_what_the_scalar_path_refuses(benxi_engine, tmp_path, spark):
    path, scalar = _outcomes(benxi_engine, tmp_path, "jsonl", CORRUPTIONS)
    assert list(run_backend(benxi_engine, str(path), "jsonl", "spark", spark).exchange()) == scalar


def test_jiamusi_versions_bands_and_unspecified_values(tmp_path, spark):
    """Claims of 2021, 2022 and 2023 under Jiamusi 2021 → 2022: the 2022 bands, the
    version in force on each claim's date, and C311 where the notice gives no rate."""
    engine = load_engine(POLICIES / "jiamusi-2022.policy")
    path, scalar = _outcomes(engine, tmp_path, "jsonl", CORRUPTIONS, count=20_000, share=0.01)
    policies = {o.get("policy") for o in scalar}
    assert {"jiamusi-2021", "jiamusi-2022"} <= policies
    assert sum(1 for o in scalar if o.get("error") == "C311") > 1000
    for backend in ("duckdb", "spark"):
        got = list(run_backend(engine, str(path), "jsonl", backend, spark).exchange())
        assert got == scalar, backend


@pytest.mark.parametrize("paid, code", [
    # 大病兜底's bound (Jilin §二(一)): total_cost − 基本医保 − 大病保险 − 医疗救助
    ({"基本医保": "0.00", "大病保险": "1.00", "医疗救助": "0.00", "大病兜底": "0.01"}, "C308"),
    ({"基本医保": "0.40", "大病保险": "0.30", "医疗救助": "0.20", "大病兜底": "0.11"}, "C308"),
    ({"基本医保": "0.40", "大病保险": "0.30", "医疗救助": "0.20", "大病兜底": "0.10"}, None),
])
def test_a_bound_less_several_earlier_lines_is_checked_in_sql(tmp_path, paid, code):
    """Found by tests/robustness/test_backend_properties.py: sqlglot renders a tree
    without adding parentheses, so the SQL checked total − 基本医保 + 大病保险 + 医疗救助
    and settled claims the validator refuses (C308)."""
    import json

    engine = load_engine(POLICIES / "jilin-2019.policy")
    claim = {"claim_id": "c-1", "person_id": "p-1", "date": "2019-12-12",
             "identities": ["建档立卡贫困人口"], "scheme": "居民医保", "visit": "住院",
             "total_cost": "1.00", "in_scope_cost": "1.00", "paid": paid}
    path = tmp_path / "claims.jsonl"
    path.write_text(json.dumps(claim, ensure_ascii=False) + "\n", encoding="utf-8")
    scalar = [outcome_to_json(o, trace=False)
              for o in engine.evaluate_records(read_records(str(path), "jsonl"))]
    assert scalar[0].get("error") == code
    assert list(run_backend(engine, str(path), "jsonl", "duckdb").exchange()) == scalar


def _usual(text: str) -> bool:
    """No control character and no space of any kind (Unicode Cc and Z)."""
    return not any(unicodedata.category(c) == "Cc" or unicodedata.category(c).startswith("Z")
                   for c in text)


def test_the_sql_vouches_for_an_id_exactly_when_it_holds_no_control_character_or_space():
    """The id check of the SQL admission against Python's own Unicode categories: an id
    it passes must be one the validator would not strip or refuse."""
    import duckdb

    ids = ["syn-0000001", "p~!{}", "a b", "a\tb", "a\x7fb", "a\x1fb", "患者-001", "ＩＤ１",
           "id\u3000x", "id\u00a0x", "id\u0085x", "id\u2028x", "e\u0301", "😀", "", "x" * 100,
           "x" * 101]
    check = _text_ok("claim_id").sql("duckdb")
    rows = duckdb.connect().execute(
        f"SELECT claim_id, {check} FROM (SELECT unnest(?) AS claim_id)", [ids]).fetchall()
    assert rows == [(text, text != "" and len(text) <= 100 and _usual(text)) for text in ids]
