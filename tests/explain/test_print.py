"""The auditor's HTML page at meeting size and on paper (issue 24 item 8), in headless Chromium.

Three Benxi claims, the ones the auditor printed:

- bx-0003, p-01's third claim: 基本救助 60% × (C 35,000 − 2,000) − 60% × (C 23,000 − 2,000)
  → 6,200 (the year's cap of 20,000 not reached: 7,800 + 6,000 + 6,200 = 20,000), 倾斜救助 8,280
  (§(五); tests/cli/test_cli_core.py).
- bx-0007, take highest: 低保边缘家庭成员 17,800 beats 因病致贫重病患者 13,500 (§(六)); the
  loser's 基本救助 is 50% × (12,000 − 5,000) = 3,500, folded away on screen.
- lb-01, below the deductible: a 低保对象 with 10,000 in scope of which 基本医保 paid 1,000.
  基本救助 has no deductible for 低保对象 (§(五)): 70% × 9,000 = 6,300; 倾斜救助's base is
  the 2,700 left, below its 3,000 deductible: 0.

On screen: no sideways scrolling at 1,280 or 390 px, the graph scaled to its column with a
full-size link, the alert table's 结论 on one line, text contrast ≥ 4.5:1 (WCAG 2 AA, worked
out from the colours the browser computes), an accessible name on the SVG.  On A4: at most
three pages, the graph alone on one landscape page, steps never cut, the folded candidate
printed open.
"""

from __future__ import annotations

import pathlib
import subprocess

import pytest
from PIL import Image

from helpers import EXAMPLES, POLICIES, claim
from yibao.api import evaluate_claims, load_engine, read_claims_file
from yibao.explain import colour
from yibao.explain.html import render_html

BELOW_DEDUCTIBLE = claim("lb-01", "p-lb", "2023-03-01", ["低保对象"], "10000.00",
                         {"基本医保": "1000.00", "大病保险": "0.00"})
CLAIMS = ("bx-0003", "bx-0007", "lb-01")
A4 = (595, 842)   # points, portrait, as pdfinfo rounds them


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, pathlib.Path]:
    engine = load_engine(POLICIES / "benxi-2023.policy")
    records = list(read_claims_file(EXAMPLES / "benxi-2023.jsonl")) + [BELOW_DEDUCTIBLE]
    outcomes = {o.claim_id: o for o in evaluate_claims(engine, records, trace=True)}
    folder = tmp_path_factory.mktemp("print")
    written = {}
    for claim_id in CLAIMS:
        result = outcomes[claim_id]
        page = folder / f"{claim_id}.html"
        page.write_text(render_html(result, engine.claims_by_id[claim_id],
                                    engine.evaluators[result.policy].graph), encoding="utf-8")
        written[claim_id] = page
    return written


