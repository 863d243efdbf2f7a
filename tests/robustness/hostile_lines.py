"""Hostile and broken claim lines, each with the error yibao gives it (docs/claims.md).

Each bad line is a Benxi 2023 claim of person p-x with one thing broken (or not
a claim at all), and the code, claim id and field its error object carries.
"""

from __future__ import annotations

import json

GOOD_BEFORE = {
    "claim_id": "good-before", "person_id": "p-a", "date": "2023-03-01",
    "identities": ["低保对象"], "scheme": "居民医保", "visit": "住院",
    "total_cost": "40000.00", "in_scope_cost": "35000.00",
    "paid": {"基本医保": "17000.00", "大病保险": "3000.00"},
}
GOOD_AFTER = {
    "claim_id": "good-after", "person_id": "p-b", "date": "2023-04-01",
    "identities": ["特困人员"], "scheme": "居民医保", "visit": "住院",
    "total_cost": "12000.00", "in_scope_cost": "10000.00",
    "paid": {"基本医保": "6000.00", "大病保险": "0.00"},
}


def line(**changes) -> bytes:
    """A claim of person p-x changed as given (``...`` drops a field)."""
    data = dict(GOOD_BEFORE, claim_id="bad", person_id="p-x")
    for key, value in changes.items():
        if value is ...:
            data.pop(key)
        else:
            data[key] = value
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def text(raw: str) -> bytes:
    return raw.encode("utf-8")


# (bad line, code, claim id read from it, field)
HOSTILE = {
    "money of the wrong type": (line(total_cost=[40000]), "C302", "bad", "total_cost"),
    "money as true": (line(total_cost=True), "C302", "bad", "total_cost"),
    "identities not a list": (line(identities="低保对象"), "C302", "bad", "identities"),
    "date as a number": (line(date=20230301), "C302", "bad", "date"),
    "impossible date": (line(date="2023-02-30"), "C302", "bad", "date"),
    "negative money": (line(total_cost="-1.00"), "C303", "bad", "total_cost"),
    "NaN as a string": (line(in_scope_cost="NaN"), "C303", "bad", "in_scope_cost"),
    "Infinity as a string": (line(total_cost="Infinity"), "C303", "bad", "total_cost"),
    "NaN as a bare JSON word": (text('{"claim_id": "bad", "total_cost": NaN}'), "C300", "bad", None),
    "three decimals": (line(in_scope_cost="35000.005"), "C303", "bad", "in_scope_cost"),
    "in-scope above total": (line(in_scope_cost="40000.01"), "C304", "bad", "in_scope_cost"),
    "unknown identity": (line(identities=["外星人"]), "C305", "bad", "identities"),
    "unknown field": (line(colour="red"), "C306", "bad", "colour"),
    "date before the policy": (line(date="2022-12-31"), "C310", "bad", "date"),
    "truncated JSON": (line()[:70], "C300", "bad", None),
    "huge amount as a string": (line(total_cost="1e400"), "C303", "bad", "total_cost"),
    "huge JSON number": (text(line().decode().replace('"40000.00"', "1e400")), "C303", "bad",
                         "total_cost"),
    "huge integer": (line(total_cost=10 ** 40), "C303", "bad", "total_cost"),
    "non-UTF-8 bytes": (b'{"claim_id": "bad", "person_id": "\xff\xfe"}', "C300", None, None),
    "deeply nested arrays": (b"[" * 100_000 + b"]" * 100_000, "C300", None, None),
    "deeply nested objects": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "C300", None, None),
    "an array instead of an object": (text(f"[{line().decode()}]"), "C300", None, None),
    "a bare string": (text('"claim"'), "C300", None, None),
    "null": (text("null"), "C300", None, None),
    "missing person": (line(person_id=...), "C301", "bad", "person_id"),
    "missing upstream payout": (line(paid={"基本医保": "17000.00"}), "C307", "bad", "paid.大病保险"),
    "upstream beyond the in-scope cost": (
        line(paid={"基本医保": "30000.00", "大病保险": "6000.00"}), "C308", "bad", "paid.大病保险"),
    "a payout yibao computes": (
        line(paid={"基本医保": "0", "大病保险": "0", "基本救助": "1"}), "C309", "bad", "paid.基本救助"),
    "unknown visit": (line(visit="急诊"), "C313", "bad", "visit"),
    "claim id too long": (line(claim_id="x" * 201), "C302", None, "claim_id"),
    "claim id a number": (line(claim_id=7), "C302", None, "claim_id"),
    "bool field as text": (line(in_province="yes"), "C302", "bad", "in_province"),
    "count field with a fraction": (line(bed_days=1.5), "C302", "bad", "bed_days"),
    # issue 21: several problems, one error (the first problem's code and field)
    "several fields missing": (line(date=..., visit=..., total_cost=...), "C301", "bad", "date"),
    "several fields bad": (line(person_id="p x", visit="急诊", total_cost="1,0"), "C302", "bad",
                           "person_id"),
}

