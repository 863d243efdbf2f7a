"""The reasons an auditor signs (issue 24 items 1–6): the clause that refused a line, the
reading that decided a figure, why a line paid 0, the ceiling's bound and cut, and who put
the person in an alert's group, all written from the trace's facts.

Figures worked by hand from Benxi's notice (§(五), §(八), §(十三)) and Xinjiang's (§四).
"""

from __future__ import annotations

import pytest

from helpers import EXAMPLES, POLICIES, claim
from yibao.api import evaluate_claims, load_engine, read_claims_file
from yibao.explain.labels import EN, ZH
from yibao.explain.text import render_text

BASIC_CONDITION_QUOTE = "未按规定外出就医的救助对象，所发生的医疗费用原则上不纳入医疗救助范围"


def _explain(policy: str, claims: list, claim_id: str, lang=ZH) -> str:
    engine = load_engine(POLICIES / f"{policy}.policy")
    outcomes = {o.claim_id: o for o in evaluate_claims(engine, claims, trace=True)}
    settled = engine.claims_by_id[claim_id]
    return render_text(outcomes[claim_id], settled, engine.version_for(settled.date), lang=lang)


def _example(policy: str, claim_id: str, lang=ZH) -> str:
    return _explain(policy, read_claims_file(EXAMPLES / f"{policy}.jsonl"), claim_id, lang)


# A 低保对象 treated out of the province without referral (§(十三)): 10,000 in scope.
OUT_OF_PROVINCE = claim("oop-01", "p-9", "2023-03-01", ["低保对象"], "10000.00",
                        {"基本医保": "1000.00", "大病保险": "0.00"}, in_province=False)
# lb-01: a 低保对象 with 10,000 in scope and 1,000 paid by 基本医保.  基本救助 has no
# deductible for 低保对象 and pays 70% × 9,000 = 6,300; 倾斜救助's base is
# 10,000 − 1,000 − 6,300 = 2,700, below its 3,000 deductible: it pays 0.
LB_01 = claim("lb-01", "p-8", "2023-03-01", ["低保对象"], "10000.00",
              {"基本医保": "1000.00", "大病保险": "0.00"})


def test_a_line_refused_by_its_condition_cites_and_quotes_the_conditions_clause():
    text = _explain("benxi-2023", [OUT_OF_PROVINCE], "oop-01")
    refusal = next(line for line in text.splitlines() if line.startswith("  基本救助: 不适用"))
    assert refusal == (f"  基本救助: 不适用 —— 条件不满足: (省内就医 或 按规定转诊) "
                       f"§(十三)「{BASIC_CONDITION_QUOTE}」")
    assert "§(四)" not in refusal


def test_a_condition_that_holds_is_said_with_its_clause():
    text = _example("benxi-2023", "bx-0003")
    assert "  基本救助\n    条件满足: (省内就医 或 按规定转诊) §(十三)\n" in text
    assert "  倾斜救助\n    条件满足: (省内就医 或 按规定转诊) §(十三)\n" in text
    english = _example("benxi-2023", "bx-0003", EN)
    assert "  基本救助\n    condition met: (省内就医 or 按规定转诊) §(十三)\n" in english
    from yibao.explain.html import render_html
    from yibao.explain.markdown import render_markdown
    engine = load_engine(POLICIES / "benxi-2023.policy")
    outcomes = {o.claim_id: o for o in evaluate_claims(
        engine, read_claims_file(EXAMPLES / "benxi-2023.jsonl"), trace=True)}
    settled = engine.claims_by_id["bx-0003"]
    policy = engine.version_for(settled.date)
    markdown = render_markdown(outcomes["bx-0003"], settled, policy)
    assert "#### 倾斜救助\n\n- 条件满足: (省内就医 或 按规定转诊) §(十三)\n" in markdown
    page = render_html(outcomes["bx-0003"], settled, engine.evaluators["benxi-2023"].graph)
    assert '<h4>基本救助</h4><p class="condition">条件满足: (省内就医 或 按规定转诊) §(十三)</p>' in page


