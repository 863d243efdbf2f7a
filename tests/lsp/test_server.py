"""`yibao lsp` end to end: a real client (pytest-lsp) over stdio, one feature a test.

Figures are Benxi 2023's (policies/notices/benxi-2023.txt §(五)): 基本救助
pays 特困人员/孤儿/低保对象 70% from the first yuan, 低保边缘家庭成员 60% above
2,000元, 因病致贫重病患者 50% above 5,000元, up to 2万元 a year; 倾斜救助 pays
低保边缘家庭成员 60% above 3,000元 with no cap.  Example claim bx-0001
(低保边缘家庭成员, in-scope burden 15,000 after 基本医保 and 大病保险) gets
基本救助 60% × (15,000 − 2,000) = 7,800.00.
"""

from __future__ import annotations

import textwrap

import pytest
from lsprotocol import types

from helpers import POLICIES
from yibao.dsl.format import format_policy

pytestmark = pytest.mark.asyncio(loop_scope="module")   # the module's one server

BENXI_PATH = POLICIES / "benxi-2023.policy"
BENXI = BENXI_PATH.read_text(encoding="utf-8")
LINES = BENXI.split("\n")


def row_of(needle: str, text: str = BENXI) -> int:
    """The 0-based line of ``needle``'s first occurrence."""
    return text[: text.index(needle)].count("\n")


def doc(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


# ---- diagnostics ---------------------------------------------------------------------------


async def test_a_shipped_policy_opens_with_only_its_information_finding(editor):
    uri, found = await editor.open(BENXI_PATH)
    assert [(d.code, d.severity, d.source) for d in found] == [
        ("L301", types.DiagnosticSeverity.Information, "yibao")]
    assert "精神障碍床日定额救助" in found[0].message


async def test_a_typo_in_an_identity_name_after_an_edit_is_diagnosed_and_fixed(editor):
    uri, _ = await editor.open(BENXI_PATH)
    typo = BENXI.replace("        低保边缘家庭成员: 2000", "        低保边缘家庭成元: 2000")
    found = await editor.replace(uri, typo, 2)
    [error] = [d for d in found if d.severity == types.DiagnosticSeverity.Error]
    assert error.code == "S203"
    row = row_of("低保边缘家庭成元", typo)
    # Eight spaces, then eight Chinese characters: one UTF-16 unit each.
    assert error.range == types.Range(start=types.Position(line=row, character=8),
                                      end=types.Position(line=row, character=16))
    hints = [i.message for i in error.related_information]
    assert "hint: did you mean '低保边缘家庭成员'?" in hints
    # The code action puts the name right, and the diagnostics go.
    actions = await editor.client.text_document_code_action_async(types.CodeActionParams(
        text_document=doc(uri), range=error.range,
        context=types.CodeActionContext(diagnostics=[error])))
    [fix] = [a for a in actions if a.title == "Change to 低保边缘家庭成员"]
    [edit] = fix.edit.changes[uri]
    assert edit.range == error.range and edit.new_text == "低保边缘家庭成员"
    found = await editor.replace(uri, BENXI, 3)
    assert [d.code for d in found] == ["L301"]


async def test_a_mistyped_citation_is_fixed_without_touching_its_quote(editor):
    """L111: §(五五) is no declared clause; the fix replaces the § token only."""
    old = 'cap 2万 §(五) "自2023年1月起'
    uri, found = await editor.open(BENXI_PATH, BENXI.replace(old, old.replace("§(五)", "§(五五)")))
    [finding] = [d for d in found if d.code == "L111"]
    actions = await editor.client.text_document_code_action_async(types.CodeActionParams(
        text_document=doc(uri), range=finding.range,
        context=types.CodeActionContext(diagnostics=[finding])))
    [fix] = [a for a in actions if a.title == "Change to §(五)"]
    [edit] = fix.edit.changes[uri]
    row = row_of(old)
    column = LINES[row].index("§(五)")
    assert edit.range == types.Range(start=types.Position(line=row, character=column),
                                     end=types.Position(line=row, character=column + 5))
    assert edit.new_text == "§(五)"


NON_BMP = textwrap.dedent("""\
    policy t-2023 {
        effective 2023-01-01
    }
    clause §(一) "救助对象"
    identity 𠀋低保 §(一)
    identity 低保边缘 §(一)
    line 基本医保 upstream §(一)
    line 基本救助 {
        covers 住院 §(一)
        base remaining §(一)
        deductible 0 §(一)
        rate §(一) {
            𠀋低保, 𠀋低宝: 70%
            低保边缘: 60%
        }
        cap 2万 §(一)
    }
""")


async def test_ranges_count_utf16_units_outside_the_bmp(editor, tmp_path):
    """𠀋 (U+2000B) is one code point but two UTF-16 units: LSP counts units."""
    uri, found = await editor.open(tmp_path / "t-2023.policy", NON_BMP)
    [error] = [d for d in found if d.code == "S203"]
    row = row_of("𠀋低宝", NON_BMP)
    # `        𠀋低保, ` is 8 + (2 + 1 + 1) + 2 = 14 units; 𠀋低宝 is 4 units.
    assert error.range == types.Range(start=types.Position(line=row, character=14),
                                      end=types.Position(line=row, character=18))
    # The semantic tokens of that line use the same units.
    tokens = await editor.client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=doc(uri)))
    decoded = _decode(tokens.data)
    assert (row, 8, 4, "type") in [(l, c, n, t) for l, c, n, t, _ in decoded]
    assert (row, 20, 3, "number") in [(l, c, n, t) for l, c, n, t, _ in decoded]   # 70%


