"""The desk in a real browser (Debian's Chromium, headless, via Playwright) against
a running uvicorn: click through search → person-year → claim → policy and check
the figures shown against the book (Benxi §(五), worked out in conftest.py), with
structural screenshot checks (elements visible, Chinese glyphs rendered rather
than tofu, no horizontal overflow at 1280 and 390 px) and an accessibility pass
(page language, labels, contrast ≥ 4.5:1 computed from the styles, keyboard).

Screenshots go to out/test-artifacts/desk-*.png; with YIBAO_DESK_SCREENSHOTS=docs
also to docs/images/desk-*.png, the pictures the README shows.
"""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image, ImageChops

from desk_support import running_desk
from helpers import ROOT

ARTIFACTS = ROOT / "out" / "test-artifacts"
PAGES = {"search": "/?person_id=p-01", "person": "/person?id=p-01&year=2023",
         "claim": "/claim?id=bx-0003", "policy": "/policy?name=benxi-2023", "chain": "/chain"}


@pytest.fixture(scope="module")
def desk(demo_book):
    with running_desk(demo_book) as base:
        yield base


def open_page(browser, url: str, width: int = 1280):
    page = browser.new_page(viewport={"width": width, "height": 900})
    requests, errors = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(url, wait_until="load")
    return page, requests, errors


def rows(page, selector: str) -> list[list[str]]:
    found = page.locator(f"{selector} tbody tr")
    return [[cell.strip() for cell in found.nth(i).inner_text().split("\t")]
            for i in range(found.count())]


def save_shot(page, name: str) -> bytes:
    shot = page.screenshot(full_page=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"desk-{name}.png").write_bytes(shot)
    if os.environ.get("YIBAO_DESK_SCREENSHOTS") == "docs":
        (ROOT / "docs" / "images" / f"desk-{name}.png").write_bytes(shot)
    return shot


def test_click_through_search_person_year_claim_policy(browser, desk):
    page, requests, errors = open_page(browser, desk + "/")
    page.get_by_label("参保人编号").fill("p-01")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**/?*person_id=p-01*")
    assert [r[0] for r in rows(page, "#results")] == ["bx-0001", "bx-0002", "bx-0003"]
    save_shot(page, "search")
    page.locator("#results").get_by_role("link", name="p-01").first.click()
    page.wait_for_url("**/person?*")
    year = rows(page, "#year")
    # 基本救助's four columns: running base, paid, running paid, cap left (conftest.py)
    assert [r[7:11] for r in year] == [["15,000.00", "7,800.00", "7,800.00", "12,200.00"],
                                       ["25,000.00", "6,000.00", "13,800.00", "6,200.00"],
                                       ["45,000.00", "6,200.00", "20,000.00", "0.00"]]
    assert page.locator("figure.plot svg").first.is_visible()
    assert page.locator("figure.plot svg circle.claim").count() == 18
    save_shot(page, "person")
    page.get_by_role("link", name="bx-0003").first.click()
    page.wait_for_url("**/claim?id=bx-0003")
    assert rows(page, "#net") == [["倾斜救助", "8,280.00"], ["基本救助", "6,200.00"],
                                  ["精神障碍床日定额救助", "0.00"]]
    frame = page.frame_locator("iframe.explanation")
    total = frame.locator("#result tr.strong").inner_text().split("\t")
    assert total == ["支付合计", "40,480.00"]   # 22,000 + 4,000 + 6,200 + 8,280
    save_shot(page, "claim")
    page.locator("#facts").get_by_role("link", name="benxi-2023").click()
    page.wait_for_url("**/policy?name=benxi-2023")
    assert page.locator("#graph svg").is_visible()
    assert page.locator("#graph svg").bounding_box()["width"] <= 1280
    save_shot(page, "policy")
    page.get_by_role("link", name="账链").click()
    assert page.locator("#head").inner_text().strip()
    save_shot(page, "chain")
    # nothing fetched from anywhere but the desk, and no script error
    assert errors == []
    assert all(url.startswith(desk) for url in requests)


@pytest.mark.parametrize("width", [1280, 390])
def test_no_horizontal_overflow_and_elements_visible(browser, desk, width):
    for name, path in PAGES.items():
        page, _, _ = open_page(browser, desk + path, width)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
        assert page.locator("h1").is_visible() and page.locator("nav").is_visible()
        page.close()


def test_chinese_glyphs_are_rendered_not_tofu(browser, desk):
    """Two different characters drawn with the page's font give different pictures;
    missing glyphs (tofu) are all the same box."""
    page, _, _ = open_page(browser, desk + "/")
    page.set_content('<p style="font: 40px \'Noto Sans CJK SC\', sans-serif">'
                     '<span id="a">稽</span><span id="b">核</span><span id="c">稽</span></p>')
    shots = [Image.open(io.BytesIO(page.locator(f"#{s}").screenshot())).convert("L")
             for s in "abc"]
    assert ImageChops.difference(shots[0], shots[2]).getbbox() is None   # same glyph, same
    assert ImageChops.difference(shots[0], shots[1]).getbbox() is not None
    for shot in shots:
        assert shot.getextrema()[0] < 100   # ink on the white page


CONTRAST = """() => {
  const lum = c => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(v => v / 255)
      .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const background = el => { for (; el; el = el.parentElement) {
      const bg = getComputedStyle(el).backgroundColor;
      if (bg && !bg.startsWith('rgba(0, 0, 0, 0)') && bg !== 'transparent') return bg; }
    return 'rgb(255, 255, 255)'; };
  const worst = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest('svg') || !el.getClientRects().length) continue;
    const a = lum(getComputedStyle(el).color), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) worst.push([el.tagName, el.textContent.trim().slice(0, 20), ratio]);
  }
  return worst; }"""


def test_accessibility_language_labels_contrast(browser, desk):
    for name, path in PAGES.items():
        page, _, _ = open_page(browser, desk + path)
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        unlabelled = page.evaluate("""[...document.querySelectorAll(
            'input:not([type=hidden]), select, textarea')].filter(e => !e.labels.length)
            .map(e => e.name)""")
        assert unlabelled == [], name
        assert page.evaluate(CONTRAST) == [], name
        page.close()


def test_keyboard_alone_searches_and_opens_a_claim(browser, desk):
    page, _, _ = open_page(browser, desk + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "跳到正文"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    for _ in range(20):   # Tab on to the person field
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "person_id":
            break
    else:
        pytest.fail("the person field cannot be reached with Tab")
    page.keyboard.type("p-01")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?*person_id=p-01*")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "bx-0002":
            break
    else:
        pytest.fail("the results' links cannot be reached with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/claim?id=bx-0002")
    assert page.locator("h1").inner_text() == "理赔 bx-0002"


def test_chinese_input_is_searched_and_kept_in_the_form(browser, desk):
    page, _, _ = open_page(browser, desk + "/")
    page.get_by_label("身份").select_option("低保边缘家庭成员")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**/?*identity=*")
    found = rows(page, "#results")
    assert found and all(row[3] == "低保边缘家庭成员" for row in found)
    page.get_by_label("参保人编号").fill("张三（无此人）")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**/?*person_id=*")
    assert "共 0 条理赔" in page.locator("#result-count").inner_text()
    assert page.get_by_label("参保人编号").input_value() == "张三（无此人）"
    assert page.get_by_label("身份").input_value() == "低保边缘家庭成员"
