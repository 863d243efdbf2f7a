"""`yibao graph --summary`: the meeting view of a policy (issue 24 item 10).

Hand figures from the notices:

- Benxi §(五): 基本救助 — 特困人员、孤儿、低保对象 no deductible (0), 70%; 低保边缘家庭成员
  2,000, 60%; 因病致贫重病患者 5,000, 50%; everyone capped at 2万 = 20,000.
  倾斜救助 — 特困人员、孤儿 0, 100%; 低保对象 3,000, 70%; 低保边缘家庭成员 3,000, 60%;
  因病致贫重病患者 10,000, 50%; no annual cap except 因病致贫重病患者's 2万.
  精神障碍床日定额救助: per bed day, the amount not given by the notice; it "计入医疗救助年度
  最高支付限额" — counts toward the annual limit, which 不设 would contradict.
- Jiamusi §二.1 (2022): 大病保险 for everyone else 12,000 deductible, then 65% to 2万,
  70% to 5万, 75% above.
- Xinjiang 四: what the three schemes pay together is held within 95% of the in-scope cost.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest
from PIL import Image

from helpers import EXAMPLES, POLICIES, ROOT
from yibao.cli.main import main
from yibao.dsl.loader import load_policy
from yibao.explain.graph import render_graph
from yibao.explain.graph_summary import merged_rows, summary_dot

SVG = "{http://www.w3.org/2000/svg}"


def benxi_line(name: str):
    policy = load_policy(POLICIES / "benxi-2023.policy").latest
    return next(line for line in policy.lines if line.name == name)


def test_basic_assistance_is_one_merged_table_as_the_notice_lists_it():
    assert merged_rows(benxi_line("基本救助")) == [
        ("特困人员、孤儿、低保对象", ("0", "70%", "20,000")),
        ("低保边缘家庭成员", ("2,000", "60%", "20,000")),
        ("因病致贫重病患者", ("5,000", "50%", "20,000")),
    ]


def test_tilted_assistance_has_no_cap_but_for_one_identity():
    assert merged_rows(benxi_line("倾斜救助")) == [
        ("特困人员、孤儿", ("0", "100%", "不设")),
        ("低保对象", ("3,000", "70%", "不设")),
        ("低保边缘家庭成员", ("3,000", "60%", "不设")),
        ("因病致贫重病患者", ("10,000", "50%", "20,000")),
    ]


def test_the_mental_illness_lines_cap_says_what_the_clause_says():
    [(who, (deductible, per_day, cap))] = merged_rows(benxi_line("精神障碍床日定额救助"))
    assert who == "特困人员、孤儿、低保对象" and deductible == "—"
    assert per_day.replace("\n", "") == "未规定（本方案未规定床日定额标准）"
    assert cap.replace("\n", "") == "按床日定额救助计入医疗救助年度最高支付限额"


def test_jiamusi_bands_on_the_everyone_else_row():
    policy = load_policy(POLICIES / "jiamusi-2022.policy").latest
    line = next(line for line in policy.lines if line.name == "大病保险")
    rows = dict(merged_rows(line))
    assert rows["其他"] == ("12,000", "0–20,000 65%\n20,000–50,000 70%\n50,000 以上 75%", "不设")


@pytest.fixture(scope="module")
def benxi_svg(tmp_path_factory):
    out = tmp_path_factory.mktemp("summary") / "benxi-summary.svg"
    assert main(["graph", str(POLICIES / "benxi-2023.policy"), "--summary", "-o", str(out)]) == 0
    return ElementTree.parse(out).getroot()


def _nodes(svg) -> dict[str, str]:
    """Each node's printed words (its <text> elements joined: wrapped lines rejoined)."""
    return {g.find(f"{SVG}title").text: "".join(t.text or "" for t in g.iter(f"{SVG}text"))
            for g in svg.iter(f"{SVG}g") if g.get("class") == "node"}