def _decode(data: list[int]):
    from yibao.lsp.semantic import TOKEN_TYPES

    out, line, start = [], 0, 0
    for index in range(0, len(data), 5):
        delta_line, delta_start, length, kind, modifiers = data[index:index + 5]
        line += delta_line
        start = start + delta_start if delta_line == 0 else delta_start
        out.append((line, start, length, TOKEN_TYPES[kind], modifiers))
    return out


async def test_a_missing_extends_target_is_one_diagnostic_and_the_file_is_still_served(editor):
    path = POLICIES / "lhasa-2020.policy"
    text = path.read_text(encoding="utf-8")
    uri, found = await editor.open(path)
    [missing] = [d for d in found if d.code == "S230"]
    row = row_of("extends xizang-2019", text)
    start = LINES_OF(text)[row].index("xizang-2019")
    assert missing.range == types.Range(start=types.Position(line=row, character=start),
                                        end=types.Position(line=row, character=start + 11))
    assert missing.severity == types.DiagnosticSeverity.Warning
    assert [d for d in found if d.severity == types.DiagnosticSeverity.Error] == []
    hover = await editor.client.text_document_hover_async(types.HoverParams(
        text_document=doc(uri), position=editor.position_of(text, "refer 一事一议", 7)))
    assert hover is None or isinstance(hover.contents, types.MarkupContent)
    symbols = await editor.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc(uri)))
    assert "amend 基本医保" in [s.name for s in symbols]


def LINES_OF(text: str) -> list[str]:
    return text.split("\n")


async def test_a_half_typed_file_gets_its_syntax_error_and_every_request_an_answer(editor):
    half = BENXI[: BENXI.index("line 倾斜救助 {") + len("line 倾斜救助 {\n    rate §(五")]
    uri, found = await editor.open(BENXI_PATH, half)
    assert [d.code for d in found] == ["P105"]
    position = types.Position(line=row_of("line 基本救助"), character=6)
    hover = await editor.client.text_document_hover_async(
        types.HoverParams(text_document=doc(uri), position=position))
    assert hover is None
    items = await editor.client.text_document_completion_async(
        types.CompletionParams(text_document=doc(uri), position=position))
    assert "identity" in [i.label for i in items.items]
    edits = await editor.client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=doc(uri), options=types.FormattingOptions(tab_size=4, insert_spaces=True)))
    assert not edits   # nothing to lay out until it parses


