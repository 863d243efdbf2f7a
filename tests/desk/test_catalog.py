"""The desk's search index: its look-ups are indexed (a book of 10^6 claims), and it holds
each claim's net, alerts and person (withdrawals, corrections and adjustments through
the API: test_api.py)."""

from __future__ import annotations

from yibao.desk import catalog as catalog_module
from yibao.desk.catalog import Catalog, Query, _conditions


def plan(catalog: Catalog, statement: str, *values) -> str:
    return " ".join(row[-1] for row in catalog._db.execute(f"EXPLAIN QUERY PLAN {statement}",
                                                           values))


def test_every_lookup_of_the_index_uses_an_index_not_a_scan():
    catalog = Catalog()
    # each adjustment replaces its claim's lines: a scan here made building the index of a
    # 10^5-claim book quadratic (over 25 minutes; 72 s with the index)
    assert "SCAN" not in plan(catalog, "DELETE FROM claim_lines WHERE claim_id = ?", "x")
    assert "SCAN" not in plan(catalog, "SELECT net FROM claims WHERE claim_id = ?", "x")
    assert "SCAN" not in plan(catalog, "SELECT * FROM claims WHERE person_id = ? "
                                       "ORDER BY date, seq", "p")
    assert "SCAN" not in plan(catalog, "SELECT claim_id FROM claim_lines WHERE line = ?", "l")


def test_the_index_holds_each_claims_net_alerts_and_person(client):
    client.get("/")   # brings the index up to the book's head
    ctx = client.app.state.ctx
    row = ctx.catalog.claim("bx-0003")
    assert row.person_id == "p-01" and row.net["基本救助"] == "6200.00" and row.live
    assert row.alerts == ("因病返贫风险",)
    assert ctx.catalog.search(Query(person_id="p-01", date_from="2023-05-20")).total == 2


def test_a_page_of_results_is_read_in_order_off_an_index_not_sorted():
    # At 10^6 claims a day holds ~3,000 of them and an identity ~125,000: sorting them all
    # for a page of 50 (ORDER BY date, seq) is what the (…, date, seq) indexes avoid.
    catalog = Catalog()
    for where, values in [("date >= ? AND date <= ?", ("2023-03-01", "2023-03-01")),
                          ("identity = ?", ("低保对象",)),
                          ("identity = ? AND date >= ? AND date <= ?",
                           ("低保对象", "2023-03-01", "2023-03-31")),
                          ("policy_id = ?", ("benxi-2023",)), ("alerted = ?", (1,))]:
        found = plan(catalog, f"SELECT * FROM claims WHERE {where} ORDER BY date, seq "
                              "LIMIT 50", *values)
        assert "USING INDEX" in found and "TEMP B-TREE" not in found, where
    # a line and an adjustment as the search writes them: the line probed claim by claim
    # (a list of the 4×10^5 claims paid on 基本救助 took 4 s to build), the adjustment
    # by its expression index (a scan of the table took 1.3 s)
    for query in (Query(line="基本救助"), Query(adjusted="yes"), Query(adjusted="no")):
        where, values = _conditions(query)
        found = plan(catalog, f"SELECT * FROM claims WHERE {' AND '.join(where)} "
                              "ORDER BY date, seq LIMIT 50", *values)
        assert "TEMP B-TREE" not in found and "LIST SUBQUERY" not in found, query
        assert "SCAN claims USING INDEX" in found or "SEARCH claims USING INDEX" in found


def test_results_are_counted_up_to_the_cap_and_the_page_says_more(client, monkeypatch):
    # counting 10^6 rows for "共 N 条" cost 300 ms a search: past the cap it says "more"
    monkeypatch.setattr(catalog_module, "COUNT_CAP", 2)
    client.get("/")
    p01 = client.app.state.ctx.catalog.search(Query(identity="低保边缘家庭成员"))
    assert (p01.total, p01.more, p01.pages) == (3, True, 1) and len(p01.rows) == 2
    page = client.get("/", params={"date_from": "2023-01-01"}).text
    assert "超过 2 条理赔，请缩小查询条件" in page
    exact = client.app.state.ctx.catalog.search(Query(claim_id="bx-0003"))
    assert (exact.total, exact.more) == (1, False)


def test_a_line_alone_is_counted_as_the_claims_paid_on_it(client):
    # counted on the lines' own index (the claims paid on 基本救助 at 10^6: 4×10^5 probes)
    client.get("/")
    catalog = client.app.state.ctx.catalog
    everything = catalog.search(Query()).rows
    for line in catalog.choices()["line"]:
        paid = [row.claim_id for row in everything if line in row.lines]
        found = catalog.search(Query(line=line))
        assert found.total == len(paid) and [r.claim_id for r in found.rows] == paid[:50]
    # bx-0004 (p-02, 特困人员) is paid on 基本救助 (conftest.py: no alert raised)
    assert "bx-0004" in {r.claim_id for r in catalog.search(Query(line="基本救助")).rows}