def open_at(browser, path: pathlib.Path, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(path.as_uri(), wait_until="load")
    return page


def test_the_hand_figures_are_on_the_pages(browser, pages):
    figures = {"bx-0003": [["基本救助", "6,200.00"], ["倾斜救助", "8,280.00"]],
               "bx-0007": [["基本救助", "6,000.00"], ["倾斜救助", "1,800.00"]],
               "lb-01": [["基本救助", "6,300.00"], ["倾斜救助", "0.00"]]}
    for claim_id, expected in figures.items():
        page = open_at(browser, pages[claim_id], 1280)
        rows = page.locator("#result tbody tr")
        shown = [rows.nth(i).inner_text().split("\t") for i in range(rows.count())]
        page.close()
        assert all(row in shown for row in expected), (claim_id, shown)


@pytest.mark.parametrize("width", [1280, 390])
def test_no_sideways_scrolling(browser, pages, width):
    for claim_id in CLAIMS:
        page = open_at(browser, pages[claim_id], width)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        page.close()
        assert scroll_width <= width, (claim_id, scroll_width)


def test_the_graph_fits_its_column_and_opens_at_full_size(browser, pages):
    page = open_at(browser, pages["bx-0007"], 1280)
    column = page.locator("#graph-full").bounding_box()
    svg = page.locator("#graph svg")
    fitted = svg.bounding_box()
    assert fitted["width"] <= column["width"] and fitted["x"] >= column["x"]
    page.get_by_role("link", name="原尺寸查看").click()
    full = svg.bounding_box()
    # graphviz's own size (the width attribute, in points: 4/3 px each), wider than the column.
    natural = float(svg.get_attribute("width").removesuffix("pt")) * 4 / 3
    assert full["width"] == pytest.approx(natural, abs=2) and full["width"] > column["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280   # it scrolls in its box
    page.get_by_role("link", name="适应页宽").click()
    assert svg.bounding_box()["width"] == pytest.approx(fitted["width"], abs=1)
    page.close()


def test_the_alert_tables_outcome_reads_on_one_line_at_1280(browser, pages):
    page = open_at(browser, pages["bx-0007"], 1280)
    lines = page.evaluate("""() => [...document.querySelectorAll('#alerts tr')].map(row => {
        const cell = row.children[3];
        const range = document.createRange();
        range.selectNodeContents(cell);
        return [cell.innerText, range.getClientRects().length];
    })""")
    page.close()
    # 因病返贫风险 fires (7,200 ≥ 5,000, §(八)); 因病致贫风险 does not (not in its group).
    assert lines == [["结论", 1], ["预警", 1], ["未预警", 1]]


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground: tuple[int, int, int], background: tuple[int, int, int]) -> float:
    """WCAG 2's contrast ratio (L1 + 0.05) / (L2 + 0.05)."""
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _hex(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))


def test_the_contrast_formula_on_known_pairs():
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21)
    assert contrast(_hex("#a3a3a3"), _hex("#f2f2f2")) < 4.5   # the grey the auditor could not read


# Every element with text of its own: its colour and the first opaque background behind it.
_TEXT_COLOURS = """() => {
    const rgb = text => text.match(/[\\d.]+/g).slice(0, 4).map(Number);
    const background = element => {
        for (let e = element; e; e = e.parentElement) {
            const c = rgb(getComputedStyle(e).backgroundColor);
            if (c.length < 4 || c[3] > 0) return c.slice(0, 3);
        }
        return [255, 255, 255];
    };
    const found = [];
    for (const element of document.body.querySelectorAll('*')) {
        if (element.closest('svg')) continue;
        const own = [...element.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        if (!own || !element.getClientRects().length) continue;
        found.push([element.tagName + '.' + element.className,
                    rgb(getComputedStyle(element).color).slice(0, 3), background(element)]);
    }
    return found;
}"""

# In the SVG: each node's texts against the node's own fill.
_SVG_COLOURS = """() => [...document.querySelectorAll('#graph g.node')].flatMap(node => {
    const shape = node.querySelector('path, polygon');
    const fill = shape.getAttribute('fill');
    return [...node.querySelectorAll('text')].map(t =>
        [node.querySelector('title').textContent, t.getAttribute('fill') || '#000000', fill]);
})"""


def test_text_contrast_is_at_least_4_5(browser, pages):
    page = open_at(browser, pages["bx-0007"], 1280)
    page.locator("details.not-chosen summary").click()     # the folded candidate's grey text too
    texts, nodes = page.evaluate(_TEXT_COLOURS), page.evaluate(_SVG_COLOURS)
    page.close()
    assert len(texts) > 100 and len(nodes) > 200
    low = [(what, fg, bg) for what, fg, bg in texts if contrast(tuple(fg), tuple(bg)) < 4.5]
    assert low == []
    low = [(node, fg, bg) for node, fg, bg in nodes
           if contrast(_hex(fg), _hex(bg if bg.startswith("#") else "#ffffff")) < 4.5]
    assert low == []


def test_the_palettes_text_colours_on_every_fill():
    fills = (colour.NODE_FILL, colour.PATH_FILL, colour.UNTAKEN_FILL, colour.INPUT_FILL,
             colour.OUTPUT_FILL)
    for text in (colour.PATH, colour.CLAUSE, colour.UNTAKEN_TEXT, colour.ALERT):
        assert min(contrast(_hex(text), _hex(fill)) for fill in fills) >= 4.5, text