# ---- hover ---------------------------------------------------------------------------------


async def _hover(editor, uri, text, needle, offset=1) -> str:
    result = await editor.client.text_document_hover_async(types.HoverParams(
        text_document=doc(uri), position=editor.position_of(text, needle, offset)))
    assert result is not None, needle
    return result.contents.value


async def test_hover_on_an_identity_shows_what_each_line_pays_it_and_its_chain(editor):
    uri, _ = await editor.open(BENXI_PATH)
    words = await _hover(editor, uri, BENXI, "identity 其他监测范围内人口", 10)
    assert "treated as: 其他监测范围内人口 → 低保边缘家庭成员" in words
    assert "**基本救助**: deductible 2,000元 §(五); rate 60% §(五); cap 20,000元 §(五)" in words
    assert "**倾斜救助**: deductible 3,000元 §(五); rate 60% §(五); cap 不设 (none) §(五)" in words


async def test_hover_on_a_value_shows_the_figure_of_each_identity(editor):
    uri, _ = await editor.open(BENXI_PATH)
    needle = "        因病致贫重病患者: 10000"
    words = await _hover(editor, uri, BENXI, needle, len(needle) - 2)
    assert words.startswith("倾斜救助.起付标准")
    assert "- 因病致贫重病患者: 10,000元 §(五)" in words
    assert "- 低保对象: 3,000元 §(五)" in words and "- 孤儿: 0元 §(五)" in words


async def test_hover_on_an_inherited_value_names_the_version(editor):
    path = POLICIES / "jiamusi-2022.policy"
    text = path.read_text(encoding="utf-8")
    uri, _ = await editor.open(path)
    words = await _hover(editor, uri, text, "amend 大病保险", 7)
    # jiamusi-2022 restates the rate and cap; the deductibles (1.2万, 6000) are inherited.
    assert "- 脱贫人口: 6,000元 §二.1 (inherited from jiamusi-2021)" in words
    assert "- others: 12,000元 §二.1 (inherited from jiamusi-2021)" in words


async def test_hover_on_a_citation_shows_the_clause_title_and_the_notice_words(editor):
    uri, _ = await editor.open(BENXI_PATH)
    words = await _hover(editor, uri, BENXI, "threshold 5000 §(八)", 16)
    assert words.startswith("§(八) 强化高额医疗费用支出预警监测")
    assert "> (八)强化高额医疗费用支出预警监测。" in words
    assert "因病返贫风险监测对象的预警标准为5000元" in words


async def test_hover_on_a_line_shows_its_over_protection_summary(editor):
    uri, _ = await editor.open(BENXI_PATH)
    words = await _hover(editor, uri, BENXI, "line 基本救助", 6)
    assert words.startswith("line **基本救助**")
    # yibao lint --shares: 低保边缘家庭成员 reach 77.55% at a burden of 35,333.33.
    assert "低保边缘家庭成员 (and 其他监测范围内人口, treated as it): assistance share 77.55%" in words


async def test_hover_on_a_field_shows_its_display_name_and_quote(editor):
    uri, _ = await editor.open(BENXI_PATH)
    words = await _hover(editor, uri, BENXI, "    when in_province or referred", 10)
    # Benxi §(十三): the field the views show as 省内就医, with the words it stands on.
    assert words == ("field **in_province** 「省内就医」: bool, default True §(十三)"
                     "「按规定外出就医的救助对象，执行我市医疗保障和医疗救助政策」")


# ---- definition and references ----------------------------------------------------------


async def test_definition_of_an_identity_a_clause_and_a_field(editor):
    uri, _ = await editor.open(BENXI_PATH)
    for needle, offset, target in (
            ("        低保边缘家庭成员: 2000", 9, "identity 低保边缘家庭成员"),
            ("cap 2万 §(五)", 8, "clause §(五)"),
            ("when mental_disorder", 6, "field mental_disorder"),
            ("group except 因病返贫风险", 14, "alert 因病返贫风险")):
        [location] = await editor.client.text_document_definition_async(types.DefinitionParams(
            text_document=doc(uri), position=editor.position_of(BENXI, needle, offset)))
        assert location.uri == uri
        assert location.range.start.line == row_of(target), needle