def test_the_deductible_reading_is_named_where_it_decides_the_figure():
    """bx-0003's 倾斜救助: C 11,200 → 25,000 over the 3,000 deductible at 60%: G 13,200 − 4,920
    = 8,280; read per admission it would be 60% × (13,800 − 3,000) = 6,480."""
    text = _example("benxi-2023", "bx-0003")
    assert ("G(25000.00) − G(11200.00) = 13200.00 − 4920.00 = 8280.00；"
            "解释：起付标准按年度累计计算一次（docs/specification.md §6.3、§16.1），按次计算则为 6480.00") in text
    # 基本救助 the same claim: 60% × (20,000 − 2,000) = 10,800 per admission, 12,000 once a year.
    assert "= 12000.00；解释：起付标准按年度累计计算一次（docs/specification.md §6.3、§16.1），按次计算则为 10800.00" in text
    english = _example("benxi-2023", "bx-0003", EN)
    assert ("= 8280.00; reading: the deductible is met once a year, on the cumulative base "
            "(docs/specification.md §6.3, §16.1); per admission it would be 6480.00") in english
    # The year's first claim: per admission and once a year agree, so no reading is named.
    assert "解释" not in _example("benxi-2023", "bx-0001").split("四、")[0]


def test_a_zero_below_the_deductible_says_why_and_shows_the_clamp():
    text = _explain("benxi-2023", [LB_01], "lb-01")
    assert ("G(C) = max(0, 70% × (C − 起付标准 3000.00)); G(2700.00) − G(0.00) = 0.00 − 0.00 = "
            "0.00，年度累计基数 2700.00 未达起付标准 3000.00") in text
    assert "6300.00" in text and "    倾斜救助本次应付: 0.00" in text
    english = _explain("benxi-2023", [LB_01], "lb-01", EN)
    assert "deductible not reached: the year's base 2700.00 is under 3000.00" in english


def test_the_alert_says_which_identity_put_the_person_in_its_group():
    """bx-0003: 低保边缘家庭成员 is a 医疗救助对象 in §(八)'s 因病返贫风险 group; the year's
    burden 15,280 + 11,520 = 26,800 reaches the 5,000 standard."""
    text = _example("benxi-2023", "bx-0003")
    assert ("本次负担计入; 低保边缘家庭成员属于因病返贫风险监测对象; "
            "年度累计负担 26800.00 ≥ 预警标准 5000.00，预警") in text


def test_the_ceiling_shows_its_bound_why_it_applies_and_the_cut():
    """xj-0007 (Xinjiang §四): 特困人员 is a key target; 95% × 12,000 = 11,400; the lines
    paid 8,000 + 1,000 + 3,000 = 12,000: 600 is cut from 医疗救助 (3,000 → 2,400)."""
    text = _example("xinjiang-2023", "xj-0007")
    assert ("特困人员属于比例上限适用对象；上限 95% × 政策范围内费用 12000.00 = 11400.00（向下取整到分）；"
            "各项支付合计 12000.00 超过上限，共压减 600.00: 医疗救助 3000.00 → 2400.00（压减 600.00）") in text
    english = _example("xinjiang-2023", "xj-0007", EN)
    assert "= 11400.00 (rounded down to the fen); total paid 12000.00 exceeds it, 600.00 cut" in english


# 监测帮扶对象 is treated as 低保对象 (§(六)); with 因病致贫重病患者 too, take highest
# compares: 低保对象 B = 30,000 − 10,000 = 20,000, 基本救助 70% × 20,000 = 14,000, 倾斜救助
# 70% × (6,000 − 3,000) = 2,100, total 26,100; 因病致贫重病患者 50% × (20,000 − 5,000) =
# 7,500 and 50% × (12,500 − 10,000) = 1,250, total 18,750.  低保对象 wins, but the person
# holds 监测帮扶对象, not 低保对象.
JIANCE = claim("jiance", "p-7", "2023-04-01", ["监测帮扶对象", "因病致贫重病患者"], "30000.00",
               {"基本医保": "8000.00", "大病保险": "2000.00"})
SHOWN = "监测帮扶对象（参照低保对象）"


