"""Bad claims are refused exactly as the scalar path refuses them (docs/claims.md, C3xx).

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
from robustness.hostile_lines import GOOD_AFTER, GOOD_BEFORE, LOOK_ALIKE_IDS
from yibao.api import load_engine
from yibao.backends.admission import SAFE_ID_RANGES, _text_ok
from yibao.backends.formats import read_records, write_records
from yibao.backends.run import run_backend
from yibao.backends.synthetic import (CORRUPTIONS, FLAT_CORRUPTIONS, corrupt,
                                      synthetic_claims)
from yibao.runtime.claims import _id
from yibao.runtime.results import outcome_to_json


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


def _safe(text: str) -> bool:
    """Every character printable ASCII but the space, or a CJK ideograph of U+4E00–U+9FA5."""
    return all("!" <= c <= "~" or "\u4e00" <= c <= "\u9fa5" for c in text)


def test_the_sql_vouches_for_an_id_exactly_when_it_is_of_the_safe_repertoire():
    """The SQL admits an id on its own only when it is short and of the safe repertoire;
    every other id (spaces, controls, format characters, full-width letters, other
    scripts) goes to the validator."""
    import duckdb

    ids = ["syn-0000001", "p~!{}", "a b", "a\tb", "a\x7fb", "a\x1fb", "患者-001", "ＩＤ１",
           "id\u3000x", "id\u00a0x", "id\u0085x", "id\u2028x", "e\u0301", "😀", "", "x" * 100,
           "x" * 101, "ｃ-1", "c\u200b-1", "c\u202e-1", "\ufeffc-1", "c\u2060-1", "c\u00ad-1",
           "c-1 ", "é", "龥", "\u9fa6", "\u4dff", "\uf9f1", "Ⅻ"]
    check = _text_ok("claim_id").sql("duckdb")
    rows = duckdb.connect().execute(
        f"SELECT claim_id, {check} FROM (SELECT unnest(?) AS claim_id)", [ids]).fetchall()
    assert rows == [(text, text != "" and len(text) <= 100 and _safe(text)) for text in ids]


def test_every_id_of_the_safe_repertoire_is_one_the_validator_accepts():
    """What lets the SQL admit such ids without the validator: each safe character is
    NFKC-stable, of no refused category, a starter (combining class 0), and no
    canonical composition takes it as its second character, so no text made of them
    can be changed by NFKC (which only decomposes, and composes a starter with what
    follows it), nor hold an invisible character."""
    safe = [chr(c) for low, high in SAFE_ID_RANGES for c in range(ord(low), ord(high) + 1)]
    assert len(safe) == 94 + 20902
    for character in safe:
        assert unicodedata.category(character)[0] in "LNPS", hex(ord(character))
        assert unicodedata.normalize("NFKD", character) == character, hex(ord(character))
        assert unicodedata.combining(character) == 0, hex(ord(character))
    seconds = set()
    for code in range(0x110000):
        parts = unicodedata.decomposition(chr(code)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):   # canonical pairs compose
            seconds.add(chr(int(parts[1], 16)))
    assert not seconds & set(safe)
    sample = "".join(safe[::97])
    record = {"claim_id": sample[:100], "person_id": sample[100:200]}
    assert _id(record, "claim_id", None) == sample[:100]
    assert _id(record, "person_id", None) == sample[100:200]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_duckdb_refuses_look_alike_ids_and_names_every_problem_as_the_scalar_path(
        benxi_engine, tmp_path, fmt):
    """Issue 21: ids with an invisible or NFKC-changed character are C302 on every path
    (the SQL leaves every id outside its safe repertoire to the validator), and a claim
    with several problems is one error listing each (item 13), in every format."""
    claims = [GOOD_BEFORE]
    for value in LOOK_ALIKE_IDS.values():
        claims.append(dict(GOOD_BEFORE, claim_id=value, person_id="p-x"))
        claims.append(dict(GOOD_BEFORE, claim_id=f"odd-{len(claims)}", person_id=value))
    claims.append(dict(GOOD_BEFORE, claim_id="many", person_id="p x", visit="急诊",
                       total_cost="10.00", identities=["外星人"]))
    claims.append(GOOD_AFTER)
    path = tmp_path / f"claims.{fmt}"
    write_records(claims, str(path), fmt, benxi_engine.versions)
    scalar = [outcome_to_json(o, trace=False)
              for o in benxi_engine.evaluate_records(read_records(str(path), fmt))]
    assert [o.get("error") for o in scalar] == [None] + ["C302"] * (2 * len(LOOK_ALIKE_IDS) + 1) \
        + [None]
    assert [(p["error"], p["field"]) for p in scalar[-2]["problems"]] == [
        ("C302", "person_id"), ("C305", "identities"), ("C313", "visit"), ("C304", "in_scope_cost")]
    assert list(run_backend(benxi_engine, str(path), fmt, "duckdb").exchange()) == scalar
