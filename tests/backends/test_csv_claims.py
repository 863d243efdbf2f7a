"""CSV claims as the columnar engine's typed table (backends/csv_claims.py).

Every outcome must be the scalar path's (formats._read_csv, then the validator):
the same results, and for each refused row the same code, claim id, field,
message, hint and line number; the cells the typed table cannot hold as the
scalar reader types them (a whole-number or boolean money cell, a field cell of
another kind, a cell in an unknown column) are judged by the validator.
"""

from __future__ import annotations

import csv

from yibao.backends.columns import ClaimColumns
from yibao.backends.csv_claims import read_typed_claims
from yibao.backends.formats import read_records, write_records
from yibao.backends.run import run_backend
from yibao.backends.synthetic import synthetic_claims
from yibao.runtime.results import outcome_to_json

HEADER = ["claim_id", "person_id", "date", "identities", "scheme", "visit", "total_cost",
          "in_scope_cost", "paid.基本医保", "paid.大病保险", "in_province", "referred",
          "mental_disorder", "bed_days", "colour"]
GOOD = {"claim_id": "good", "person_id": "p-a", "date": "2023-03-01", "identities": "低保对象",
        "scheme": "居民医保", "visit": "住院", "total_cost": "40000.00",
        "in_scope_cost": "35000.00", "paid.基本医保": "17000.00", "paid.大病保险": "3000.00"}
ROWS = {   # claim id → the cells changed from GOOD
    "money-whole": {"total_cost": "40000"},
    "money-bool": {"in_scope_cost": "true"},
    "money-text": {"total_cost": "四万"},
    "money-3-places": {"total_cost": "40000.001"},
    "flag-yes": {"referred": "yes"},
    "flag-true": {"referred": "true", "in_province": "false"},
    "count-fraction": {"visit": "住院", "bed_days": "2.5"},
    "count-huge": {"bed_days": "99999999999999999999"},
    "count-ok": {"bed_days": "12"},
    "colour": {"colour": "red"},
    "no-identity": {"identities": ""},
    "empty-names": {"identities": "低保对象;;"},
    "unknown-identity": {"identities": "外星人"},
    "feb-30": {"date": "2023-02-30"},
    "short-date": {"date": "2023-3-1"},
    "no-scheme": {"scheme": ""},
    "scheme-na": {"scheme": "NA"},          # text, not Arrow's default null "NA"
    "null-visit": {"visit": "null"},
    "": {},
    "twice": {},
}


def _write(path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as out:   # Excel's byte-order mark
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow([row.get(name, "") for name in HEADER])


def _rows() -> list[dict]:
    rows = [dict(GOOD)]
    for claim_id, changes in ROWS.items():
        rows.append({**GOOD, "claim_id": claim_id, "person_id": f"p-{len(rows)}", **changes})
    rows.append({**GOOD, "claim_id": "twice", "person_id": "p-twice"})
    return rows


def _scalar(engine, path) -> list[dict]:
    return [outcome_to_json(o, trace=False)
            for o in engine.evaluate_records(read_records(str(path), "csv"))]


def test_every_odd_cell_is_judged_as_the_scalar_path_judges_it(benxi_engine, tmp_path):
    path = tmp_path / "claims.csv"
    _write(path, _rows())
    scalar = _scalar(benxi_engine, path)
    got = list(run_backend(benxi_engine, str(path), "csv", "columnar").exchange())
    assert got == scalar
    refused = {o["claim_id"]: o["error"] for o in scalar if "error" in o}
    # docs/errors.md: C301 missing, C302 wrong type or form, C303 not money, C305 unknown
    # identity, C306 unknown field, C312 a claim id twice, C313 a value outside its list
    # ("NA", "null": text, not missing); the rest settled
    assert refused == {"money-bool": "C302", "money-text": "C303", "money-3-places": "C303",
                       "flag-yes": "C302", "count-fraction": "C302", "count-huge": "C302",
                       "colour": "C306", "unknown-identity": "C305", "feb-30": "C302",
                       "short-date": "C302", "no-scheme": "C301", None: "C301",
                       "twice": "C312", "scheme-na": "C313", "null-visit": "C313"}


def test_rows_the_table_can_hold_are_typed_and_the_others_judged(benxi_engine, tmp_path):
    path = tmp_path / "claims.csv"
    _write(path, [GOOD, {**GOOD, "claim_id": "c2", "referred": "true", "bed_days": "3",
                         "identities": ";低保对象;"},
                  {**GOOD, "claim_id": "c3", "colour": "red"},
                  {**GOOD, "claim_id": "c4", "total_cost": "40000"}])
    claims = read_typed_claims(benxi_engine, ClaimColumns.of(benxi_engine.versions), str(path))
    assert list(claims.refusals) == [2]                       # colour: an unknown field
    assert claims.lines.tolist() == [2, 3, 5]                 # the header is line 1
    table = claims.table
    assert table.column("claim_id").to_pylist() == ["good", "c2", "c4"]
    assert table.column("referred").to_pylist() == [None, True, False]   # c4: the validator's
    assert table.column("bed_days").to_pylist()[:2] == [None, 3]
    assert table.column("identities").to_pylist()[:2] == [["低保对象"], ["低保对象"]]
    # c4 as the validator read it: 40000 yuan, to the fen
    assert table.column("total_cost").to_pylist() == ["40000.00", "40000.00", "40000.00"]


def test_20000_synthetic_claims_settle_as_the_scalar_path(benxi_engine, tmp_path):
    path = tmp_path / "claims.csv"
    write_records(synthetic_claims(benxi_engine.loaded, 20_000, seed=7), str(path), "csv",
                  benxi_engine.versions)
    got = list(run_backend(benxi_engine, str(path), "csv", "columnar").exchange())
    assert got == _scalar(benxi_engine, path)