# Issue 21: ids holding an invisible character or one NFKC changes; each was settled as
# a new id (a fresh claim; as a person, a fresh yearly cap).
LOOK_ALIKE_IDS = {
    "U+200B": "bad\u200b", "U+202E": "\u202ebad", "U+FEFF": "\ufeffbad", "U+2060": "b\u2060ad",
    "U+00AD": "b\u00adad", "U+0085": "bad\u0085", "U+2028": "bad\u2028", "NBSP": "b\u00a0ad",
    "trailing space": "bad ", "full-width letters": "ｂａｄ", "e + U+0301": "bade\u0301",
}
for _name, _value in LOOK_ALIKE_IDS.items():
    HOSTILE[f"claim id with {_name}"] = (line(claim_id=_value), "C302", None, "claim_id")
    HOSTILE[f"person id with {_name}"] = (line(person_id=_value), "C302", "bad", "person_id")


# Lines the JSON decoder reads otherwise than a lenient typed read would (Arrow's, DuckDB's),
# or refuses: the JSON Lines readers of the batch backends must leave each to the validator
# (tests/backends/test_jsonl_typed.py, test_jsonl_claims.py)
MISREAD = {
    "a key twice": text('{"claim_id": "a", "claim_id": "b"}'),
    "a paid line twice": text(line().decode().replace(
        '"基本医保": "17000.00"', '"基本医保": "17000.00", "基本医保": "1.00"')),
    "an unknown key": line(colour="red"),
    "an unknown paid line": line(paid={"基本医保": "1.00", "外星医保": "1.00"}),
    "a trailing comma": line()[:-1] + b", }",
    "a trailing comma in a list": text(line().decode().replace('["低保对象"]', '["低保对象",]')),
    "money as a JSON number": text(line().decode().replace('"40000.00"', "40000.5")),
    "money as a JSON integer": text(line().decode().replace('"40000.00"', "40000")),
    "a null": line(visit=None),
    "a null in a paid line": line(paid={"基本医保": None, "大病保险": "1.00"}),
    "null in a text": line(claim_id="nullish"),
    "two objects": line() + b" " + line(),
    "a list": text("[1, 2]"),
    "a lone surrogate": text(line().decode().replace('"bad"', '"\\ud800"')),
    "a control character": text(line().decode().replace('"bad"', '"b\x01d"')),
    "a count of NaN": text(line()[:-1].decode() + ', "bed_days": NaN}'),
    "a count with a fraction": text(line()[:-1].decode() + ', "bed_days": 2.5}'),
    "a count too large": text(line()[:-1].decode() + ', "bed_days": 99999999999999999999}'),
    "a flag as text": text(line()[:-1].decode() + ', "referred": "true"}'),
    "a byte-order mark": b"\xef\xbb\xbf" + line(),
    "truncated": line()[:70],
}


def write_claims_among_bad_lines(engine, path, count: int = 20_000, seed: int = 5) -> int:
    """``count`` synthetic claims of ``engine`` as JSON Lines at ``path``, with every
    HOSTILE and MISREAD line spread among them, one each 700 lines: more than one of
    Arrow's blocks (backends/jsonl_typed.py) holds good and bad lines together.  Returns
    how many bad lines went in."""
    from yibao.backends.formats import write_records
    from yibao.backends.synthetic import synthetic_claims

    write_records(list(synthetic_claims(engine.loaded, count, seed=seed)), str(path), "jsonl",
                  engine.versions)
    lines = path.read_bytes().splitlines()
    bad = [HOSTILE[case][0] for case in sorted(HOSTILE)] + [MISREAD[c] for c in sorted(MISREAD)]
    for k, raw in enumerate(bad):
        lines.insert(1 + k * 700, raw)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return len(bad)