def test_at_most_twenty_nodes_one_per_line(benxi_svg):
    nodes = _nodes(benxi_svg)
    assert len(nodes) <= 20
    lines = [words for words in nodes.values() if "救助（本政策计算）" in words
             or "（上游结算）" in words]
    assert len(lines) == 5          # 基本医保, 大病保险, 精神障碍床日定额救助, 基本救助, 倾斜救助
    edges = [g for g in benxi_svg.iter(f"{SVG}g") if g.get("class") == "edge"]
    assert len(edges) < len(nodes)  # the settlement order only: no edge from each input


def test_inputs_are_labels_and_clause_words_are_printed(benxi_svg):
    basic = next(words for words in _nodes(benxi_svg).values() if "④ 基本救助" in words)
    assert "就诊: 住院、门诊慢特病" in basic
    assert "条件: (省内就医 或 按规定转诊)" in basic      # fields by their display names
    assert "基数: 政策范围内费用 − 此前各项已付（剩余负担）" in basic
    mental = next(words for words in _nodes(benxi_svg).values() if "精神障碍床日定额救助" in words)
    assert "条件: 严重精神障碍患者" in mental and "按 住院床日 计定额" in mental
    # The words themselves, printed (so in PNG, PDF and print), not only a tooltip.
    assert "年度限额 §(五)「自2023年1月起，基本救助年度救助限额按2万元执行」" in basic
    assert "条件 §(十三)「未按规定外出就医的救助对象，所发生的医疗费用原则上不纳入医疗救助范围」" in basic
    assert not any(g.get("class") == "node" and g.find(f"{SVG}title").text == "in_province"
                   for g in benxi_svg.iter(f"{SVG}g"))


def test_identities_treated_as_others_and_take_highest(benxi_svg):
    nodes = _nodes(benxi_svg)
    assert "监测帮扶对象 → 低保对象" in nodes["identities"]
    assert "其他监测范围内人口 → 低保边缘家庭成员" in nodes["identities"]
    assert "§(六)「具有多种身份的人员，执行可享受的最高医疗救助待遇，不得重复享受」" in nodes["take_highest"]
    assert "居民医保: 20,000 元" in nodes["alert1"] and "职工医保: 50,000 元" in nodes["alert1"]


def test_xinjiang_ceiling():
    dot = summary_dot(load_policy(POLICIES / "xinjiang-2023.policy").latest)
    assert "各项支付合计 ≤ 95% × 政策范围内费用" in dot.source


@pytest.mark.parametrize("suffix", ["png", "pdf"])
def test_png_and_pdf(tmp_path, suffix):
    out = tmp_path / f"benxi-summary.{suffix}"
    assert main(["graph", str(POLICIES / "benxi-2023.policy"), "--summary", "-o", str(out)]) == 0
    head = out.read_bytes()[:8]
    assert head.startswith(b"\x89PNG" if suffix == "png" else b"%PDF")


def test_summary_is_not_drawn_with_a_claim_or_a_line(capsys):
    policy = str(POLICIES / "benxi-2023.policy")
    assert main(["graph", policy, "--summary", "--line", "基本救助", "-o", "x.svg"]) == 2
    assert main(["graph", policy, "--summary", "--claim", "bx-0007", "--claims",
                 str(EXAMPLES / "benxi-2023.jsonl"), "-o", "x.svg"]) == 2
    assert "--summary draws the whole policy" in capsys.readouterr().err


def test_the_documented_picture_is_benxis_summary(tmp_path):
    """docs/images/benxi-summary.png (scripts/make_doc_images.sh) is the summary drawn now:
    the same size within a few pixels (the provenance line's time may differ)."""
    picture = Image.open(ROOT / "docs" / "images" / "benxi-summary.png")
    now = render_graph(summary_dot(load_policy(POLICIES / "benxi-2023.policy").latest),
                       tmp_path / "now.png")
    width, height = Image.open(now).size
    assert picture.width == pytest.approx(width, abs=40)
    assert picture.width > picture.height     # landscape, for a projector
