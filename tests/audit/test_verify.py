"""`audit verify` names the first record altered, removed or reordered, and altered policy texts.

The store holds docs/specification.md §6's three claims (records #1 a, #2 b, #3 c); b's
基本救助 is 6,000.00 (cumulative burden 25,000: (25,000 − 2,000) × 60% − 7,800).
Each tamperer first drops the append-only triggers, as anyone with write
access to the file could.
"""

from __future__ import annotations

import sqlite3

import pytest

from yibao.audit.chain import body_hash
from yibao.audit.verify import (ALTERED, HEAD, POLICY_TEXT, REMOVED, REORDERED, TRUNCATED,
                                verify_store)


def test_an_untouched_store_verifies(domain_store):
    report = verify_store(domain_store)
    assert report.ok and report.records == 3
    assert report.head == list(domain_store.records())[-1].hash


def test_an_edited_amount_is_caught_at_its_record(domain_store, store_path, tamper):
    tamper(store_path, "UPDATE records SET body = replace(body, '\"基本救助\":\"6000.00\"', "
                       "'\"基本救助\":\"9000.00\"') WHERE seq = 2")
    assert '"基本救助":"9000.00"' in list(domain_store.records())[1].body
    report = verify_store(domain_store)
    assert (report.problem.kind, report.problem.seq, report.records) == (ALTERED, 2, 1)


def test_an_edit_with_its_hash_recomputed_is_caught_by_the_next_record(domain_store, store_path,
                                                                      tamper):
    edited = list(domain_store.records())[1].body.replace('"6000.00"', '"9000.00"')
    tamper(store_path, "UPDATE records SET body = ?, hash = ? WHERE seq = 2",
           parameters=(edited, body_hash(edited)))
    report = verify_store(domain_store)
    assert (report.problem.kind, report.problem.seq) == (ALTERED, 2)
    assert "record #3 committed to a different hash" in report.problem.message


def test_a_deleted_record_is_caught(domain_store, store_path, tamper):
    tamper(store_path, "DELETE FROM records WHERE seq = 2")
    report = verify_store(domain_store)
    assert (report.problem.kind, report.problem.seq) == (REMOVED, 2)
    assert report.problem.message == "record #2 was removed: record #3 follows #1"


def test_a_swapped_pair_is_caught(domain_store, store_path, tamper):
    # Swap records #2 and #3 wholesale: each keeps its own, valid hash.
    tamper(store_path, "UPDATE records SET seq = -seq WHERE seq IN (2, 3)",
           "UPDATE records SET seq = 3 WHERE seq = -2",
           "UPDATE records SET seq = 2 WHERE seq = -3")
    assert [r.claim_id for r in domain_store.records()] == ["a", "c", "b"]
    report = verify_store(domain_store)
    assert (report.problem.kind, report.problem.seq) == (REORDERED, 2)


def test_an_edited_policy_text_is_caught_at_the_first_record_settled_under_it(
        domain_store, store_path, tamper):
    tamper(store_path, "UPDATE sources SET text = replace(text, '低保边缘家庭成员: 60%', "
                       "'低保边缘家庭成员: 65%')")
    (sha, text), = domain_store.sources()
    assert "低保边缘家庭成员: 65%" in text
    report = verify_store(domain_store)
    assert (report.problem.kind, report.problem.seq) == (POLICY_TEXT, 1)
    assert f"stored as {sha}" in report.problem.message


def test_a_deleted_policy_text_is_caught(domain_store, store_path, tamper):
    tamper(store_path, "DELETE FROM sources")
    report = verify_store(domain_store)
    assert (report.problem.kind, report.problem.seq) == (POLICY_TEXT, 1)


def test_an_edited_index_column_is_caught(domain_store, store_path, tamper):
    tamper(store_path, "UPDATE records SET claim_id = 'x' WHERE seq = 3")
    report = verify_store(domain_store)
    assert (report.problem.kind, report.problem.seq) == (ALTERED, 3)


def test_records_removed_from_the_end_are_caught_against_a_kept_head(domain_store, store_path,
                                                                     tamper):
    head = verify_store(domain_store).head
    tamper(store_path, "DELETE FROM records WHERE seq = 3")
    # The Merkle tree still holds the leaf of #3 (issue 25): the cut is seen at once …
    report = verify_store(domain_store)
    assert (report.problem.kind, report.problem.seq, report.records) == (TRUNCATED, 3, 2)
    # … and when the leaf is cut too, a shorter chain is still a chain …
    tamper(store_path, "DELETE FROM tlog_nodes WHERE level = 0 AND idx = 2")
    assert verify_store(domain_store).ok
    report = verify_store(domain_store, expected_head=head)
    assert (report.problem.kind, report.records) == (HEAD, 2)   # … but not the one kept


@pytest.mark.parametrize("statement", ["UPDATE records SET claim_id = 'x'",
                                       "DELETE FROM records",
                                       "UPDATE sources SET text = ''"])
def test_the_store_refuses_updates_and_deletes(domain_store, store_path, statement):
    db = sqlite3.connect(store_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute(statement)
    db.close()


@pytest.mark.parametrize("statement, rehashed", [
    # The four tamperings that crashed verify with a traceback (issue 25), and more.
    ("UPDATE records SET body = replace(body, '\"prev\":', '\"pre\":') WHERE seq = 2", True),
    ("UPDATE records SET body = '[1, 2]' WHERE seq = 2", True),
    ("UPDATE records SET body = replace(body, '\"policies\":[', '\"policies\":[7,') "
     "WHERE seq = 2", True),
    ("UPDATE records SET body = CAST(x'7b22ff22' AS TEXT) WHERE seq = 2", False),
    ("UPDATE records SET body = 5 WHERE seq = 2", False),
    ("UPDATE records SET hash = x'00ff' WHERE seq = 2", False),
])
def test_a_malformed_record_is_reported_not_raised(domain_store, store_path, tamper, statement,
                                                   rehashed):
    tamper(store_path, statement)
    if rehashed:    # the malformed body is given its own hash: what the walk then meets
        db = sqlite3.connect(store_path)
        body = db.execute("SELECT body FROM records WHERE seq = 2").fetchone()[0]
        db.execute("UPDATE records SET hash = ? WHERE seq = 2", (body_hash(body),))
        db.commit()
        db.close()
    report = verify_store(domain_store)
    assert not report.ok and report.problem.seq == 2 and report.records == 1
    assert report.problem.code in ("A401", "A407")
