"""Hostile claim ids and person ids: every field is escaped, every page still works,
and a book that fails verify is shown with a red banner on every page.

The book holds what admission lets in (docs/claims.md: no space, no invisible
format character such as an RTL mark, at most 200 characters), so the ids in the
book carry markup, quotes, slashes and right-to-left letters; RTL marks and 10 KB
strings come in through the requests, and are reflected escaped.
"""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from desk_support import make_client
from helpers import POLICIES, claim
from yibao.cli.main import main

RTL = "\u202e"   # RIGHT-TO-LEFT OVERRIDE: turns the rest of a line around when shown raw
HOSTILE_IDS = ['<script>alert("x")</script>', "it's\"quoted\"&<b>bold</b>",
               "שלום<i>עולם</i>", "a/../../etc/passwd?x=1#y", "<" * 100 + "x" * 100]
HOSTILE_PERSON = "<img/src=x/onerror=alert(1)>\"'"
LONG = RTL + '<script>alert("long")</script>' * 340   # 10 KB


@pytest.fixture(scope="module")
def hostile_book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    claims = folder / "claims.jsonl"
    upstream = {"基本医保": "17000.00", "大病保险": "3000.00"}
    lines = [claim(claim_id, HOSTILE_PERSON, f"2023-0{n + 1}-10", ["低保边缘家庭成员"],
                   "35000.00", upstream, total="40000.00", in_province=True)
             for n, claim_id in enumerate(HOSTILE_IDS)]
    claims.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in lines),
                      encoding="utf-8")
    book = folder / "book.db"
    assert main(["settle", str(POLICIES / "benxi-2023.policy"), str(claims), "--book", str(book),
                 "-o", str(folder / "out.jsonl")]) == 0
    return book


def _no_raw(html: str) -> None:
    assert "<script>" not in html and "<img/src" not in html and "<b>" not in html
    assert "<i>" not in html and "<<" not in html


def test_hostile_ids_are_escaped_on_every_page(hostile_book):
    client = make_client(hostile_book)
    for claim_id in HOSTILE_IDS:
        for path in ("/claim", "/claim/explanation"):
            page = client.get(path, params={"id": claim_id})
            assert page.status_code == 200, (path, claim_id[:40])
            _no_raw(page.text)
        assert "&lt;script&gt;" in client.get("/claim", params={"id": HOSTILE_IDS[0]}).text
        found = client.get("/", params={"claim_id": claim_id}).text
        _no_raw(found)
        assert "共 1 条" in found
    person = client.get("/person", params={"id": HOSTILE_PERSON, "year": "2023"})
    assert person.status_code == 200
    _no_raw(person.text)
    assert person.text.count('class="claim"') >= len(HOSTILE_IDS)   # marked on the plot
    listing = client.get("/", params={"person_id": HOSTILE_PERSON}).text
    _no_raw(listing)
    assert "共 5 条" in listing
    assert "&#39;" in listing or "&#x27;" in listing    # the quote escaped, not dropped


def test_hostile_requests_are_reflected_escaped(hostile_book):
    client = make_client(hostile_book)
    assert len(LONG) > 10_000
    search = client.get("/", params={"claim_id": LONG, "person_id": LONG, "identity": LONG})
    assert search.status_code == 200 and "共 0 条" in search.text
    _no_raw(search.text)
    assert "&lt;script&gt;alert(&#34;long&#34;)" in search.text    # the value kept, escaped
    for path in ("/claim", "/claim/explanation", "/person"):
        missing = client.get(path, params={"id": LONG, "year": LONG})
        assert missing.status_code == 404
        _no_raw(missing.text)
    assert client.get("/api/claim", params={"id": LONG}).json()["error"] == "D105"


def test_the_api_returns_hostile_ids_as_json_text(hostile_book):
    client = make_client(hostile_book)
    answer = client.get("/api/claim", params={"id": HOSTILE_IDS[0]}).json()
    assert answer["claim_id"] == HOSTILE_IDS[0] and answer["person_id"] == HOSTILE_PERSON
    # the first claim of the year: 基本救助 (15,000 − 2,000) × 60%
    assert answer["net"]["基本救助"] == "7800.00"


def test_a_book_that_fails_verify_has_a_red_banner_on_every_page(demo_book, tmp_path):
    book = tmp_path / "tampered.db"
    shutil.copy(demo_book, book)
    with sqlite3.connect(book) as db:   # alter a record behind the triggers' back
        db.execute("DROP TRIGGER records_no_UPDATE")
        body = db.execute("SELECT body FROM records WHERE seq = 2").fetchone()[0]
        # bx-0002's own 基本救助 (its 6,000, not bx-0001's 7,800: a yibao-audit/4
        # settlement no longer lists the claims before it)
        assert '"6000.00"' in body
        db.execute("UPDATE records SET body = ? WHERE seq = 2",
                   (body.replace('"6000.00"', '"9000.00"'),))
    # record #2 is older than the head the book last verified (settle verified up to #24
    # before its last run), so only a walk of the whole chain reaches it (test_startup.py:
    # by default the desk verifies from that head)
    client = make_client(book, verify_all=True)
    for path in ("/", "/claim?id=bx-0003", "/person?id=p-01&year=2023", "/chain", "/policies",
                 "/policy?name=benxi-2023", "/claim?id=no-such-claim"):
        page = client.get(path).text
        assert 'class="banner failed" role="alert"' in page, path
        assert "账簿校验失败：记录 #2" in page
    ok = make_client(demo_book).get("/").text
    assert "banner failed" not in ok


def test_a_person_year_list_naming_anothers_entry_is_said_on_the_page_and_by_the_api(
        demo_book, tmp_path):
    # The book's person-year table (docs/book.md) lists p-01's 2023 entries; an edit that
    # adds p-02's record to them would show (and settle) p-02's claim as p-01's: the
    # store refuses to read the list (A438), and the desk says so, with HTTP 409, rather
    # than fail with a 500 or show the figures.
    book = tmp_path / "edited.db"
    shutil.copy(demo_book, book)
    with sqlite3.connect(book) as db:
        [(own,)] = db.execute("SELECT seqs FROM book_years WHERE person_id = 'p-01'")
        [(other,)] = db.execute("SELECT seqs FROM book_years WHERE person_id = 'p-02'")
        db.execute("UPDATE book_years SET seqs = ? WHERE person_id = 'p-01'",
                   (json.dumps(sorted(json.loads(own) + json.loads(other)[:1])),))
    client = make_client(book)
    for path in ("/person?id=p-01&year=2023", "/claim?id=bx-0001"):
        answer = client.get(path)
        assert answer.status_code == 409, path
        assert "账簿此处无法读取" in answer.text and "A438" in answer.text
        assert "among the entries of p-01 2023" in answer.text
        assert "yibao audit reindex" in answer.text          # the hint
    assert client.get("/person?id=p-02&year=2023").status_code == 200
    result = client.get("/api/claim?id=bx-0001")
    assert result.status_code == 409 and result.json()["error"] == "D108"
    assert result.json()["message"].startswith("A438 ")