async def test_references_of_an_identity(editor):
    uri, _ = await editor.open(BENXI_PATH)
    found = await editor.client.text_document_references_async(types.ReferenceParams(
        text_document=doc(uri), position=editor.position_of(BENXI, "identity 低保边缘家庭成员", 10),
        context=types.ReferenceContext(include_declaration=True)))
    rows = sorted(l.range.start.line for l in found)
    # Declared, treated-as target, two 基本救助 tables, three 倾斜救助 tables, the alert
    # group and the subsidy: names only, never the words inside quotes.
    assert rows == sorted({row for row, line in enumerate(LINES)
                           if "低保边缘家庭成员" in line.split('"')[0] + line.split('"')[-1]
                           or ("低保边缘家庭成员" in line and line.strip().startswith(
                               ("identity 其他", "特困人员, 孤儿, 低保对象, 低保边缘", "group")))})
    assert len(rows) == 9


async def test_definition_across_extends(editor, tmp_path):
    base, revision = _amendment(tmp_path)
    text = revision.read_text(encoding="utf-8")
    uri, _ = await editor.open(revision)
    [line] = await editor.client.text_document_definition_async(types.DefinitionParams(
        text_document=doc(uri), position=editor.position_of(text, "amend 大病保险", 7)))
    assert line.uri == editor.uri_of(base)
    assert line.range.start.line == row_of("line 大病保险", base.read_text(encoding="utf-8"))
    [target] = await editor.client.text_document_definition_async(types.DefinitionParams(
        text_document=doc(uri), position=editor.position_of(text, "extends base-2022", 9)))
    assert target.uri == editor.uri_of(base)


def _amendment(folder):
    base = folder / "base-2022.policy"
    base.write_text(textwrap.dedent("""\
        policy base-2022 {
            effective 2022-01-01
        }
        clause §(一) "救助对象"
        identity 低保对象 §(一)
        identity 特困人员 §(一)
        line 基本医保 upstream §(一)
        line 大病保险 {
            covers 住院 §(一)
            deductible 1万 §(一)
            rate §(一) {
                低保对象: 70%
                others: 60%
            }
            cap 30万 §(一)
        }
    """), encoding="utf-8")
    revision = folder / "rev-2023.policy"
    revision.write_text(textwrap.dedent("""\
        policy rev-2023 extends base-2022 {
            effective 2023-01-01
        }
        amend 大病保险 {
            rate §(一) {
                低保对象: plus 5%
                特困人员: plus 10%
            }
            deductible §(一) {
                低保对象: times 50%
            }
        }
    """), encoding="utf-8")
    return base, revision


# ---- completion ------------------------------------------------------------------------------


async def _labels(editor, uri, text, needle, offset) -> list[str]:
    result = await editor.client.text_document_completion_async(types.CompletionParams(
        text_document=doc(uri), position=editor.position_of(text, needle, offset)))
    return [item.label for item in result.items]


async def _details(editor, uri, text, needle, offset) -> dict[str, str]:
    result = await editor.client.text_document_completion_async(types.CompletionParams(
        text_document=doc(uri), position=editor.position_of(text, needle, offset)))
    return {item.label: item.detail for item in result.items}


