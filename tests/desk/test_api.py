"""The settlement API over HTTP: token, settle, withdraw, correct, a result with its trace,
and concurrent settle calls on one person against a running uvicorn.

Figures: Benxi 2023 §(五), 低保边缘家庭成员 (conftest.py): burdens 15,000 /
10,000 / 20,000 pay 基本救助 7,800 / 6,000 / 6,200 (cap 20,000).
"""

from __future__ import annotations

import re
import threading
from decimal import Decimal

import httpx
import pytest

from desk_support import TOKEN, make_client, running_desk
from helpers import claim
from yibao.audit.book_replay import book_person_years
from yibao.audit.replay import replay_store
from yibao.audit.stores import open_store
from yibao.audit.verify import verify_store

UPSTREAM = {"基本医保": "17000.00", "大病保险": "3000.00"}
AUTH = {"authorization": f"Bearer {TOKEN}"}


def benxi(claim_id: str, person: str, date: str, in_scope: str = "35000.00") -> dict:
    """A 低保边缘家庭成员 claim; in-scope 35,000 leaves a burden of 15,000."""
    return claim(claim_id, person, date, ["低保边缘家庭成员"], in_scope, UPSTREAM,
                 total="40000.00")


@pytest.fixture
def book(tmp_path):
    return tmp_path / "book.db"


def test_writing_is_off_without_a_token(book):
    make_client(book, TOKEN)   # the book, created by a desk that may write
    client = make_client(book)
    answer = client.post("/api/settle", json={"policy": "benxi-2023", "events": []})
    assert answer.status_code == 403 and answer.json()["error"] == "D101"


