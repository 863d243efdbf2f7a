"""The desk over a PostgreSQL book (a private server, tests/pg_server.py): the same
pages and figures as over SQLite, and the API writes through the same lock.

Figures: Benxi §(五), p-01 (conftest.py): bx-0003's 基本救助 6,200 after 7,800 and 6,000.
"""

from __future__ import annotations

import pytest

from desk_support import TOKEN, make_client, settle_examples


@pytest.fixture(scope="module")
def postgres_book(tmp_path_factory):
    from pg_server import Server

    server = Server()
    try:
        url = server.new_database("desk")
        settle_examples(tmp_path_factory.mktemp("pg") / "book.db", url)
        yield url
    finally:
        server.stop()


def test_the_pages_read_a_postgresql_book(postgres_book):
    client = make_client(postgres_book)
    assert "共 3 条" in client.get("/", params={"person_id": "p-01"}).text
    claim = client.get("/claim", params={"id": "bx-0003"}).text
    assert '<td>基本救助</td><td class="figure">6,200.00</td>' in claim
    year = client.get("/person", params={"id": "p-01", "year": "2023"}).text
    assert "20,000.00" in year and "通过" in client.get("/chain").text


def test_over_postgresql_the_desk_searches_the_store_and_verifies_from_its_head(
        postgres_book, tmp_path):
    from yibao.audit.stores import open_store
    from yibao.desk.catalog import Catalog, Query
    from yibao.desk.search_book import search_book

    with open_store(postgres_book) as store:
        # the claims indexed under p-01, by the book index's person column (any year)
        assert store.person_claims("p-01") == ["bx-0001", "bx-0002", "bx-0003"]
        assert store.record_hash(1) == next(store.records()).hash
        assert store.record_hash(store.last_seq() + 1) is None
        head = store.verified_head()
        index = Catalog(str(tmp_path / "index.sqlite"))   # a file beside a PostgreSQL book
        index.update(store)
        query = Query(person_id="p-01", date_from="2023-05-20")
        assert search_book(store, query, 50) == index.search(query)
        assert index.search(query).total == 2
    status = make_client(postgres_book).app.state.ctx.status.current
    assert status.state == "verified" and status.since == head[0] > 0


def test_the_api_withdraws_into_a_postgresql_book(postgres_book):
    client = make_client(postgres_book, TOKEN)
    answer = client.post("/api/withdraw", headers={"authorization": f"Bearer {TOKEN}"},
                         json={"claim_id": "bx-0001"}).json()
    # bx-0001 out: bx-0002 pays (10,000 − 2,000) × 60% = 4,800 (−1,200); bx-0003 pays
    # 20,000 × 60% = 12,000, under the 15,200 the cap leaves (+5,800)
    deltas = {(e["claim_id"], e["delta"]) for e in answer["entries"]
              if e["kind"] == "adjustment" and e["line"] == "基本救助"}
    assert deltas == {("bx-0001", "-7800.00"), ("bx-0002", "-1200.00"),
                      ("bx-0003", "5800.00")}
    assert client.get("/api/claim", params={"id": "bx-0003"}).json()["net"]["基本救助"] == \
        "12000.00"
