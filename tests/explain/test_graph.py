"""The evaluation graph drawn with graphviz: structure of the SVG, with and without a claim.

Figures are Benxi 2023's (policies/notices/benxi-2023.txt §(五), §(六)); the claim is bx-0007 of
policies/examples/benxi-2023.jsonl: 低保边缘家庭成员 + 因病致贫重病患者, in-scope 22,000,
基本医保 9,000, 大病保险 1,000, so B = 12,000.  As 低保边缘家庭成员: 基本救助 60% × (12,000 −
2,000) = 6,000, 倾斜救助 R 6,000, 60% × (6,000 − 3,000) = 1,800.  As 因病致贫重病患者: 基本救助
50% × (12,000 − 5,000) = 3,500, 倾斜救助 R 8,500 < 10,000 → 0.  Take highest: 低保边缘家庭成员.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import attrs
import pytest

from helpers import EXAMPLES, POLICIES
from yibao.api import evaluate_claims, load_engine, read_claims_file
from yibao.cli.main import main
from yibao.compiler.graph import Op
from yibao.explain import colour
from yibao.explain.graph import UnknownLine, graph_dot, inline_svg, render_graph
from yibao.explain.graph_words import WORDS, table_rows
from yibao.explain.overlay import MissingTrace, overlay_from_result

SVG = "{http://www.w3.org/2000/svg}"
POLICY = POLICIES / "benxi-2023.policy"
CLAIMS = EXAMPLES / "benxi-2023.jsonl"


@pytest.fixture(scope="module")
def engine():
    return load_engine(POLICY)


@pytest.fixture(scope="module")
def graph(engine):
    return engine.evaluators["benxi-2023"].graph


@pytest.fixture(scope="module")
def bx7(engine):
    outcomes = evaluate_claims(engine, read_claims_file(CLAIMS), trace=True)
    return next(o for o in outcomes if o.claim_id == "bx-0007")


def parse(svg: str) -> dict[str, dict]:
    """Each drawn node, edge and cluster by its title: class and all its text."""
    root = ET.fromstring(svg)
    found = {}
    for group in root.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        if title is None or "class" not in group.attrib:
            continue
        texts = [t.text or "" for t in group.iter(f"{SVG}text")]
        found[title.text] = {"class": group.attrib["class"].split(), "text": texts}
    return found


def test_every_op_has_words_for_the_drawing():
    assert set(WORDS) == set(Op)


def test_policy_graph_draws_every_node_with_lines_as_clusters_in_settlement_order(graph):
    drawn = parse(inline_svg(graph_dot(graph)))
    nodes = {title for title, g in drawn.items() if "node" in g["class"]}
    assert nodes == {node.id for node in graph.order}
    clusters = [(title, g["text"][0]) for title, g in drawn.items() if "cluster" in g["class"]]
    assert clusters == [
        ("cluster_claim", "申报（输入）"),
        ("cluster_line_1", "① 基本医保（上游结算）"),
        ("cluster_line_2", "② 大病保险（上游结算）"),
        ("cluster_line_3", "③ 精神障碍床日定额救助（本政策计算）"),
        ("cluster_line_4", "④ 基本救助（本政策计算）"),
        ("cluster_line_5", "⑤ 倾斜救助（本政策计算）"),
        ("cluster_monitoring", "预警监测与转办"),
    ]


def test_inputs_and_outputs_are_drawn_apart(graph):
    drawn = parse(inline_svg(graph_dot(graph)))
    inputs = {t for t, g in drawn.items() if "input" in g["class"]}
    outputs = {t for t, g in drawn.items() if "output" in g["class"]}
    assert {"claim.in_scope_cost", "claim.identities", "基本医保.payout", "大病保险.payout"} <= inputs
    assert {"基本救助.payout", "倾斜救助.payout", "take_highest", "total_paid",
            "personal_burden", "因病返贫风险.alert"} <= outputs
    assert not inputs & outputs
    assert "基本救助.base" not in inputs | outputs


def test_identity_tables_list_each_identitys_value_with_clause(graph):
    """§(五): 基本救助 deductibles 0 / 2,000 / 5,000; 倾斜救助 caps none / 2万."""
    assert table_rows(graph.policy.line("基本救助").deductible, "起付标准") == (
        ("特困人员、孤儿、低保对象", "0"), ("低保边缘家庭成员", "2,000"),
        ("因病致贫重病患者", "5,000"))
    drawn = parse(inline_svg(graph_dot(graph)))
    cap = drawn["倾斜救助.cap"]["text"]
    assert cap[0] == "倾斜救助年度限额"
    assert ["特困人员、孤儿、低保对象、低保边缘家庭成员", "不设", "因病致贫重病患者", "20,000",
            "§(五)"] == cap[1:]
    rate = drawn["基本救助.rate"]["text"]
    assert rate[1:] == ["特困人员、孤儿、低保对象", "70%", "低保边缘家庭成员", "60%",
                        "因病致贫重病患者", "50%", "§(五)"]


def test_every_node_says_its_formula_in_chinese(graph):
    drawn = parse(inline_svg(graph_dot(graph)))
    assert drawn["倾斜救助.base"]["text"][:3] == [
        "倾斜救助计算基数",
        "政策范围内费用 − 基本医保支付 − 大病保险支付 − 精神障碍床日定额救助支付 − 基本救助支付",
        "不低于 0"]
    assert drawn["基本救助.slice"]["text"][1:] == [
        "G(C) = 支付比例 × (C − 起付标准)", "round(G(C后)) − round(G(C前))"]
    assert drawn["take_highest"]["text"][-1] == "§(六)"


def test_claim_overlay_highlights_the_path_with_figures(graph, bx7):
    drawn = parse(inline_svg(graph_dot(graph, overlay_from_result(bx7))))
    payout = drawn["基本救助.payout"]
    assert "taken" in payout["class"]
    assert "= 6,000.00" in payout["text"]
    assert "= 1,800.00" in drawn["倾斜救助.payout"]["text"]
    assert "= 低保边缘家庭成员" in drawn["take_highest"]["text"]
    assert "= 17,800.00" in drawn["total_paid"]["text"]
    assert "taken" in drawn["基本救助.slice->基本救助.payout"]["class"]
    assert "taken" in drawn["基本医保.payout->基本救助.base"]["class"]


def test_claim_overlay_greys_untaken_lines_and_losing_candidates(graph, bx7):
    """mental_disorder is false: 精神障碍床日定额救助 does not apply (§(五)); 因病致贫重病患者 loses."""
    drawn = parse(inline_svg(graph_dot(graph, overlay_from_result(bx7))))
    mental = [g for t, g in drawn.items() if t.startswith("精神障碍床日定额救助.") and "->" not in t]
    assert mental and all("untaken" in g["class"] for g in mental)
    assert "untaken" in drawn["精神障碍床日定额救助.payout->基本救助.base"]["class"]
    assert "因病致贫重病患者: 3,500.00" in drawn["基本救助.payout"]["text"]
    assert "因病致贫重病患者: 0.00" in drawn["倾斜救助.payout"]["text"]
    assert "因病致贫重病患者: 5,000.00" in drawn["基本救助.deductible"]["text"]


def test_overlay_comes_from_the_trace_not_from_evaluating_again(graph, bx7):
    """A trace that says 6,000.01 is drawn as 6,000.01: the renderer never recomputes."""
    trace = tuple(s._replace(facts=attrs.evolve(s.facts, payout=Decimal("6000.01")))
                  if s.node == "基本救助.payout" and s.candidate == "低保边缘家庭成员" else s
                  for s in bx7.trace)
    drawn = parse(inline_svg(graph_dot(graph, overlay_from_result(attrs.evolve(bx7, trace=trace)))))
    assert "= 6,000.01" in drawn["基本救助.payout"]["text"]
    with pytest.raises(MissingTrace):
        overlay_from_result(attrs.evolve(bx7, trace=()))


def test_one_line_only_with_the_nodes_it_reads_and_feeds(graph):
    drawn = parse(inline_svg(graph_dot(graph, line="倾斜救助")))
    nodes = {t for t, g in drawn.items() if "node" in g["class"]}
    own = {n.id for n in graph.order if n.line == "倾斜救助"}
    assert own <= nodes
    assert {"基本救助.payout", "claim.in_scope_cost", "candidate.total"} <= nodes
    assert "基本救助.rate" not in nodes and "因病返贫风险.alert" not in nodes
    with pytest.raises(UnknownLine, match="基本救助"):
        graph_dot(graph, line="大病救助")


def test_files_by_suffix(graph, tmp_path):
    dot = graph_dot(graph)
    assert render_graph(dot, tmp_path / "g.dot").read_text(encoding="utf-8").startswith("digraph")
    assert render_graph(dot, tmp_path / "g.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    with pytest.raises(ValueError, match="gif"):
        render_graph(dot, tmp_path / "g.gif")


def test_pdf_embeds_the_cjk_font(graph, tmp_path):
    """Chinese in a PDF needs the CJK font embedded (fonts-noto-cjk, the README's set-up)."""
    data = render_graph(graph_dot(graph, line="基本救助"), tmp_path / "g.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    assert b"NotoSansCJK" in data


def test_cli_graph_with_a_claim(tmp_path, capsys):
    out = tmp_path / "bx-0007.svg"
    status = main(["graph", str(POLICY), "-o", str(out), "--claim", "bx-0007",
                   "--claims", str(CLAIMS)])
    assert status == 0
    assert "taken" in parse(out.read_text(encoding="utf-8"))["基本救助.payout"]["class"]


@pytest.mark.parametrize("argv, message", [
    (["-o", "g.gif"], "give a file ending in .svg"),
    (["-o", "g.svg", "--claim", "bx-0007"], "--claim and --claims go together"),
    (["-o", "g.svg", "--line", "大病救助"], "no line 大病救助"),
    (["-o", "g.svg", "--version", "benxi-2099"], "no version benxi-2099"),
    (["-o", "g.svg", "--claim", "bx-9999", "--claims", str(CLAIMS)], "no claim bx-9999"),
])
def test_cli_graph_usage_errors_exit_2(tmp_path, capsys, argv, message):
    argv = [str(tmp_path / a) if a.startswith("g.") else a for a in argv]
    assert main(["graph", str(POLICY), *argv]) == 2
    assert message in capsys.readouterr().err


def test_cli_graph_failed_claim_exits_1(tmp_path, capsys):
    """bx-0013 lacks paid.基本医保: C307, nothing drawn."""
    out = tmp_path / "g.svg"
    assert main(["graph", str(POLICY), "-o", str(out), "--claim", "bx-0013",
                 "--claims", str(CLAIMS)]) == 1
    assert "C307" in capsys.readouterr().err
    assert not out.exists()


def test_bands_one_a_row_and_the_row_read_for_no_identity_highlighted():
    """Jiamusi 2022 §二.1: 大病保险 bands 65% to 2万, 70% to 5万, 75% above, for everyone the
    table does not name; jm-0005 holds no identity, so it reads that 其他 row."""
    engine = load_engine(POLICIES / "jiamusi-2022.policy")
    graph = engine.evaluators["jiamusi-2022"].graph
    rows = table_rows(graph.policy.line("大病保险").rate, "支付比例")
    assert rows[-3:] == (("其他", "0–20,000 65%"), ("", "20,000–50,000 70%"),
                         ("", "50,000 以上 75%"))
    outcomes = evaluate_claims(engine, read_claims_file(EXAMPLES / "jiamusi-2022.jsonl"), trace=True)
    jm5 = next(o for o in outcomes if o.claim_id == "jm-0005")
    root = ET.fromstring(inline_svg(graph_dot(graph, overlay_from_result(jm5), line="大病保险")))
    rate = next(g for g in root.iter(f"{SVG}g") if g.findtext(f"{SVG}title") == "大病保险.rate")
    highlighted = [t.text for t in rate.iter(f"{SVG}text") if t.get("fill") == colour.PATH]
    assert highlighted[:4] == ["其他", "0–20,000 65%", "20,000–50,000 70%", "50,000 以上 75%"]
    assert "脱贫人口" not in highlighted


def test_a_value_an_amendment_gives_some_visits_has_its_own_rows(tmp_path):
    """Lhasa §四(四)一: 住院 and 门诊慢特病 get +5 points; the graph's rate node says so."""
    from lhasa_base import lhasa_folder
    from yibao.explain.graph_words import table_rows

    policy = load_engine(lhasa_folder(tmp_path)).policy
    rows = table_rows(policy.line("基本医保").rate, "支付比例")
    assert rows == (("各身份", "70%"), ("住院: 建档立卡贫困人口", "75%"),
                    ("门诊慢特病: 建档立卡贫困人口", "75%"))


_DRAWN_EDGE = __import__("re").compile(r'^\t("[^"]+"|\S+) -> ("[^"]+"|\S+)(?: \[(.*)\])?$')


def _drawn_edges(dot) -> set[tuple[str, str]]:
    """The edges a DOT source draws, without the invisible ones that only order the rows."""
    edges = set()
    for line in dot.source.splitlines():
        found = _DRAWN_EDGE.match(line)
        if found and "style=invis" not in (found.group(3) or ""):
            edges.add((found.group(1).strip('"'), found.group(2).strip('"')))
    return edges


@pytest.mark.parametrize("path", sorted(POLICIES.glob("*.policy")), ids=lambda p: p.stem)
def test_the_drawn_edges_are_the_declared_inputs(path):
    """Every edge drawn is an input the node's evaluation reads (issue 23: the drawn graph
    is the evaluated graph), and every input is drawn, but for the two the picture leaves
    quiet: a line's coverage (drawn once, into its base) and the candidate identity
    (drawn into coverage only)."""
    from yibao.compiler.lower import lower_policy
    from yibao.dsl.loader import load_policy

    for policy in load_policy(path).versions:
        graph = lower_policy(policy)
        declared = {(source, node.id) for node in graph.order for _, source in node.inputs}
        shown = {(source, node.id) for node in graph.order for role, source in node.inputs
                 if role not in ("covered", "identity")
                 or (role, node.op) in (("covered", Op.DIFFERENCE), ("identity", Op.COVERS))}
        drawn = _drawn_edges(graph_dot(graph))
        assert drawn <= declared, drawn - declared
        assert drawn == shown