def test_the_graph_has_an_accessible_name(browser, pages):
    page = open_at(browser, pages["bx-0007"], 1280)
    graph = page.get_by_role("img", name="评估图 · 理赔 bx-0007 结算说明")
    assert graph.count() == 1
    assert graph.evaluate("svg => svg.firstElementChild.tagName") == "title"
    page.close()


def test_print_styles_keep_steps_whole_and_open_the_folded_candidate(browser, pages):
    page = open_at(browser, pages["bx-0007"], 1280)
    folded = page.locator("details.not-chosen li.step").first
    assert not folded.is_visible()
    page.emulate_media(media="print")
    assert folded.is_visible()
    assert page.locator("li.step").first.evaluate("s => getComputedStyle(s).breakInside") == "avoid"
    page.close()


def _pdf(browser, path: pathlib.Path) -> pathlib.Path:
    page = browser.new_page()
    page.goto(path.as_uri(), wait_until="load")
    pdf = path.with_suffix(".pdf")
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    page.close()
    return pdf


def _page_sizes(pdf: pathlib.Path) -> list[tuple[int, int]]:
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "99", str(pdf)], capture_output=True,
                          text=True, check=True).stdout
    sizes = []
    for line in info.splitlines():
        if line.startswith("Page") and " size:" in line:
            width, _, height = line.split("size:")[1].split()[:3]
            sizes.append((round(float(width)), round(float(height))))
    return sizes


def _text(pdf: pathlib.Path, first: int, last: int) -> str:
    return subprocess.run(["pdftotext", "-f", str(first), "-l", str(last), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_printed_on_at_most_three_a4_pages_the_graph_on_one_landscape_page(
        browser, pages, claim_id, tmp_path):
    pdf = _pdf(browser, pages[claim_id])
    sizes = _page_sizes(pdf)
    assert 2 <= len(sizes) <= 3
    # The tables and steps in portrait; the last page, alone in landscape, is the graph.
    assert sizes[:-1] == [A4] * (len(sizes) - 1) and sizes[-1] == A4[::-1]
    graph_page = _text(pdf, len(sizes), len(sizes))
    assert "评估图" in graph_page and "计算过程" not in graph_page
    # Drawn on it: pdftoppm's picture of that page has the orange path of the claim.
    subprocess.run(["pdftoppm", "-r", "72", "-png", "-f", str(len(sizes)), "-l",
                    str(len(sizes)), str(pdf), str(tmp_path / "graph")], check=True)
    [picture] = tmp_path.glob("graph*.png")
    image = Image.open(picture).convert("RGB")
    assert image.width > image.height
    pixels = image.tobytes()
    orange = sum(1 for i in range(0, len(pixels), 3)
                 if pixels[i] > 150 and 40 < pixels[i + 1] < 110 and pixels[i + 2] < 60)
    assert orange > 200                    # none without a claim path drawn


def test_the_folded_candidate_is_printed(browser, pages):
    """bx-0007's losing 因病致贫重病患者 steps are on paper: its 基本救助本次应付 (3,500)
    follows the applied identity's (6,000) in the steps, before the graph's page."""
    pdf = _pdf(browser, pages["bx-0007"])
    steps = _text(pdf, 1, len(_page_sizes(pdf)) - 1)
    assert steps.count("基本救助本次应付") == 2 and "3,500.00" in steps


def test_the_fields_clauses_are_printed_and_a_clause_quoted_before_is_cited_by_its_sign(
        browser, pages):
    """On paper the inputs table cites 住院床日's §(五) and quotes it once below (Benxi §(五)
    "按住院床日给予定额救助"; no step of bx-0007 quotes it: 精神障碍床日定额救助 did not apply);
    the losing candidate's steps cite the §(五) words the winner's quoted by their sign alone."""
    pdf = _pdf(browser, pages["bx-0007"])
    printed = "".join(_text(pdf, 1, len(_page_sizes(pdf)) - 1).split())
    assert "住院床日§(五)「按住院床日给予定额救助」" in printed
    assert "按规定转诊§(十三)「未按规定外出就医的救助对象，所发生的医疗费用原则上不纳入医疗救助范围」" in printed
    assert "§(五)（引文见前）" in printed
    assert printed.count("「对低保对象、特困人员、孤儿取消起付标准") == 1