def test_writing_needs_the_token_in_the_header(book):
    client = make_client(book, TOKEN)
    event = {"policy": "benxi-2023", "events": [benxi("c-1", "p", "2023-02-10")]}
    assert client.post("/api/settle", json=event).json()["error"] == "D102"
    wrong = client.post("/api/settle", json=event, headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401
    in_url = client.post(f"/api/settle?token={TOKEN}", json=event)   # never from a URL
    assert in_url.status_code == 401
    with open_store(str(book), create=True) as store:
        assert list(store.records()) == []


def test_settle_withdraw_correct_and_result_as_the_cli_writes_them(book):
    client = make_client(book, TOKEN)
    settled = client.post("/api/settle", headers=AUTH, json={"policy": "benxi-2023", "events": [
        benxi("c-1", "p", "2023-02-10"), benxi("c-2", "p", "2023-05-20", "30000.00"),
        benxi("c-3", "p", "2023-09-03", "40000.00")]}).json()
    paid = [e["payouts"]["基本救助"] for e in settled["entries"]]
    assert paid == ["7800.00", "6000.00", "6200.00"] and settled["refused"] == 0
    # withdrawing c-1: c-2 and c-3 settle again from zero: c-2 (10,000 − 2,000) × 60% = 4,800
    # (a 补付 of −1,200 is a 追回), c-3 20,000 × 60% = 12,000 ≤ the 15,200 the cap leaves
    withdrawn = client.post("/api/withdraw", headers=AUTH,
                            json={"claim_id": "c-1", "reason": "冲正"}).json()
    kinds = [(e["kind"], e["claim_id"], e.get("line"), e.get("delta"))
             for e in withdrawn["entries"] if e.get("line") in (None, 1, "基本救助")]
    assert ("withdrawal", "c-1", 1, None) in kinds
    assert ("adjustment", "c-1", "基本救助", "-7800.00") in kinds
    assert ("adjustment", "c-2", "基本救助", "-1200.00") in kinds
    assert ("adjustment", "c-3", "基本救助", "5800.00") in kinds
    # correcting c-3 to a burden of 10,000: 10,000 × 60% = 6,000, a 追回 of 6,000
    corrected = client.post("/api/correct", headers=AUTH,
                            json={"claim": benxi("c-3", "p", "2023-09-03", "30000.00")}).json()
    assert corrected["entries"][0]["kind"] == "correction"
    result = client.get("/api/claim", params={"id": "c-3"}).json()
    assert result["net"]["基本救助"] == "6000.00" and result["live"] is True
    assert [a["delta"] for a in result["adjustments"] if a["line"] == "基本救助"] == [
        "5800.00", "-6000.00"]
    assert [e["claim_id"] for e in result["year_to_date_from"]] == ["c-2"]
    steps = result["outcome"]["trace"]
    assert steps and any(step["node"].startswith("基本救助") for step in steps)
    with open_store(str(book)) as store:
        assert verify_store(store).ok
        assert replay_store(store).ok
    # the search index followed the book: c-1 withdrawn, c-1..c-3 adjusted, c-3's net 6,000
    found = client.get("/", params={"person_id": "p"}).text
    assert "已撤回" in found
    adjusted = client.get("/", params={"person_id": "p", "adjusted": "yes"}).text
    assert {"c-1", "c-2", "c-3"} == set(re.findall(r'href="/claim\?id=(c-\d)"', adjusted))
    c3 = client.get("/claim", params={"id": "c-3"}).text
    assert re.search(r"<td>基本救助</td><td class=\"figure\">6,000.00</td>", c3)
    # the person-year: c-1 among the withdrawn with its 追回, c-2 with its adjustment
    year = client.get("/person", params={"id": "p", "year": "2023"}).text
    withdrawn = year.split('id="withdrawn"', 1)[1].split("</ul>", 1)[0]
    assert "c-1" in withdrawn and "基本救助 -7,800.00" in withdrawn
    c2_row = year.split('data-claim="c-2"', 1)[1].split("</tr>", 1)[0]
    assert "基本救助 -1,200.00（withdrawal）" in c2_row


def test_bad_requests_are_refused_with_codes(book):
    client = make_client(book, TOKEN)
    assert client.post("/api/settle", headers=AUTH, content=b"not json").json()["error"] == "D103"
    unknown = client.post("/api/settle", headers=AUTH,
                          json={"policy": "../../etc/passwd", "events": [{}]})
    assert unknown.status_code == 404 and unknown.json()["error"] == "D104"
    assert client.post("/api/withdraw", headers=AUTH,
                       json={"claim_id": "nope"}).json()["error"] == "D105"
    refused = client.post("/api/settle", headers=AUTH, json={
        "policy": "benxi-2023", "events": [{"claim_id": "x", "withdraw": True}]}).json()
    assert refused["refused"] == 1 and refused["entries"][0]["error"] == "B102"


def test_concurrent_settle_calls_on_one_person_settle_each_claim_once(book):
    """Eight threads post twelve claims of one person (four each, overlapping) at once
    to a running desk: SQLite serialises the transactions; each claim is settled once,
    the repeats are already_settled, the cap of 20,000 is never passed, and replay
    finds every net equal to one run."""
    claims = [benxi(f"k-{n:02d}", "p-same", f"2023-{1 + n % 12:02d}-1{n % 9}", "25000.00")
              for n in range(12)]
    answers, failures = [], []
    with running_desk(book, TOKEN) as base:
        def post(worker: int) -> None:
            mine = [claims[(worker * 3 + k) % 12] for k in range(4)]
            try:
                answer = httpx.post(f"{base}/api/settle", headers=AUTH, timeout=120,
                                    json={"policy": "benxi-2023", "events": mine})
                answers.append(answer.json())
            except Exception as error:   # noqa: BLE001 - reported below
                failures.append(error)

        threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    entries = [e for answer in answers for e in answer["entries"]]
    settled = [e["claim_id"] for e in entries if e["kind"] == "settlement"]
    assert sorted(settled) == sorted(c["claim_id"] for c in claims)
    assert sum(e["kind"] == "already_settled" for e in entries) == 8 * 4 - 12
    with open_store(str(book)) as store:
        assert verify_store(store).ok
        assert book_person_years(store) == [("p-same", 2023)]
        assert replay_store(store).ok
    client = make_client(book)
    nets = [Decimal(client.get("/api/claim", params={"id": c["claim_id"]}).json()
                    ["net"]["基本救助"]) for c in claims]
    # 12 burdens of 5,000: the cap of 20,000 binds; together they pay exactly the cap
    assert sum(nets) == Decimal("20000.00")


def test_a_settle_call_on_a_person_year_list_that_names_anothers_entry_writes_nothing(book):
    # (docs/book.md, "The person-year table"): c-1's person-year listing c-9's record would
    # settle c-2 on c-9's 7,800 as well as c-1's; the store refuses the list (A438)
    import json
    import sqlite3

    client = make_client(book, TOKEN)
    client.post("/api/settle", headers=AUTH, json={"policy": "benxi-2023", "events": [
        benxi("c-1", "p", "2023-02-10"), benxi("c-9", "q", "2023-02-10")]})
    # (a second call verifies the first's records and marks them: the edit below comes
    # after that verification, so the next call's verify, from there on, does not see it)
    client.post("/api/settle", headers=AUTH, json={"policy": "benxi-2023", "events": [
        benxi("c-5", "r", "2023-02-10")]})
    with sqlite3.connect(book) as db:
        [(other,)] = db.execute("SELECT seqs FROM book_years WHERE person_id = 'q'")
        db.execute("UPDATE book_years SET seqs = json_insert(seqs, '$[#]', ?) "
                   "WHERE person_id = 'p'", (json.loads(other)[0],))
        before = db.execute("SELECT count(*) FROM records").fetchone()[0]
    answer = client.post("/api/settle", headers=AUTH, json={
        "policy": "benxi-2023", "events": [benxi("c-2", "p", "2023-05-20", "30000.00")]})
    assert answer.status_code == 409 and answer.json()["error"] == "D108"
    assert "A438" in answer.json()["message"] and "reindex" in answer.json()["hint"]
    with sqlite3.connect(book) as db:
        assert db.execute("SELECT count(*) FROM records").fetchone()[0] == before
