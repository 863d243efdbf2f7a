"""The desk's pages over HTTP (Starlette's TestClient): figures against the book.

Figures: Benxi 2023 §(五) for p-01's bx-0001..bx-0003, worked out by hand in
conftest.py's docstring.
"""

from __future__ import annotations

import re
from html import unescape

from yibao.audit.stores import open_store
from yibao.audit.verify import verify_store


def cells(html: str, table_id: str) -> list[list[str]]:
    """The text of each body row of the table with ``id``, tags stripped."""
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_search_by_person_lists_its_claims_with_their_net_totals(client):
    page = client.get("/", params={"person_id": "p-01"})
    assert page.status_code == 200
    rows = cells(page.text, "results")
    # 基本救助 + 倾斜救助 (+ 精神障碍床日定额救助 0): 7,800 + 2,520; 6,000 + 2,400; 6,200 + 8,280
    assert [(r[0], r[2], r[5]) for r in rows] == [
        ("bx-0001", "2023-02-10", "10,320.00"), ("bx-0002", "2023-05-20", "8,400.00"),
        ("bx-0003", "2023-09-03", "14,480.00")]
    assert 'href="/person?id=p-01&amp;year=2023"' in page.text


def test_search_filters_by_chinese_identity_date_alert_line_and_version(client):
    form = client.get("/").text
    for option in ("低保边缘家庭成员", "特困人员", "基本救助", "倾斜救助", "jilin-2020",
                   "xinjiang-2023"):
        assert f"<option>{option}</option>" in form
    identity = cells(client.get("/", params={"identity": "低保边缘家庭成员",
                                            "date_to": "2023-06-30"}).text, "results")
    assert {r[0] for r in identity} >= {"bx-0001", "bx-0002"}
    assert "bx-0003" not in {r[0] for r in identity}
    assert all(r[3] == "低保边缘家庭成员" and r[2] <= "2023-06-30" for r in identity)
    alerted = cells(client.get("/", params={"alert": "yes", "person_id": "p-01"}).text,
                    "results")
    assert [r[6] for r in alerted] == ["因病返贫风险"] * 3
    # p-02 (特困人员, bx-0004) raised no alert
    assert cells(client.get("/", params={"alert": "no", "person_id": "p-02"}).text,
                 "results")[0][0] == "bx-0004"
    paid_by_line = cells(client.get("/", params={"line": "基本救助", "person_id": "p-01"}).text,
                         "results")
    assert len(paid_by_line) == 3
    versions = cells(client.get("/", params={"policy_id": "jilin-2020"}).text, "results")
    assert versions and all(r[4] == "jilin-2020" for r in versions)
    assert "共 0 条" in client.get("/", params={"adjusted": "yes"}).text   # none in the demo


def test_search_pages_the_results(client, monkeypatch):
    monkeypatch.setattr(client.app.state.ctx.catalog, "page_size", 10)
    first = client.get("/").text
    # every example claim the policies admitted: 32 (the refused ones write nothing)
    assert re.search(r"共 32 条理赔，第 1 / 4 页", first)
    assert len(cells(first, "results")) == 10 and 'rel="next"' in first
    last = client.get("/", params={"page": 4}).text
    assert len(cells(last, "results")) == 2 and 'rel="prev"' in last
    seen = [r[0] for n in (1, 2, 3, 4)
            for r in cells(client.get("/", params={"page": n}).text, "results")]
    assert len(set(seen)) == 32


def test_claim_page_shows_the_net_the_claims_behind_it_and_its_record(client, demo_book):
    page = client.get("/claim", params={"id": "bx-0003"}).text
    assert cells(page, "net") == [["倾斜救助", "8,280.00"], ["基本救助", "6,200.00"],
                                  ["精神障碍床日定额救助", "0.00"]]
    earlier = cells(page, "earlier")
    assert [row[:2] for row in earlier] == [["bx-0001", "2023-02-10"], ["bx-0002", "2023-05-20"]]
    assert "基本救助 15,000.00" in earlier[0][2] and "基本救助 7,800.00" in earlier[0][3]
    assert 'href="/claim?id=bx-0001"' in page
    with open_store(str(demo_book)) as store:
        record = [r for r in store.records_of_claim("bx-0003")][-1]
    assert [f"#{record.seq}", "settlement", str(record.batch)] == cells(page, "records")[0][:3]
    assert record.hash in page
    assert 'src="/claim/explanation?id=bx-0003"' in page


def test_the_explanation_is_explain_html_of_the_claim_in_the_book(client):
    page = client.get("/claim/explanation", params={"id": "bx-0003"}).text
    assert "<title>理赔 bx-0003 结算说明</title>" in page
    # 支付合计: 基本医保 22,000 + 大病保险 4,000 + 基本救助 6,200 + 倾斜救助 8,280
    assert re.search(r"支付合计</td><td[^>]*>40,480.00", page)
    assert "<svg" in page