async def test_completion_of_visits_identities_fields_and_clauses(editor):
    uri, _ = await editor.open(BENXI_PATH)
    needle = "    covers 住院, 门诊慢特病 §(四)"
    assert await _labels(editor, uri, BENXI, needle, len("    covers ")) == [
        "住院", "门诊慢特病", "高值药品", "普通门诊"]
    identities = await _labels(editor, uri, BENXI, "identity 返贫致贫人口 treated as 低保对象",
                               len("identity 返贫致贫人口 treated as "))
    assert identities[:3] == ["特困人员", "孤儿", "低保对象"]
    fields = await _labels(editor, uri, BENXI, "    when mental_disorder", len("    when "))
    assert {"in_province", "referred", "mental_disorder", "bed_days"} <= set(fields)
    details = await _details(editor, uri, BENXI, "    when mental_disorder", len("    when "))
    assert details["referred"] == "claim field 按规定转诊"   # picked by the notice's words
    assert details["in_scope_cost"] == "claim field"          # every claim's: no display name
    clauses = await _labels(editor, uri, BENXI, "cap 2万 §(五)", len("cap 2万 §"))
    # Declared clauses first, then the notice's headings: (九) is in the notice only.
    assert clauses[:2] == ["§(一)", "§(二)"]
    assert "§(九)" in clauses and "§五" in clauses
    keywords = await _labels(editor, uri, BENXI, "take highest", 0)
    assert "identity" in keywords and "line" in keywords


# ---- formatting and code actions ----------------------------------------------------------


async def test_formatting_is_yibao_fmt(editor):
    messy = BENXI.replace("    cap 2万 §(五)", "cap    2万   §(五)").replace(
        "        低保边缘家庭成员: 60%\n        因病致贫重病患者: 50%\n    }\n    cap",
        "  低保边缘家庭成员:60%\n        因病致贫重病患者: 50%\n    }\n    cap")
    assert messy != BENXI
    uri, _ = await editor.open(BENXI_PATH, messy)
    [edit] = await editor.client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=doc(uri), options=types.FormattingOptions(tab_size=4, insert_spaces=True)))
    assert edit.new_text == format_policy(messy) == BENXI
    assert edit.range.start == types.Position(line=0, character=0)


async def test_a_finding_can_be_suppressed_with_a_reason(editor):
    uri, [info] = await editor.open(BENXI_PATH)
    actions = await editor.client.text_document_code_action_async(types.CodeActionParams(
        text_document=doc(uri), range=info.range,
        context=types.CodeActionContext(diagnostics=[info])))
    [suppress] = [a for a in actions if a.title.startswith("Suppress L301")]
    [edit] = suppress.edit.changes[uri]
    row = info.range.start.line
    assert edit.range.start == types.Position(line=row, character=0)
    assert edit.new_text == "    # yibao: disable=L301 §(五): why the notice wants this\n"
    lines = BENXI.split("\n")
    suppressed = "\n".join(lines[:row] + [edit.new_text.rstrip("\n")] + lines[row:])
    assert await editor.replace(uri, suppressed, 2) == []


# ---- semantic tokens, inlay hints, outline --------------------------------------------------


async def test_semantic_tokens_colour_by_meaning(editor):
    uri, _ = await editor.open(BENXI_PATH)
    tokens = await editor.client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=doc(uri)))
    decoded = {(l, c): (n, t, m) for l, c, n, t, m in _decode(tokens.data)}
    row = row_of("identity 低保对象 §(一)")
    assert decoded[(row, 9)] == (4, "type", 1)           # declared identity
    assert decoded[(row, 14)] == (4, "macro", 0)          # the citation §(一)
    row = row_of("    cap 2万 §(五)")
    assert decoded[(row, 8)] == (2, "number", 0)          # 2万
    row = row_of("line 基本救助 {")
    assert decoded[(row, 5)] == (4, "function", 1)
    row = row_of("    covers 住院, 门诊慢特病 §(四)")
    assert decoded[(row, 11)] == (2, "enumMember", 0)


async def test_inlay_hints_resolve_relative_amendments_and_list_inherited_values(editor, tmp_path):
    _, revision = _amendment(tmp_path)
    text = revision.read_text(encoding="utf-8")
    uri, _ = await editor.open(revision)
    hints = await editor.client.text_document_inlay_hint_async(types.InlayHintParams(
        text_document=doc(uri), range=types.Range(start=types.Position(line=0, character=0),
                                                  end=types.Position(line=99, character=0))))
    by_row = {h.position.line: h.label for h in hints}
    # 70% + 5 points; others' 60% is not 特困人员's base: 60% + 10 points; 1万 × 50%.
    assert by_row[row_of("低保对象: plus 5%", text)] == "= 75%"
    assert by_row[row_of("特困人员: plus 10%", text)] == "= 70%"
    assert by_row[row_of("低保对象: times 50%", text)] == "= 5,000元"
    assert by_row[row_of("amend 大病保险", text)].startswith("inherits 起付标准 10,000元 from base-2022")
    assert by_row[0] == "unchanged: 基本医保"


