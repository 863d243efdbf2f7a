"""The auditor's HTML page, opened in a real headless browser (Debian's Chromium via Playwright).

The page is one self-contained file: it must load from disk with no request other
than itself, no console error, show the payouts and the graph with the claim's path.
A screenshot is kept under out/test-artifacts/ (git-ignored) for people to look at.
Figures: Benxi bx-0007 as worked out in test_graph.py's docstring (§(五), §(六), §(八)).
"""

from __future__ import annotations

import pathlib

import pytest

from helpers import EXAMPLES, POLICIES, ROOT
from yibao.api import evaluate_claims, load_engine, read_claims_file
from yibao.cli.main import main
from yibao.explain.html import render_html
from yibao.explain.labels import EN

ARTIFACTS = ROOT / "out" / "test-artifacts"


@pytest.fixture(scope="module")
def bx7_page(tmp_path_factory) -> pathlib.Path:
    engine = load_engine(POLICIES / "benxi-2023.policy")
    outcomes = evaluate_claims(engine, read_claims_file(EXAMPLES / "benxi-2023.jsonl"), trace=True)
    bx7 = next(o for o in outcomes if o.claim_id == "bx-0007")
    page = tmp_path_factory.mktemp("html") / "bx-0007.html"
    page.write_text(render_html(bx7, engine.claims_by_id["bx-0007"],
                                engine.evaluators[bx7.policy].graph), encoding="utf-8")
    return page


def open_page(browser, path: pathlib.Path):
    """The page loaded from disk, with every request and console error it caused."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests, errors = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri(), wait_until="load")
    return page, requests, errors


def test_page_loads_from_a_file_alone_without_errors(browser, bx7_page):
    page, requests, errors = open_page(browser, bx7_page)
    assert errors == []
    assert requests == [bx7_page.as_uri()]          # no stylesheet, font, script or image fetched
    assert page.title() == "理赔 bx-0007 结算说明"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "explain-bx-0007.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    page.close()


def test_page_shows_the_payouts_take_highest_and_alert(browser, bx7_page):
    page, _, _ = open_page(browser, bx7_page)
    result = page.locator("#result tbody tr")
    rows = [result.nth(i).inner_text().split("\t") for i in range(result.count())]
    assert ["基本救助", "6,000.00"] in rows and ["倾斜救助", "1,800.00"] in rows
    assert ["支付合计", "17,800.00"] in rows
    assert page.locator("#result tr.strong").inner_text().split("\t") == ["支付合计", "17,800.00"]
    candidates = page.locator("#take-highest tbody tr")
    assert candidates.nth(0).inner_text().split("\t") == ["低保边缘家庭成员", "17,800.00", "适用"]
    assert candidates.nth(1).inner_text().split("\t")[:2] == ["因病致贫重病患者", "13,500.00"]
    assert page.locator("#year-to-date").is_visible()
    assert "因病返贫风险" in page.locator("#alerts tr.strong").inner_text()
    # The clause's words, as quoted in the policy file.
    assert page.get_by_text("§(五)「自2023年1月起，基本救助年度救助限额按2万元执行」").first.is_visible()
    # The losing candidate's steps are folded away, one click from view.
    losing = page.locator("details.not-chosen")
    assert losing.count() == 1 and not losing.locator("li.step").first.is_visible()
    losing.locator("summary").click()
    assert losing.locator("li.step").first.is_visible()
    page.close()


def test_page_shows_the_graph_with_the_claims_path(browser, bx7_page):
    page, _, _ = open_page(browser, bx7_page)
    graph = page.locator("#graph svg")
    assert graph.is_visible()
    box = graph.bounding_box()
    assert box["width"] > 800 and box["height"] > 1000
    payout = page.locator("#graph g.node", has=page.locator("title", has_text="基本救助.payout"))
    assert "taken" in payout.get_attribute("class")
    assert "= 6,000.00" in payout.text_content()
    assert page.locator("#graph g.node.untaken").count() >= 6   # 精神障碍床日定额救助, not applied
    assert page.locator("#graph g.edge.taken").count() > 20
    page.close()


def test_english_page_from_the_cli(browser, tmp_path, capsys):
    out = tmp_path / "bx-0007-en.html"
    status = main(["explain", str(POLICIES / "benxi-2023.policy"),
                   str(EXAMPLES / "benxi-2023.jsonl"), "--claim", "bx-0007",
                   "--format", "html", "--lang", "en", "-o", str(out)])
    assert status == 0 and capsys.readouterr().out == ""
    page, requests, errors = open_page(browser, out)
    assert errors == [] and requests == [out.as_uri()]
    assert page.title() == "Settlement of claim bx-0007"
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Total paid\t17,800.00" in page.locator("#result").inner_text()
    page_legend = page.locator("#graph p.legend").inner_text()
    page.close()
    assert page_legend == EN.word("legend")