def test_person_year_shows_running_bases_payouts_and_caps_left(client):
    page = client.get("/person", params={"id": "p-01", "year": "2023"}).text
    rows = cells(page, "year")
    assert [r[0] for r in rows] == ["bx-0001", "bx-0002", "bx-0003"]
    # columns: id, date, identity, then per line in the policy's settlement order
    # (精神障碍床日定额救助, 基本救助, 倾斜救助) 4 figures
    assert [r[3:7] for r in rows] == [["0.00", "0.00", "0.00", "—"]] * 3
    basic = [r[7:11] for r in rows]
    assert basic == [["15,000.00", "7,800.00", "7,800.00", "12,200.00"],
                     ["25,000.00", "6,000.00", "13,800.00", "6,200.00"],
                     ["45,000.00", "6,200.00", "20,000.00", "0.00"]]
    tilted = [r[11:15] for r in rows]
    assert tilted == [["7,200.00", "2,520.00", "2,520.00", "—"],
                      ["11,200.00", "2,400.00", "4,920.00", "—"],
                      ["25,000.00", "8,280.00", "13,200.00", "—"]]
    # the plot: the 20,000 cap drawn, each claim marked on each series
    assert page.count("<svg") == 3
    assert "年度限额 20,000.00" in page
    assert page.count('class="claim"') == 3 * 2 * 2 + 3 * 2   # two lines × two series, alerts
    # what a screen reader is told of the 基本救助 plot: the running payouts, then the cap
    assert "累计支付：bx-0001 7,800.00，bx-0002 13,800.00，bx-0003 20,000.00；年度限额 20,000.00" \
        in page


def test_policy_page_quotes_the_notice_under_each_clause(client):
    page = client.get("/policy", params={"name": "benxi-2023"}).text
    section = page.split("<h3>(三) 促进三重制度互补衔接</h3>", 1)[1].split("</section>", 1)[0]
    assert "<blockquote>「发挥基本医保主体保障功能，严格执行基本医保支付范围和标准」</blockquote>" \
        in section
    five = page.split("<h3>(五) 合理确定医疗救助待遇水平</h3>", 1)[1].split("</section>", 1)[0]
    assert five.count("<blockquote>") >= 3


def test_policy_page_shows_versions_clauses_graph_lint_and_shares(client):
    page = client.get("/policy", params={"name": "jiamusi-2022"}).text
    assert "jiamusi-2021" in cells(page, "versions")[0][0]   # the chain, oldest first
    assert "<blockquote>" in page and 'id="graph"' in page and "<svg" in page
    assert 'href="/policy/graph.svg?name=jiamusi-2022&amp;version=jiamusi-2022"' in page
    assert 'id="shares"' in page and "%" in page.split('id="shares"', 1)[1]
    full = client.get("/policy/graph.svg", params={"name": "jiamusi-2022"})
    assert full.headers["content-type"].startswith("image/svg+xml") and "<svg" in full.text


def test_no_host_path_is_reached_through_a_policy_name(client):
    for name in ("../../etc/passwd", "/etc/passwd", "benxi-2023/../../pyproject",
                 "%2e%2e/etc/passwd", "benxi-2023.policy"):
        assert client.get("/policy", params={"name": name}).status_code == 404
        assert client.get("/policy/graph.svg", params={"name": name}).status_code == 404
    assert "root:" not in client.get("/policy", params={"name": "../../etc/passwd"}).text


def test_chain_page_shows_the_head_hash_that_verify_reaches(client, demo_book):
    page = client.get("/chain").text
    with open_store(str(demo_book)) as store:
        report = verify_store(store)
    assert f'<code class="hash" id="head">{report.head}</code>' in page
    assert "通过" in page
    assert "settlement" in page


def test_every_page_sends_the_security_headers(client):
    for path in ("/", "/claim?id=bx-0001", "/person?id=p-01&year=2023", "/chain", "/policies"):
        headers = client.get(path).headers
        assert "default-src 'none'" in headers["content-security-policy"]
        assert "script-src" not in headers["content-security-policy"]   # no script may run
        assert headers["x-content-type-options"] == "nosniff"


def test_replay_needs_the_form_csrf_token(client):
    page = client.get("/claim", params={"id": "bx-0003"})
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    refused = client.post("/claim/replay", data={"id": "bx-0003", "csrf": "0" * 64})
    assert refused.status_code == 403 and "CSRF" in refused.text
    cross = client.post("/claim/replay", data={"id": "bx-0003", "csrf": token},
                        headers={"origin": "http://evil.example"})
    assert cross.status_code == 403
    done = client.post("/claim/replay", data={"id": "bx-0003", "csrf": token})
    assert done.status_code == 200
    # p-01's person-year replayed: bx-0003's nets equal one run of its three claims
    assert "重放一致" in done.text