async def test_document_symbols_and_folding_ranges(editor):
    uri, _ = await editor.open(BENXI_PATH)
    symbols = await editor.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc(uri)))
    names = [s.name for s in symbols]
    assert names[0] == "policy benxi-2023"
    assert "§(五) 合理确定医疗救助待遇水平" in names
    assert {"低保对象", "基本救助", "倾斜救助", "因病返贫风险", "subsidy"} <= set(names)
    line = next(s for s in symbols if s.name == "基本救助")
    assert [c.name for c in line.children] == ["covers", "when", "base", "deductible", "rate",
                                               "cap"]
    folds = await editor.client.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=doc(uri)))
    spans = {(f.start_line, f.end_line) for f in folds}
    start = row_of("line 基本救助 {")
    end = start + LINES[start:].index("}")
    assert (start, end) in spans
    assert (0, 5) in spans    # the header comment


# ---- code lens: settle the example claims ----------------------------------------------------


async def test_code_lens_settles_the_example_claims_of_a_line(editor):
    uri, _ = await editor.open(BENXI_PATH)
    lenses = await editor.client.text_document_code_lens_async(
        types.CodeLensParams(text_document=doc(uri)))
    titles = {l.range.start.line: l.command.title for l in lenses}
    assert titles[row_of("policy benxi-2023")] == "▶ settle the example claims"
    basic = next(l for l in lenses if l.command.title.endswith(": 基本救助"))
    assert basic.range.start.line == row_of("line 基本救助 {")
    result = await editor.client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=basic.command.command, arguments=basic.command.arguments))
    payouts = {c["claim_id"]: c.get("payout") or c.get("error") for c in result["claims"]}
    assert payouts["bx-0001"] == "7,800.00" and payouts["bx-0013"] == "C307"
    assert result["failed"] == 0 and all(case["passed"] for case in result["cases"])


async def test_the_header_lens_settles_each_claims_total(editor):
    """bx-0001: 基本医保 and 大病保险 paid upstream (20,000 of its 35,000 in-scope cost)
    plus 基本救助 7,800 and 倾斜救助 60% × (7,200 − 3,000) = 2,520: 30,320.00 in all."""
    uri, _ = await editor.open(BENXI_PATH)
    result = await editor.client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="yibao.settleExamples", arguments=[uri, None]))
    totals = {c["claim_id"]: c.get("payout") for c in result["claims"]}
    assert totals["bx-0001"] == "30,320.00"
    assert result["text"].startswith("benxi-2023: total paid")


async def test_code_lens_marks_the_cases_an_edit_breaks(editor):
    """With 低保边缘家庭成员's 基本救助 rate edited to 65%, the worked example's
    claim a (B 15,000) would get 65% × 13,000 = 8,450, not the notice's 7,800."""
    edited = BENXI.replace("        低保边缘家庭成员: 60%\n        因病致贫重病患者: 50%\n    }\n    cap 2万",
                           "        低保边缘家庭成员: 65%\n        因病致贫重病患者: 50%\n    }\n    cap 2万")
    uri, _ = await editor.open(BENXI_PATH, edited)
    result = await editor.client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="yibao.settleExamples", arguments=[uri, "基本救助"]))
    assert {c["claim_id"]: c.get("payout") for c in result["claims"]}["bx-0001"] == "8,450.00"
    failing = [case for case in result["cases"] if not case["passed"]]
    assert result["failed"] == len(failing) > 0
    assert any("a 基本救助: expected 7,800.00, got 8,450.00" in m
               for case in failing for m in case["mismatches"])
    assert "FAIL" in result["text"]