@pytest.fixture(scope="module")
def jiance():
    engine = load_engine(POLICIES / "benxi-2023.policy")
    [outcome] = evaluate_claims(engine, [JIANCE], trace=True)
    return engine, outcome


def test_a_treated_as_winner_is_shown_as_the_identity_held_in_text_and_tables(jiance):
    from yibao.explain.markdown import render_markdown
    engine, outcome = jiance
    settled = engine.claims_by_id["jiance"]
    policy = engine.version_for(settled.date)
    assert outcome.identity == "低保对象" and outcome.total_paid == 26100
    text = render_text(outcome, settled, policy)
    assert f"  适用身份: {SHOWN}\n" in text
    markdown = render_markdown(outcome, settled, policy)
    assert f"| 适用身份 | {SHOWN} |" in markdown
    assert f"| **{SHOWN}** | **26,100.00** | **适用** |" in markdown
    assert "| 因病致贫重病患者 | 18,750.00 |   |" in markdown
    english = render_text(outcome, settled, policy, lang=EN)
    assert "  Identity applied: 监测帮扶对象 (treated as 低保对象)\n" in english


def test_the_take_highest_step_names_the_identity_held(jiance):
    from yibao.compiler.lower import TAKE_HIGHEST
    from yibao.explain import trace_en, trace_zh
    _, outcome = jiance
    [step] = [s for s in outcome.trace if s.node == TAKE_HIGHEST]
    assert trace_zh.words(step).formula == (
        f"各身份计算支付: {SHOWN} 26100.00; 因病致贫重病患者 18750.00；"
        f"{SHOWN}最高，不得重复享受")
    assert trace_en.words(step).formula.startswith(
        "totals by identity: 监测帮扶对象 (treated as 低保对象) 26100.00; "
        "因病致贫重病患者 18750.00; 监测帮扶对象 (treated as 低保对象) is highest")
    # The step's value, too, in both languages (one decision, explain/trace_plan.py): the
    # English said 低保对象 while its formula and the result said the identity held.
    assert trace_zh.words(step).value == SHOWN
    assert trace_en.words(step).value == "监测帮扶对象 (treated as 低保对象)"


