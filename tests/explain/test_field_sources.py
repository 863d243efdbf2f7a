"""Where the claim's inputs are listed, each declared field shows its clause and the clause's
words (issue 24 item 7), in the text, Markdown and HTML views.

Benxi declares its fields from the notice: §(十三) "按规定外出就医的救助对象,执行我市医疗保障和
医疗救助政策。未按规定外出就医的救助对象,所发生的医疗费用原则上不纳入医疗救助范围" gives
省内就医 and 按规定转诊 (two sentences of one clause, each quoted for its own field); §(五)
"生活困难的严重精神障碍患者因精神疾病在定点医疗机构住院治疗 … 按住院床日给予定额救助" gives
严重精神障碍患者 and 住院床日.  bx-0007 (policies/examples/benxi-2023.jsonl): a 低保边缘家庭成员
and 因病致贫重病患者 treated in the province (是), not referred (否), no mental disorder (否), no
bed days claimed (—).  The upstream payouts cite §(三), whose words the steps already quote.
"""

from __future__ import annotations

import re

from helpers import EXAMPLES, POLICIES
from yibao.api import evaluate_claims, load_engine, read_claims_file
from yibao.explain.html import render_html
from yibao.explain.labels import EN
from yibao.explain.markdown import render_markdown
from yibao.explain.text import render_text

IN_PROVINCE = "§(十三)「按规定外出就医的救助对象，执行我市医疗保障和医疗救助政策」"
REFERRED = "§(十三)「未按规定外出就医的救助对象，所发生的医疗费用原则上不纳入医疗救助范围」"
MENTAL = "§(五)「生活困难的严重精神障碍患者因精神疾病在定点医疗机构住院治疗」"
BED_DAYS = "§(五)「按住院床日给予定额救助」"
UPSTREAM = "§(三)「发挥基本医保主体保障功能，严格执行基本医保支付范围和标准」"

ENGINE = load_engine(POLICIES / "benxi-2023.policy")
OUTCOMES = {o.claim_id: o for o in evaluate_claims(
    ENGINE, read_claims_file(EXAMPLES / "benxi-2023.jsonl"), trace=True)}


def render(renderer, claim_id="bx-0007", **options) -> str:
    outcome = OUTCOMES[claim_id]
    claim = ENGINE.claims_by_id[claim_id]
    if renderer is render_html:
        return render_html(outcome, claim, ENGINE.evaluators[outcome.policy].graph, **options)
    return renderer(outcome, claim, ENGINE.policy, **options)


def test_the_text_lists_each_field_with_its_value_clause_and_words():
    text = render(render_text)
    block = text.split("\n\n")[0].splitlines()[3:]
    assert block == ["申报项目:",
                     f"  省内就医: 是 {IN_PROVINCE}",
                     f"  按规定转诊: 否 {REFERRED}",
                     f"  严重精神障碍患者: 否 {MENTAL}",
                     f"  住院床日: — {BED_DAYS}"]


def test_the_text_in_english_and_without_quotes_keeps_the_clause():
    text = render(render_text, lang=EN, quotes=False)
    assert "Claim items:\n  省内就医: yes §(十三)\n  按规定转诊: no §(十三)\n" in text
    assert "按规定外出就医" not in text


def test_markdown_gives_the_clause_in_the_table_and_its_words_once_below():
    markdown = render(render_markdown)
    table = markdown.split("## 申报\n\n")[1].split("\n\n## ")[0]
    assert "| 项目 | 申报值 | 依据 |" in table
    assert "| 省内就医 | 是 | §(十三) |" in table
    assert "| 住院床日 | — | §(五) |" in table
    assert "| 基本医保支付 | 9,000.00 | §(三) |" in table
    notes = table.split("申报项目的依据条款:\n\n")[1].splitlines()
    assert notes == [f"- 省内就医 {IN_PROVINCE}", f"- 按规定转诊 {REFERRED}",
                     f"- 严重精神障碍患者 {MENTAL}", f"- 住院床日 {BED_DAYS}"]
    # §(三)'s words are in the steps (一、上游结算), so they are not said again under the table.
    assert UPSTREAM not in table and markdown.count(UPSTREAM) == 1


def test_markdown_without_quotes_keeps_the_references_and_drops_the_list():
    markdown = render(render_markdown, quotes=False)
    assert "| 按规定转诊 | 否 | §(十三) |" in markdown
    assert "依据条款" not in markdown and "「" not in markdown


def _cells(html: str, section: str) -> list[list[str]]:
    body = html.split(f'<section id="{section}"')[1].split("</section>")[0]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_html_gives_the_clause_in_the_table_and_its_words_below():
    html = render(render_html)
    rows = _cells(html, "inputs")
    assert ["省内就医", "是", "§(十三)"] in rows and ["严重精神障碍患者", "否", "§(五)"] in rows
    inputs = html.split('<section id="inputs"')[1].split("</section>")[0]
    assert f"<li>住院床日 {BED_DAYS}</li>" in inputs and f"<li>按规定转诊 {REFERRED}</li>" in inputs


def test_html_cites_a_clause_quoted_earlier_by_its_section_sign_on_paper():
    """bx-0007's losing candidate (因病致贫重病患者) reads 基本救助's deductible from the same
    §(五) words as the winner: printed, its step cites §(五)（引文见前）, on screen the words."""
    html = render(render_html)
    loser = html.split('<details class="stage not-chosen">')[1]
    deductible = loser.split("基本救助起付标准")[1].split("</li>")[0]
    assert ('<blockquote class="clause repeated"><span class="full">§(五)「对低保对象、特困人员、'
            '孤儿取消起付标准') in deductible
    assert '<span class="again">§(五)（引文见前）</span>' in deductible
    winner = html.split('<details class="stage not-chosen">')[0]
    assert "基本救助起付标准" in winner and 'class="clause repeated"' not in \
        winner.split("基本救助起付标准")[1].split("</li>")[0]


def test_two_fields_citing_the_same_words_are_quoted_once(tmp_path):
    """Were 按规定转诊 declared from the same sentence of §(十三) as 省内就医, the words are
    said once, after both names (Markdown, HTML), and the text's second field refers to them."""
    source = (POLICIES / "benxi-2023.policy").read_text(encoding="utf-8")
    same = source.replace('"未按规定外出就医的救助对象，所发生的医疗费用原则上不纳入医疗救助范围"',
                          '"按规定外出就医的救助对象，执行我市医疗保障和医疗救助政策"', 1)
    assert same != source
    policy = tmp_path / "benxi-2023.policy"
    policy.write_text(same, encoding="utf-8")
    engine = load_engine(policy)
    outcomes = {o.claim_id: o for o in evaluate_claims(
        engine, read_claims_file(EXAMPLES / "benxi-2023.jsonl"), trace=True)}
    outcome, claim = outcomes["bx-0007"], engine.claims_by_id["bx-0007"]
    markdown = render_markdown(outcome, claim, engine.policy)
    assert f"- 省内就医、按规定转诊 {IN_PROVINCE}\n" in markdown
    assert markdown.count(IN_PROVINCE) == 1
    text = render_text(outcome, claim, engine.policy)
    assert f"  省内就医: 是 {IN_PROVINCE}\n  按规定转诊: 否 §(十三)（引文见前）\n" in text
