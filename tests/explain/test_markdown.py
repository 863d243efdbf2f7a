"""Snapshots of every example claim's Markdown explanation (for a case file) and English text.

Each example file policies/examples/NAME.jsonl is settled as one batch under
policies/NAME.policy, as `yibao explain` does; every settled claim has a snapshot
of each, read before it was accepted.  The figures asserted below are worked out by hand in
tests/explain/test_graph.py's docstring (Benxi bx-0007, §(五), §(六), §(八)).
"""

from __future__ import annotations

import re

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from helpers import EXAMPLES, POLICIES
from yibao.api import evaluate_claims, load_engine, read_claims_file
from yibao.cli.main import main
from yibao.runtime.claims import ClaimError
from yibao.explain.labels import EN
from yibao.explain.markdown import render_markdown
from yibao.explain.text import render_text


CJK = re.compile(r"[\u3400-\u9fff]")
VISITS_AND_SCHEMES = ("住院", "门诊慢特病", "高值药品", "普通门诊", "居民医保", "职工医保")


class MarkdownSnapshot(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "md"


class TextSnapshot(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "txt"


def settled_examples() -> dict[str, tuple]:
    """(engine, outcome) of every settled claim of every example file, by claim id."""
    found = {}
    for claims_file in sorted(EXAMPLES.glob("*.jsonl")):
        engine = load_engine(POLICIES / f"{claims_file.stem}.policy")
        for outcome in evaluate_claims(engine, read_claims_file(claims_file), trace=True):
            if not isinstance(outcome, ClaimError):
                found[outcome.claim_id] = (engine, outcome)
    return found


EXAMPLE_CLAIMS = settled_examples()


def explain_markdown(claim_id: str, render=render_markdown, **options) -> str:
    engine, outcome = EXAMPLE_CLAIMS[claim_id]
    claim = engine.claims_by_id[claim_id]
    return render(outcome, claim, engine.version_for(claim.date), **options)


def test_every_example_file_has_claims_here():
    prefixes = {claim_id.split("-")[0] for claim_id in EXAMPLE_CLAIMS}
    assert len(prefixes) == len(list(EXAMPLES.glob("*.jsonl")))
    assert "bx-0007" in EXAMPLE_CLAIMS and "bx-0013" not in EXAMPLE_CLAIMS  # C307, not settled


@pytest.mark.parametrize("claim_id", sorted(EXAMPLE_CLAIMS))
def test_markdown_explanation(snapshot, claim_id):
    assert explain_markdown(claim_id) == snapshot(extension_class=MarkdownSnapshot)


@pytest.mark.parametrize("claim_id", sorted(EXAMPLE_CLAIMS))
def test_english_text(snapshot, claim_id):
    assert explain_markdown(claim_id, render_text, lang=EN) == snapshot(extension_class=TextSnapshot)


@pytest.mark.parametrize("claim_id", sorted(EXAMPLE_CLAIMS))
def test_english_leaves_only_names_and_quotes_in_chinese(claim_id):
    """Every formula of the trace is written in English from its facts (explain/trace_en.py)."""
    engine, _ = EXAMPLE_CLAIMS[claim_id]
    claim = engine.claims_by_id[claim_id]
    policy = engine.version_for(claim.date)
    names = ({i.name for i in policy.identities} | {line.name for line in policy.lines}
             | {a.name for a in policy.alerts} | {r.name for r in policy.referrals}
             | set(VISITS_AND_SCHEMES) | set(claim.identities)
             # fields by their display names, the notice's words (issue 24 item 7)
             | {f.display_name for f in policy.fields if f.display_name})
    text = explain_markdown(claim_id, render_text, lang=EN, quotes=False)
    for line in text.splitlines()[2:]:          # the title and the policy's own title
        rest = re.sub(r"§\S+", "", line)
        for name in sorted(names, key=len, reverse=True):
            rest = rest.replace(name, "")
        assert not CJK.search(rest), line


def test_bx_0007_tables_show_result_candidates_year_to_date_and_alerts():
    text = explain_markdown("bx-0007")
    assert "| **支付合计** | **17,800.00** |" in text
    assert "| 个人负担 | 7,200.00（含政策范围外费用） |" in text
    # Take highest (§(六)): the 低保边缘家庭成员 total 17,800 beats 因病致贫重病患者's 13,500.
    assert "| **低保边缘家庭成员** | **17,800.00** | **适用** |" in text
    assert "| 因病致贫重病患者 | 13,500.00 |   |" in text
    # Year to date: first claim of p-05 in 2023; 倾斜救助 has no cap for this identity.
    assert "| 基本救助 | 0.00 | 12,000.00 | 0.00 | 20,000.00 | 6,000.00 |" in text
    assert "| 倾斜救助 | 0.00 | 6,000.00 | 0.00 | 不设 | 1,800.00 |" in text
    # §(八): burden 7,200 ≥ 5,000 for the 因病返贫风险 group, which 低保边缘家庭成员 puts
    # the person in (因病致贫重病患者 is left out of it).
    assert ("| **因病返贫风险预警** | **7,200.00** | **5,000.00** | **预警** | **本次负担计入; "
            "低保边缘家庭成员属于因病返贫风险监测对象; 年度累计负担 7200.00 ≥ 预警标准 5000.00，预警** |") in text
    # The 因病致贫风险 group is everyone outside the 因病返贫风险 group (§(八)).
    assert "| 未预警 | 本次负担计入; 不属于本预警监测对象 |" in text
    assert "### 三、按因病致贫重病患者待遇计算（未采用）" in text


def test_year_to_date_of_a_later_claim_starts_from_the_earlier_ones():
    """bx-0003 (p-01's third claim): 基本救助 C 25,000 → 45,000, paid 13,800 of 20,000: 6,200."""
    assert "| 基本救助 | 25,000.00 | 45,000.00 | 13,800.00 | 20,000.00 | 6,200.00 |" in (
        explain_markdown("bx-0003"))


def test_markdown_in_english_keeps_identities_and_quotes_in_chinese():
    text = explain_markdown("bx-0007", lang=EN)
    assert text.startswith("# Settlement of claim bx-0007\n")
    assert "| **Total paid** | **17,800.00** |" in text
    assert "§(六)「具有多种身份的人员，执行可享受的最高医疗救助待遇，不得重复享受」" in text
    assert "### 3. Under the treatment of 因病致贫重病患者 (not applied)" in text


def test_cli_explain_markdown_to_a_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    out = tmp_path / "bx-0007.md"
    status = main(["explain", str(POLICIES / "benxi-2023.policy"),
                   str(EXAMPLES / "benxi-2023.jsonl"), "--claim", "bx-0007",
                   "--format", "markdown", "-o", str(out)])
    assert status == 0
    assert capsys.readouterr().out == ""
    # The library's Markdown, then what made it (tests/explain/test_provenance.py).
    written = out.read_text(encoding="utf-8")
    assert written.startswith(explain_markdown("bx-0007"))
    assert written[len(explain_markdown("bx-0007")):].startswith("\n*由 yibao ")
    assert written.endswith(" · 时间 2023-11-14T22:13:20Z*\n")