def test_a_treated_as_winner_is_shown_on_the_graph_and_in_the_explain_json(jiance, tmp_path):
    import json

    from yibao.cli.main import main
    from yibao.compiler.lower import CANDIDATE, TAKE_HIGHEST
    from yibao.explain.overlay import overlay_from_result
    _, outcome = jiance
    overlay = overlay_from_result(outcome)
    assert overlay.winner == "低保对象" and overlay.winner_shown == SHOWN
    assert overlay.nodes[TAKE_HIGHEST].value == SHOWN
    assert overlay.nodes[CANDIDATE].value == SHOWN
    claims = tmp_path / "claims.jsonl"
    claims.write_text(json.dumps(JIANCE, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "jiance.json"
    main(["explain", str(POLICIES / "benxi-2023.policy"), str(claims), "--claim", "jiance",
          "--format", "json", "-o", str(out)])
    data = json.loads(out.read_text(encoding="utf-8"))
    assert (data["identity"], data["identity_shown"]) == ("低保对象", SHOWN)


# ---- the graph overlay (issue 24 items 6 and 9) -------------------------------------------

def _drawn(policy: str, claims: list, claim_id: str) -> dict[str, dict]:
    import xml.etree.ElementTree as ET

    from yibao.explain.graph import graph_dot, inline_svg
    from yibao.explain.overlay import overlay_from_result
    engine = load_engine(POLICIES / f"{policy}.policy")
    [outcome] = [o for o in evaluate_claims(engine, claims, trace=True) if o.claim_id == claim_id]
    svg = inline_svg(graph_dot(engine.evaluators[policy].graph, overlay_from_result(outcome)))
    namespace = "{http://www.w3.org/2000/svg}"
    found = {}
    for group in ET.fromstring(svg).iter(f"{namespace}g"):
        title = group.find(f"{namespace}title")
        if title is not None and "class" in group.attrib:
            found[title.text] = {"class": group.attrib["class"].split(),
                                 "text": " ".join(t.text or "" for t in group.iter(f"{namespace}text"))}
    return found


def test_the_overlay_marks_a_zero_under_the_deductible_apart_from_a_payment():
    """lb-01: 倾斜救助 pays 0 (2,700 under the 3,000 deductible), 基本救助 pays 6,300 with its
    20,000 cap and nothing paid before this year."""
    drawn = _drawn("benxi-2023", [LB_01], "lb-01")
    tilt, basic = drawn["倾斜救助.payout"], drawn["基本救助.payout"]
    assert "zero" in tilt["class"] and "taken" in tilt["class"]
    assert "未达起付标准 3000.00" in tilt["text"] and "= 0.00" in tilt["text"]
    assert "zero" not in basic["class"]
    assert "= 6,300.00" in basic["text"] and "年度已付 0.00" in basic["text"]
    assert "未达起付标准 3000.00" in drawn["倾斜救助.slice"]["text"]
    # §(八): the alert node carries the year's burden, 10,000 − 1,000 − 6,300 = 2,700.
    assert "年度累计负担 2700.00" in drawn["因病返贫风险.alert"]["text"]


def test_the_overlay_shows_the_cap_reached_with_what_was_paid_before():
    """bx-0003: 基本救助's 20,000 cap, 13,800 paid this year before: 6,200, cap reached."""
    drawn = _drawn("benxi-2023", read_claims_file(EXAMPLES / "benxi-2023.jsonl"), "bx-0003")
    assert "已达年度限额（年度已付 13800.00）" in drawn["基本救助.payout"]["text"]
    assert "= 6,200.00" in drawn["基本救助.payout"]["text"]


def test_the_overlay_shows_the_ceiling_cut_and_the_total_drawn_from_the_cut_figures():
    """xj-0007: 600 cut from 医疗救助 by the 95% ceiling; 各项支付合计 11,400 is drawn from
    医疗救助's figure after the ceiling (its own node, 3,000 − 600), not from its payout
    before it."""
    drawn = _drawn("xinjiang-2023", read_claims_file(EXAMPLES / "xinjiang-2023.jsonl"), "xj-0007")
    assert "比例上限压减 600.00" in drawn["ratio_ceiling"]["text"]
    assert "比例上限压减 600.00" in drawn["医疗救助.after_ceiling"]["text"]
    assert "2,400.00" in drawn["医疗救助.after_ceiling"]["text"]
    assert "医疗救助.after_ceiling->total_paid" in drawn
    assert "医疗救助.payout->total_paid" not in drawn
    assert "= 11,400.00" in drawn["total_paid"]["text"]


def test_the_batch_summary_shows_a_treated_as_winner_as_held(jiance):
    from yibao.explain.summary import render_summary
    _, outcome = jiance
    [_, row] = render_summary([outcome]).splitlines()
    assert row.split()[:2] == ["jiance", SHOWN]


def test_the_audit_record_of_a_treated_as_winner_shows_the_identity_held(tmp_path, capsys):
    # The record keeps `identity` as applied (低保对象: the tables the payout read), and
    # its view, `audit show`, names the identity the person holds, as explain does.
    import json
    import sqlite3

    from yibao.cli.main import EXIT_OK, main
    claims = tmp_path / "claims.jsonl"
    claims.write_text(json.dumps(JIANCE, ensure_ascii=False) + "\n", encoding="utf-8")
    store = str(tmp_path / "audit.db")
    assert main(["eval", str(POLICIES / "benxi-2023.policy"), str(claims),
                 "--record", store]) == EXIT_OK
    capsys.readouterr()
    assert main(["audit", "show", store, "--claim", "jiance", "--color", "never"]) == EXIT_OK
    shown = capsys.readouterr().out
    assert f"适用身份: {SHOWN}" in shown
    assert f"{SHOWN}最高，不得重复享受" in shown
    with sqlite3.connect(store) as db:
        (body,) = db.execute("SELECT body FROM records WHERE claim_id = 'jiance'").fetchone()
    assert json.loads(body)["outcome"]["identity"] == "低保对象"
