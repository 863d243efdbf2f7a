"""`yibao explain --lang en` and colour: English labels, Chinese names and quotes, ANSI on a TTY.

The English text of every example claim is snapshotted in test_markdown.py; the
Chinese default in test_benxi_snapshots.py, and it must stay byte-identical.
Figures: Benxi bx-0007 as in test_graph.py's docstring.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from helpers import EXAMPLES, POLICIES
from yibao.api import evaluate_claims, load_engine, read_claims_file
from yibao.cli.main import main
from yibao.runtime.facts import AlertFacts, DifferenceFacts, RecordedWords
from yibao.runtime.trace import Step
from yibao.explain.colour import ANSI, PLAIN, terminal_palette
from yibao.explain.labels import EN, ZH
from yibao.explain.provenance import provenance
from yibao.explain.text import render_text


@pytest.fixture(scope="module")
def benxi_examples():
    engine = load_engine(POLICIES / "benxi-2023.policy")
    outcomes = evaluate_claims(engine, read_claims_file(EXAMPLES / "benxi-2023.jsonl"), trace=True)
    return engine, {outcome.claim_id: outcome for outcome in outcomes}


@pytest.fixture(scope="module")
def explain(benxi_examples):
    engine, outcomes = benxi_examples

    def render(claim_id: str, **options) -> str:
        claim = engine.claims_by_id[claim_id]
        return render_text(outcomes[claim_id], claim, engine.version_for(claim.date), **options)
    return render


def test_bx_0007_in_english(explain):
    text = explain("bx-0007", lang=EN)
    assert text.startswith("Settlement of claim bx-0007\n")
    assert "2. Under the treatment of 低保边缘家庭成员\n" in text
    assert "    基本救助 deductible: 2,000.00\n      低保边缘家庭成员 deductible = 2000.00\n" in text
    assert ("      min(due this claim 6000.00, annual cap 20000.00 − paid this year 0.00 = "
            "20000.00) = 6000.00\n") in text
    assert ("    totals by identity: 低保边缘家庭成员 17800.00; 因病致贫重病患者 13500.00; "
            "低保边缘家庭成员 is highest; never added together\n") in text
    # Refused by its own condition: §(五) quoted (the condition's clause, not `covers`').
    assert ("  精神障碍床日定额救助: does not apply — condition not met: 严重精神障碍患者 "
            "§(五)「生活困难的严重精神障碍患者」\n") in text
    assert "  Personal burden: 7,200.00 (out-of-scope costs included)\n  Alerts: 因病返贫风险\n" in text


def test_an_old_records_words_are_shown_as_recorded_in_both_languages():
    """A step read back from a record written before the trace carried facts has its
    Chinese words only: they are shown as they are, never parsed into English."""
    recorded = Step("基本救助.base", "difference", RecordedWords("1.00", "某个旧的算式 1.00"))
    assert EN.formula(recorded) == ZH.formula(recorded) == "某个旧的算式 1.00"
    step = Step("基本救助.base", "difference",
                DifferenceFacts((("claim.in_scope_cost", Decimal("1.00")),), Decimal("1.00")))
    assert EN.label(step) == "基本救助 base" and ZH.label(step) == "基本救助计算基数"
    assert EN.formula(step) == "in-scope cost 1.00 = 1.00"
    assert ZH.formula(step) == "政策范围内费用 1.00 = 1.00"


def test_colour_only_with_an_ansi_palette(explain):
    plain = explain("bx-0007")
    coloured = explain("bx-0007", palette=ANSI)
    assert "\x1b[" not in plain
    assert "\x1b[1m一、上游结算（先保险后救助）\x1b[0m" in coloured
    assert "  基本救助: \x1b[36m6,000.00\x1b[0m" in coloured
    assert "  预警: \x1b[1;31m因病返贫风险\x1b[0m" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


class _Stream:
    def __init__(self, tty: bool):
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_palette_follows_the_terminal_and_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert terminal_palette(_Stream(True)) is ANSI
    assert terminal_palette(_Stream(False)) is PLAIN
    assert terminal_palette(_Stream(False), "always") is ANSI
    assert terminal_palette(_Stream(True), "never") is PLAIN
    monkeypatch.setenv("NO_COLOR", "1")
    assert terminal_palette(_Stream(True)) is PLAIN


def test_cli_explain_piped_is_plain_and_english_on_request(explain, benxi_examples, capsys,
                                                           monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")   # the provenance line's time
    claims = EXAMPLES / "benxi-2023.jsonl"
    argv = ["explain", str(POLICIES / "benxi-2023.policy"), str(claims), "--claim", "bx-0007"]
    made_by = provenance(benxi_examples[0].policy, claims)
    assert main(argv) == 0
    assert capsys.readouterr().out == explain("bx-0007", provenance=made_by)   # not a terminal
    assert main([*argv, "--lang", "en", "--color", "always"]) == 0
    assert capsys.readouterr().out == explain("bx-0007", lang=EN, palette=ANSI,
                                              provenance=made_by)


def test_an_alert_over_its_threshold_in_english():
    """`threshold above` (超过) words its trace as "over", not "≥" (issue 21 item 15)."""
    def alert(burden: str, fired: bool) -> Step:
        return Step("超过.alert", "alert", AlertFacts(
            "超过", "住院", True, Decimal(burden), Decimal("2000.00"), above=True,
            in_group=True, fired=fired, fired_before=False))
    assert EN.formula(alert("2000.01", True)) == (
        "this claim's burden counts; annual burden 2000.01 is above threshold 2000.00: alert")
    assert EN.formula(alert("2000.00", False)) == (
        "this claim's burden counts; annual burden 2000.00 is not above threshold 2000.00")
    assert ZH.formula(alert("2000.01", True)) == (
        "本次负担计入; 年度累计负担 2000.01 超过 预警标准 2000.00，预警")
