"""`yibao settle --book`: year-to-date across runs, late claims, withdrawals, corrections.

Claims: Benxi's example file, person p-01 (低保边缘家庭成员, 住院).  Burdens after
基本医保 and 大病保险: bx-0001 35,000 − 17,000 − 3,000 = 15,000; bx-0002
26,000 − 14,000 − 2,000 = 10,000; bx-0003 46,000 − 22,000 − 4,000 = 20,000.
Benxi §(五) 基本救助 for 低保边缘家庭成员: deductible 2,000, 60%, cap 20,000 a
year: 7,800, then 6,000 (13,800 − 7,800), then 6,200 (20,000 − 13,800), not
the 10,800 ((20,000 − 2,000) × 60%) of a run that starts the year from zero.
倾斜救助 (deductible 3,000, 60%, no cap) on what 基本救助 leaves: 7,200, 4,000,
13,800 (year to date 7,200, 11,200, 25,000): 2,520, 2,400, 8,280.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal

import pytest

from helpers import BENXI_REVISION as REVISION, EXAMPLES, POLICIES
from yibao.audit.stores import open_store
from yibao.audit.verify import verify_store
from yibao.cli.main import EXIT_CLAIMS_FAILED, EXIT_OK, EXIT_USAGE, main

POLICY = str(POLICIES / "benxi-2023.policy")
EXAMPLE = {json.loads(line)["claim_id"]: json.loads(line)
           for line in (EXAMPLES / "benxi-2023.jsonl").read_text(encoding="utf-8").splitlines()}
BASIC, TILTED = "基本救助", "倾斜救助"


@pytest.fixture
def book(tmp_path):
    return str(tmp_path / "book.db")


@pytest.fixture
def settle(tmp_path, book, capsys):
    """Run `yibao settle` over the given lines; (exit status, report entries)."""
    runs = iter(range(1, 1000))

    def run(*records, expect=None):
        path = tmp_path / f"run{next(runs)}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                        encoding="utf-8")
        status = main(["settle", POLICY, str(path), "--book", book])
        out = capsys.readouterr().out
        if expect is not None:
            assert status == expect
        return status, [json.loads(line) for line in out.splitlines()]
    return run


def records(book) -> list[dict]:
    db = sqlite3.connect(book)
    rows = db.execute("SELECT body FROM records ORDER BY seq").fetchall()
    db.close()
    return [json.loads(body) for (body,) in rows]


def nets(book) -> dict[tuple[str, str], str]:
    """(claim, line) → settlement plus adjustments, from the chain itself."""
    from decimal import Decimal

    total: dict[tuple[str, str], Decimal] = {}
    for body in records(book):
        if body["kind"] == "settlement":
            for line, amount in body["payable"].items():
                total[body["claim_id"], line] = total.get((body["claim_id"], line), 0) + Decimal(amount)
        elif body["kind"] == "adjustment":
            key = (body["claim_id"], body["line"])
            total[key] = total.get(key, 0) + Decimal(body["delta"])
    return {key: f"{value:.2f}" for key, value in total.items() if key[1] in (BASIC, TILTED)}


def test_the_year_continues_from_the_book_in_a_second_run(settle):
    # The Benxi example: two runs, one store, 6,200 and not 10,800.
    _, first = settle(EXAMPLE["bx-0001"], EXAMPLE["bx-0002"], expect=EXIT_OK)
    _, second = settle(EXAMPLE["bx-0003"], expect=EXIT_OK)
    assert [(e["kind"], e["claim_id"], e["payouts"][BASIC]) for e in first + second] == [
        ("settlement", "bx-0001", "7800.00"), ("settlement", "bx-0002", "6000.00"),
        ("settlement", "bx-0003", "6200.00")]
    assert second[0]["payouts"][TILTED] == "8280.00"


def test_a_late_claim_adjusts_the_later_ones_and_rewrites_nothing(settle, book):
    settle(EXAMPLE["bx-0003"], expect=EXIT_OK)           # alone: 10,800 and 3,720
    before = records(book)
    _, report = settle(EXAMPLE["bx-0002"], EXAMPLE["bx-0001"], expect=EXIT_OK)
    assert [(e["kind"], e["claim_id"]) for e in report] == [
        ("settlement", "bx-0002"), ("settlement", "bx-0001"),
        ("adjustment", "bx-0003"), ("adjustment", "bx-0003")]
    adjustments = {e["line"]: e for e in report[2:]}
    # bx-0003 now comes after 25,000 of burden: 基本救助 6,200, so 4,600 is recovered;
    # 倾斜救助 8,280, so 8,280 − 3,720 = 4,560 is paid out.  The cause: the first late
    # claim in date order.
    assert (adjustments[BASIC]["delta"], adjustments[BASIC]["direction"],
            adjustments[BASIC]["net"]) == ("-4600.00", "追回", "6200.00")
    assert (adjustments[TILTED]["delta"], adjustments[TILTED]["direction"],
            adjustments[TILTED]["net"]) == ("4560.00", "补付", "8280.00")
    assert {e["caused_by"]["claim_id"] for e in report[2:]} == {"bx-0001"}
    # Claims arriving together settle in date order: bx-0001 pays 7,800 although it
    # came second in the file.
    assert report[1]["payouts"][BASIC] == "7800.00"
    assert records(book)[:len(before)] == before
    assert nets(book) == {("bx-0001", BASIC): "7800.00", ("bx-0002", BASIC): "6000.00",
                          ("bx-0003", BASIC): "6200.00", ("bx-0001", TILTED): "2520.00",
                          ("bx-0002", TILTED): "2400.00", ("bx-0003", TILTED): "8280.00"}


def test_a_withdrawal_recovers_the_claim_and_resettles_the_rest(settle, book):
    settle(EXAMPLE["bx-0001"], EXAMPLE["bx-0002"], EXAMPLE["bx-0003"], expect=EXIT_OK)
    _, report = settle({"claim_id": "bx-0001", "withdraw": True, "reason": "冲正"},
                       expect=EXIT_OK)
    assert report[0]["kind"] == "withdrawal"
    # Without bx-0001, 基本救助: bx-0002 pays (10,000 − 2,000) × 60% = 4,800 and
    # bx-0003 (30,000 − 2,000) × 60% − 4,800 = 12,000 (the cap is not reached).
    assert nets(book)[("bx-0001", BASIC)] == "0.00"
    assert nets(book)[("bx-0001", TILTED)] == "0.00"
    assert nets(book)[("bx-0002", BASIC)] == "4800.00"
    assert nets(book)[("bx-0003", BASIC)] == "12000.00"
    # 倾斜救助: bases 10,000 − 4,800 = 5,200 and 20,000 − 12,000 = 8,000, year to date
    # 5,200 then 13,200: (5,200 − 3,000) × 60% = 1,320; (13,200 − 3,000) × 60% − 1,320 = 4,800.
    assert nets(book)[("bx-0002", TILTED)] == "1320.00"
    assert nets(book)[("bx-0003", TILTED)] == "4800.00"
    assert all(e["caused_by"] == {"claim_id": "bx-0001", "kind": "withdrawal"}
               for e in report[1:])
    _, again = settle({"claim_id": "bx-0001", "withdraw": True}, expect=EXIT_OK)
    assert [e["kind"] for e in again] == ["already_withdrawn"]


def test_a_correction_replaces_the_claim_through_adjustments(settle, book):
    settle(EXAMPLE["bx-0001"], EXAMPLE["bx-0002"], EXAMPLE["bx-0003"], expect=EXIT_OK)
    corrected = {**EXAMPLE["bx-0001"], "in_scope_cost": "32000.00", "correction": True}
    _, report = settle(corrected, expect=EXIT_OK)
    assert report[0]["kind"] == "correction"
    # Burden 12,000: 基本救助 6,000 (−1,800); bx-0002 still 6,000 (year to date 22,000,
    # 12,000 in all); bx-0003: min(20,000, 40,000 × 60%) − 12,000 = 8,000 (+1,800).
    # 倾斜救助: 6,000 → 1,800 (−720); bx-0002 4,000 → 4,200 − 1,800 = 2,400 (same);
    # bx-0003 12,000 → 19,000 × 60% − 4,200 = 7,200 (−1,080).
    assert {(e["claim_id"], e["line"], e["delta"]) for e in report[1:]} == {
        ("bx-0001", BASIC, "-1800.00"), ("bx-0003", BASIC, "1800.00"),
        ("bx-0001", TILTED, "-720.00"), ("bx-0003", TILTED, "-1080.00")}
    assert nets(book)[("bx-0003", BASIC)] == "8000.00"
    # The same correction again, or the original claim again: already settled.
    _, again = settle(corrected, EXAMPLE["bx-0001"], expect=EXIT_OK)
    assert [e["kind"] for e in again] == ["already_settled", "already_settled"]


def test_a_withdrawn_claim_is_reinstated_by_a_correction(settle, book):
    settle(EXAMPLE["bx-0001"], EXAMPLE["bx-0003"], expect=EXIT_OK)
    settle({"claim_id": "bx-0001", "withdraw": True}, expect=EXIT_OK)
    _, report = settle({**EXAMPLE["bx-0001"], "correction": True}, expect=EXIT_OK)
    assert report[0]["kind"] == "correction"
    assert nets(book)[("bx-0001", BASIC)] == "7800.00"
    # bx-0003 after 15,000: (35,000 − 2,000) × 60% = 19,800 − 7,800 = 12,000.
    assert nets(book)[("bx-0003", BASIC)] == "12000.00"


def test_repeats_are_reported_and_write_nothing(settle, book):
    settle(EXAMPLE["bx-0001"], expect=EXIT_OK)
    count = len(records(book))
    respaced = json.loads(json.dumps(EXAMPLE["bx-0001"]))
    _, report = settle(dict(reversed(list(respaced.items()))), expect=EXIT_OK)
    assert report == [{"kind": "already_settled", "claim_id": "bx-0001", "seq": 1, "line": 1,
                       "live": True}]
    assert len(records(book)) == count


@pytest.mark.parametrize("event, code, field", [
    ({**EXAMPLE["bx-0001"], "in_scope_cost": "30000.00"}, "B101", "claim_id"),
    ({"claim_id": "bx-9999", "withdraw": True}, "B102", "claim_id"),
    ({**EXAMPLE["bx-0004"], "correction": True}, "B103", "claim_id"),
    ({**EXAMPLE["bx-0001"], "person_id": "p-02", "correction": True}, "B104", "person_id"),
    ({**EXAMPLE["bx-0001"], "date": "2024-01-05", "correction": True}, "B104", "date"),
    ({**EXAMPLE["bx-0001"], "correction": "yes"}, "B105", "correction"),
    ({"claim_id": "bx-0001", "withdraw": True, "person_id": "p-01"}, "B105", "withdraw"),
])
def test_refused_events_are_coded_and_write_nothing(settle, book, event, code, field):
    settle(EXAMPLE["bx-0001"], expect=EXIT_OK)
    before = records(book)
    status, report = settle(event, EXAMPLE["bx-0005"])
    assert status == EXIT_CLAIMS_FAILED
    assert (report[0]["kind"], report[0]["error"], report[0]["field"], report[0]["line"]) == (
        "error", code, field, 1)
    # The batch goes on: the next line is settled.
    assert report[1]["kind"] == "settlement" and report[1]["claim_id"] == "bx-0005"
    assert records(book)[:len(before)] == before and len(records(book)) == len(before) + 1


def test_a_book_that_does_not_verify_is_not_written_into(settle, book, capsys, tamper):
    settle(EXAMPLE["bx-0001"], expect=EXIT_OK)
    tamper(book, "UPDATE records SET body = replace(body, '7800.00', '9800.00') WHERE seq = 1")
    db = sqlite3.connect(book)
    count = db.execute("SELECT count(*) FROM records").fetchone()[0]
    db.close()
    path = book + ".claims.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(EXAMPLE["bx-0002"], ensure_ascii=False) + "\n")
    assert main(["settle", POLICY, path, "--book", book]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "record #1 was altered" in err and "refuses" in err
    db = sqlite3.connect(book)
    assert db.execute("SELECT count(*) FROM records").fetchone()[0] == count
    db.close()


def test_verify_replay_and_show_read_the_book(settle, book, capsys):
    settle(EXAMPLE["bx-0003"], expect=EXIT_OK)
    settle(EXAMPLE["bx-0001"], EXAMPLE["bx-0002"], expect=EXIT_OK)
    assert main(["audit", "verify", book]) == EXIT_OK
    assert main(["audit", "replay", book]) == EXIT_OK
    assert "no difference" in capsys.readouterr().out
    assert main(["audit", "show", book, "--claim", "bx-0002", "--color", "never"]) == EXIT_OK
    shown = capsys.readouterr().out
    assert "book settlement record #3" in shown
    # 本次前 of bx-0002 when it was settled: bx-0001 (15,000 of base, 7,800 paid).
    assert "bx-0001 2023-02-10: 基数 倾斜救助 7200.00, 基本救助 15000.00" in shown
    assert main(["audit", "show", book, "--claim", "bx-0003", "--color", "never",
                 "--lang", "en"]) == EXIT_OK
    shown = capsys.readouterr().out
    assert "none: the year-to-date starts from zero" in shown
    assert "基本救助 -4600.00 (追回), net 6200.00 — caused by bx-0001 (late claim)" in shown


def test_replay_finds_a_net_that_differs_from_one_run(settle, book, capsys, tamper):
    settle(EXAMPLE["bx-0003"], expect=EXIT_OK)
    settle(EXAMPLE["bx-0001"], expect=EXIT_OK)
    # Cut the last adjustment (and keep the chain whole by cutting from its end).
    db = sqlite3.connect(book)
    last = db.execute("SELECT max(seq) FROM records").fetchone()[0]
    db.close()
    tamper(book, f"DELETE FROM records WHERE seq = {last}",
           f"DELETE FROM book_index WHERE seq = {last}",
           # and from its person-year's list of entries (or a read refuses the list: A438)
           "UPDATE book_years SET seqs = (SELECT json_group_array(value) FROM "
           f"json_each(seqs) WHERE value != {last})")
    assert main(["audit", "replay", book]) == EXIT_CLAIMS_FAILED
    assert "bx-0003 net." in capsys.readouterr().out


def test_an_old_store_verifies_and_takes_book_entries(tmp_path, capsys, settle, book):
    claims = tmp_path / "claims.jsonl"
    claims.write_text(json.dumps(EXAMPLE["bx-0004"], ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["eval", POLICY, str(claims), "--record", book]) == EXIT_OK
    # Make it a store of the first format, as an earlier yibao wrote it.
    db = sqlite3.connect(book)
    db.execute("DROP TABLE book_index")
    db.execute("UPDATE meta SET value = 'yibao-audit/1' WHERE key = 'format'")
    db.commit()
    db.close()
    assert main(["audit", "verify", book]) == EXIT_OK
    capsys.readouterr()
    settle(EXAMPLE["bx-0001"], expect=EXIT_OK)
    assert main(["audit", "verify", book]) == EXIT_OK
    assert main(["audit", "replay", book]) == EXIT_OK
    # Both written by this yibao: records of the fourth format (no trace) in an upgraded
    # store; tests/audit/test_old_formats.py reads records of the first two.
    assert [body["format"] for body in records(book)] == ["yibao-audit/4", "yibao-audit/4"]


def test_verify_catches_a_book_index_that_lost_an_entry_and_reindex_rebuilds_it(
        settle, book, capsys, tamper):
    settle(EXAMPLE["bx-0001"], EXAMPLE["bx-0002"], expect=EXIT_OK)
    tamper(book, "DELETE FROM book_index WHERE seq = 1")
    assert main(["audit", "verify", book]) == EXIT_CLAIMS_FAILED
    assert "book index disagrees with the chain at record #1" in capsys.readouterr().err
    # settle would now read p-01's 2023 without bx-0001: it refuses instead.
    status, _ = settle(EXAMPLE["bx-0003"])
    assert status == EXIT_USAGE
    assert main(["audit", "reindex", book]) == EXIT_OK
    assert main(["audit", "verify", book]) == EXIT_OK
    capsys.readouterr()
    _, report = settle(EXAMPLE["bx-0003"], expect=EXIT_OK)
    assert report[0]["payouts"][BASIC] == "6200.00"


def test_explain_from_a_file_without_earlier_claims_says_the_year_starts_from_zero(
        tmp_path, capsys):
    path = tmp_path / "late.jsonl"
    path.write_text(json.dumps(EXAMPLE["bx-0003"], ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["explain", POLICY, str(path), "--claim", "bx-0003", "--lang", "en",
                 "--color", "never"]) == EXIT_OK
    err = capsys.readouterr().err
    assert f"{path} holds no earlier claim of p-01 in 2023: the year-to-date figures (本次前) " \
           "start from zero" in err
    # With its earlier claims in the file there is nothing to warn about.
    assert main(["explain", POLICY, str(EXAMPLES / "benxi-2023.jsonl"), "--claim", "bx-0003",
                 "--color", "never"]) == EXIT_OK
    assert capsys.readouterr().err == ""


def test_explain_with_the_book_starts_the_year_from_its_claims(settle, tmp_path, book, capsys):
    settle(EXAMPLE["bx-0001"], EXAMPLE["bx-0002"], expect=EXIT_OK)
    path = tmp_path / "next.jsonl"
    path.write_text(json.dumps(EXAMPLE["bx-0003"], ensure_ascii=False) + "\n", encoding="utf-8")
    count = len(records(book))
    assert main(["explain", POLICY, str(path), "--claim", "bx-0003", "--book", book,
                 "--lang", "en", "--color", "never"]) == EXIT_OK
    shown = capsys.readouterr().out
    assert "基本救助 year-to-date base: 25000.00 → 45000.00" in shown
    assert "基本救助 payout: 6,200.00" in shown
    assert "  bx-0001 2023-02-10: base 倾斜救助 7200.00, 基本救助 15000.00; paid 倾斜救助 " \
           "2520.00, 基本救助 7800.00" in shown
    assert "  bx-0002 2023-05-20: base 倾斜救助 4000.00, 基本救助 10000.00" in shown
    assert len(records(book)) == count    # explaining writes nothing


LATE_AUTUMN = {**EXAMPLE["bx-0001"], "claim_id": "bx-0014", "date": "2023-10-01",
               "in_scope_cost": "30000.00"}    # burden 30,000 − 20,000 = 10,000


@pytest.fixture
def revision(tmp_path):
    folder = tmp_path / "revised"
    folder.mkdir()
    (folder / "benxi-2023.policy").write_text(
        (POLICIES / "benxi-2023.policy").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "benxi-2023-07.policy").write_text(REVISION, encoding="utf-8")
    return str(folder / "benxi-2023-07.policy")


def test_a_revision_applies_to_new_claims_and_retroactively_only_when_declared(
        settle, tmp_path, book, revision, capsys):
    settle(EXAMPLE["bx-0001"], EXAMPLE["bx-0002"], EXAMPLE["bx-0003"], expect=EXIT_OK)
    # Under the revision (cap 3万 from 2023-07-01), not retroactive: bx-0014 (base year
    # to date 45,000 → 55,000) pays (55,000 − 2,000) × 60% − (45,000 − 2,000) × 60%
    # = 6,000, within 30,000 − 20,000 left; bx-0003 keeps its 6,200.
    path = tmp_path / "autumn.jsonl"
    path.write_text(json.dumps(LATE_AUTUMN, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["settle", revision, str(path), "--book", book]) == EXIT_OK
    report = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["kind"], e["claim_id"], e["payouts"][BASIC]) for e in report] == [
        ("settlement", "bx-0014", "6000.00")]
    assert nets(book)[("bx-0003", BASIC)] == "6200.00"
    # Declared retroactive: bx-0003 (dated after 2023-07-01) is settled again under the
    # revision: (45,000 − 2,000) × 60% − 13,800 = 12,000 (+5,800), and bx-0014 then
    # gets what is left of 30,000: 30,000 − 25,800 = 4,200 (−1,800).  bx-0001 and
    # bx-0002, dated before the revision, keep the 2023 version.
    assert main(["settle", revision, "--book", book, "--retroactive"]) == EXIT_OK
    report = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["kind"], e["claim_id"]) for e in report if e["kind"] == "revision"] == [
        ("revision", "bx-0003")]
    basic = {e["claim_id"]: (e["delta"], e["caused_by"]) for e in report
             if e["kind"] == "adjustment" and e["line"] == BASIC}
    cause = {"claim_id": "bx-0003", "kind": "revision", "policy_id": "benxi-2023-07"}
    assert basic == {"bx-0003": ("5800.00", cause), "bx-0014": ("-1800.00", cause)}
    assert sum(Decimal(v) for (c, line), v in nets(book).items() if line == BASIC) == 30000
    assert main(["audit", "verify", book]) == EXIT_OK
    assert main(["audit", "replay", book]) == EXIT_OK
    # Applying it again changes nothing.
    assert main(["settle", revision, "--book", book, "--retroactive"]) == EXIT_OK
    assert "revision" not in capsys.readouterr().out


def test_a_policy_that_does_not_extend_the_books_texts_is_refused_b106(
        settle, tmp_path, book, capsys):
    settle(EXAMPLE["bx-0001"], expect=EXIT_OK)
    other = tmp_path / "benxi-2023.policy"
    other.write_text((POLICIES / "benxi-2023.policy").read_text(encoding="utf-8")
                     .replace("cap 2万 §(五)", "cap 3万 §(五)"), encoding="utf-8")
    path = tmp_path / "next.jsonl"
    path.write_text(json.dumps(EXAMPLE["bx-0002"], ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["settle", str(other), str(path), "--book", book]) == EXIT_CLAIMS_FAILED
    report = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert report[0]["error"] == "B106" and "was settled under benxi-2023" in report[0]["message"]


def test_a_closed_year_takes_nothing_more(settle, book, capsys):
    settle(EXAMPLE["bx-0001"], EXAMPLE["bx-0003"], expect=EXIT_OK)
    assert main(["settle", POLICY, "--book", book, "--close-year", "2023"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["kind"] == "closure"
    count = len(records(book))
    status, report = settle(
        EXAMPLE["bx-0002"],                                   # late, into 2023
        {"claim_id": "bx-0001", "withdraw": True},
        {**EXAMPLE["bx-0001"], "in_scope_cost": "30000.00", "correction": True},
        EXAMPLE["bx-0003"],                                   # a repeat: still reported
        {**EXAMPLE["bx-0002"], "claim_id": "bx-0102", "date": "2024-01-05"})
    assert status == EXIT_CLAIMS_FAILED
    assert [(e["kind"], e.get("error")) for e in report] == [
        ("error", "B107"), ("error", "B107"), ("error", "B107"), ("already_settled", None),
        ("settlement", None)]
    assert len(records(book)) == count + 1
    assert main(["settle", POLICY, "--book", book, "--close-year", "2023"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["kind"] == "already_closed"
    assert main(["audit", "verify", book]) == EXIT_OK
    assert main(["audit", "replay", book]) == EXIT_OK


@pytest.mark.parametrize("backend", ["duckdb", "spark"])
def test_the_sql_backends_refuse_the_book(tmp_path, book, capsys, backend):
    path = tmp_path / "claims.jsonl"
    path.write_text(json.dumps(EXAMPLE["bx-0001"], ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["settle", POLICY, str(path), "--book", book, "--backend", backend]) == EXIT_USAGE
    assert f"--backend {backend} does not start each person's year from the book" in \
        capsys.readouterr().err
    assert not (tmp_path / "book.db").exists()


def test_verify_catches_an_index_entry_that_differs_from_its_record(settle, book, capsys, tamper):
    settle(EXAMPLE["bx-0001"], expect=EXIT_OK)
    # Settling reads the index's entry, not the record: an entry paying more must not pass.
    tamper(book, "UPDATE book_index SET entry = replace(entry, '7800.00', '9800.00')")
    assert main(["audit", "verify", book]) == EXIT_CLAIMS_FAILED
    assert "book index disagrees with the chain at record #1" in capsys.readouterr().err
    status, _ = settle(EXAMPLE["bx-0002"])
    assert status == EXIT_USAGE


@pytest.mark.parametrize("statement, code", [
    # The same bytes stored as a BLOB, not text: verify reads a body and an index entry
    # as the bytes stored (audit/sqlite_store.py chain, book_index_bytes), and a body
    # or entry that is not text must not pass for one (settle could not read it).
    ("UPDATE records SET body = CAST(body AS BLOB) WHERE seq = 1", "A407"),
    ("UPDATE book_index SET entry = CAST(entry AS BLOB) WHERE seq = 1", "A406"),
])
def test_verify_catches_a_body_or_entry_stored_as_bytes_not_text(settle, book, capsys, tamper,
                                                                  statement, code):
    settle(EXAMPLE["bx-0001"], expect=EXIT_OK)
    tamper(book, statement)
    assert main(["audit", "verify", book]) == EXIT_CLAIMS_FAILED
    assert f"{code} " in capsys.readouterr().err
    with open_store(book) as store:
        problem = verify_store(store).problem
    assert (problem.code, problem.seq) == (code, 1)


def test_settle_verifies_from_the_last_verified_head_and_all_with_verify_all(
        settle, tmp_path, book, capsys, tamper):
    settle(EXAMPLE["bx-0001"], expect=EXIT_OK)
    assert main(["audit", "verify", book]) == EXIT_OK       # verified up to #1
    capsys.readouterr()
    settle(EXAMPLE["bx-0002"], expect=EXIT_OK)              # verifies #2 on, appends #2
    db = sqlite3.connect(book)
    assert db.execute("SELECT seq FROM verified ORDER BY seq").fetchall() == [(1,)]
    db.close()
    # The head verified earlier, altered: caught without walking the rest.
    tamper(book, "UPDATE records SET body = replace(body, '7800.00', '9800.00') WHERE seq = 1")
    path = tmp_path / "next.jsonl"
    path.write_text(json.dumps(EXAMPLE["bx-0003"], ensure_ascii=False) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["settle", POLICY, str(path), "--book", book]) == EXIT_USAGE
    assert "record #1, the head verified earlier, was altered" in capsys.readouterr().err
    assert main(["settle", POLICY, str(path), "--book", book, "--verify-all"]) == EXIT_USAGE
    assert "record #1 was altered" in capsys.readouterr().err


def test_a_gbk_day_file_settles_into_the_book_as_its_utf8_copy(tmp_path, book, capsys):
    # Files from Chinese Excel (issue 21 item 9): settle and explain --book read them
    # with --encoding like eval; without it the GBK line is C300 with the hint.
    def gbk_file(name, *claims):
        path = tmp_path / name
        path.write_bytes("".join(json.dumps(c, ensure_ascii=False) + "\n"
                                 for c in claims).encode("gbk"))
        return str(path)

    monday = gbk_file("monday.jsonl", EXAMPLE["bx-0001"], EXAMPLE["bx-0002"])
    tuesday = gbk_file("tuesday.jsonl", EXAMPLE["bx-0003"])
    assert main(["settle", POLICY, monday, "--book", book, "--encoding", "gbk"]) == EXIT_OK
    capsys.readouterr()
    assert main(["settle", POLICY, tuesday, "--book", book]) == EXIT_CLAIMS_FAILED
    refused = json.loads(capsys.readouterr().out)
    assert (refused["kind"], refused["error"]) == ("error", "C300")
    assert "--encoding gbk" in refused["hint"]
    assert main(["explain", POLICY, tuesday, "--claim", "bx-0003", "--book", book,
                 "--encoding", "gbk", "--lang", "en", "--color", "never"]) == EXIT_OK
    assert "基本救助 payout: 6,200.00" in capsys.readouterr().out
    assert main(["settle", POLICY, tuesday, "--book", book, "--encoding", "gbk"]) == EXIT_OK
    settled = json.loads(capsys.readouterr().out)
    assert settled["payouts"][BASIC] == "6200.00"       # the §(五) cap: 20,000 − 13,800


def test_a_daily_run_commits_every_two_thousand_lines_by_default(tmp_path, book, capsys):
    """settle's default transaction is 2,000 input lines (each one a COMMIT and its
    fsync, and two read-ahead queries: benchmarks/RESULTS.md): 2,001 new claims are
    written in two transactions, one report of what was booked each, the first
    holding 2,000 records."""
    claim = EXAMPLE["bx-0001"]
    path = tmp_path / "day.jsonl"
    path.write_text("".join(
        json.dumps({**claim, "claim_id": f"d-{n:05d}", "person_id": f"p-{n:05d}"},
                   ensure_ascii=False) + "\n" for n in range(2_001)), encoding="utf-8")
    assert main(["settle", POLICY, str(path), "--book", book, "-o", str(tmp_path / "out")]
                ) == EXIT_OK
    booked = [line for line in capsys.readouterr().err.splitlines()
              if line.startswith("yibao: booked #")]
    assert [line.split(" (batch")[0] for line in booked] == [
        "yibao: booked #1–#2000", "yibao: booked #2001–#2001"]
