"""The meeting view of a policy (`yibao graph --summary`): one node per line of defence.

The full evaluation graph (Benxi: 42 nodes, 67 edges) is for reviewers at a desk;
on a projector it cannot be read, and its clause words are only tooltips, lost in
PNG, PDF and print (issue 24 item 10).  This view draws a handful of nodes:

- each line of defence as one table, identity × {起付标准, 支付比例 (or 定额), 年度限额},
  identities with the same three values on one row, as the notice lists them;
  what the line reads (visits, condition, base) printed in it as labels, not as
  edges from input nodes; and the words of the clauses it applies, printed;
- the identities treated as others (参照执行), take highest, the ceiling, each
  alert and referral, each one node with its clause's words;
- edges only for the order of settlement (先保险后救助).

A cap the policy leaves out (``cap none``) whose clause says something else
than "no cap" is shown in the clause's words: Benxi's 精神障碍床日定额救助 counts
toward the annual limit (§(五)), which 不设 would contradict.

Reads the policy only; never evaluates.
"""

from __future__ import annotations

from html import escape

import graphviz

from yibao.core.span import display_width
from yibao.compiler.conditions import condition_tree
from yibao.dsl.model import ByIdentity, LineDef, Policy, Rule
from yibao.explain import colour
from yibao.explain.graph import provenance_title
from yibao.explain.graph_words import EVERYONE, EVERYONE_ELSE, parameter_words
from yibao.explain.provenance import Provenance
from yibao.explain.trace_zh import condition

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_WRAP = 68          # display cells of a quoted clause per printed line (34 Chinese characters)
_CELL_WRAP = 24     # display cells per line of a table cell (12 Chinese characters)
_NOT_SET = "—"      # the line has no such rule (no deductible, for instance)
_BORDER = "#d4d4d4"


def summary_dot(policy: Policy, provenance: Provenance | None = None) -> graphviz.Digraph:
    title = _wrap(f"{policy.policy_id} {policy.title} · 概览", 2 * _WRAP)
    dot = graphviz.Digraph(
        name=f"{policy.policy_id}-summary",
        graph_attr={"label": provenance_title(title, provenance), "labelloc": "t",
                    "fontsize": "22", "fontname": colour.CJK_FONT, "rankdir": "TB",
                    "nodesep": "0.35", "ranksep": "0.45", "bgcolor": "white",
                    "charset": "UTF-8", "newrank": "true"},
        node_attr={"fontname": colour.CJK_FONT, "shape": "plain"},
        edge_attr={"color": colour.NODE_BORDER, "arrowsize": "0.8", "penwidth": "1.4"})
    previous = None
    upstream = [line for line in policy.lines if line.upstream]
    computed = [line for line in policy.lines if not line.upstream]
    for rank_lines in (upstream, computed):
        with dot.subgraph() as rank:
            rank.attr(rank="same")
            for line in rank_lines:
                index = policy.lines.index(line)
                node = f"line{index}"
                rank.node(node, label=f"<{_line_table(policy, line, index)}>")
                if previous is not None:
                    dot.edge(previous, node)
                previous = node
    mapped = [i for i in policy.identities if i.treated_as]
    if mapped:
        rows = [_cell(f"{i.name} → {i.treated_as}", align="LEFT") for i in mapped]
        rows += _quotes({_citation(i.citation) for i in mapped if i.citation} - {None})
        dot.node("identities", label=f"<{_box('参照执行的身份', rows, colour.INPUT_FILL)}>")
        if computed:
            dot.edge("identities", f"line{policy.lines.index(computed[0])}", style="dashed",
                     color=colour.INPUT_BORDER)
    after = previous
    if policy.ceiling is not None:
        ceiling = policy.ceiling
        rows = [_cell(f"各项支付合计 ≤ {parameter_words(ceiling.rate, '支付比例')[0]} × 政策范围内费用",
                      align="LEFT"),
                _cell(f"适用: {'、'.join(ceiling.identities)} · {'、'.join(ceiling.visits)}",
                      align="LEFT"),
                _cell(f"超出部分从{'、'.join(ceiling.reduces)}压减", align="LEFT")]
        rows += _quotes([_citation(ceiling.rate.citation)])
        dot.node("ceiling", label=f"<{_box('封顶（保障水平上限）', rows, colour.NODE_FILL)}>")
        if after is not None:
            dot.edge(after, "ceiling")
        after = "ceiling"
    if policy.take_highest is not None:
        rows = [_cell("取支付合计最高的身份，不得重复享受", align="LEFT")]
        rows += _quotes([_rule_quote(policy.take_highest)])
        dot.node("take_highest", label=f"<{_box('待遇就高不就低', rows, colour.OUTPUT_FILL)}>")
        if after is not None:
            dot.edge(after, "take_highest")
        after = "take_highest"
    with dot.subgraph() as monitoring:
        monitoring.attr(rank="same")
        for index, alert in enumerate(policy.alerts):
            node = f"alert{index}"
            monitoring.node(node, label=f"<{_alert_table(alert)}>")
            if after is not None:
                dot.edge(after, node, style="dashed")
        for index, referral in enumerate(policy.referrals):
            node = f"referral{index}"
            who = "、".join(referral.identities) if referral.identities else "各救助对象"
            rows = [_cell(f"{'、'.join(referral.lines)}受年度限额截断时，转{referral.name}（{who}）",
                          align="LEFT")]
            rows += _quotes([_citation(referral.citation)])
            monitoring.node(node, label=f"<{_box(f'转办 · {referral.name}', rows, colour.OUTPUT_FILL)}>")
            if after is not None:
                dot.edge(after, node, style="dashed")
    return dot


# ---- a line of defence ------------------------------------------------------------------

def _line_table(policy: Policy, line: LineDef, index: int) -> str:
    kind = "上游结算" if line.upstream else "本政策计算"
    heading = f"{_CIRCLED[index % len(_CIRCLED)]} {line.name}（{kind}）"
    if line.upstream:
        rows = [_cell("取申报的已付金额（先保险后救助）", align="LEFT")]
        rows += _quotes([_citation(line.citation)])
        return _box(heading, rows, colour.INPUT_FILL)
    rows = [_cell(text, align="LEFT") for text in _reads(policy, line)]
    rows.append(_grid(line))
    rows += _quotes(_line_citations(line))
    return _box(heading, rows, colour.NODE_FILL)


def _reads(policy: Policy, line: LineDef) -> list[str]:
    """What the line reads, as labels (the full graph draws these as input edges);
    claim fields by their display names (省内就医 for in_province)."""
    words = []
    if line.visits:
        words.append(f"就诊: {'、'.join(line.visits)}")
    if line.condition is not None:
        words.append(f"条件: {condition(condition_tree(line.condition, policy.field_label))}")
    if line.base_terms:
        words.append(f"基数: {' + '.join(line.base_terms)}")
    else:
        words.append("基数: 政策范围内费用 − 此前各项已付（剩余负担）")
    if line.per_unit_field:
        words.append(f"按 {policy.field_label(line.per_unit_field)} 计定额")
    return words


def _grid(line: LineDef) -> str:
    """The identity × {起付标准, 支付比例, 年度限额} table, rows merged like the notice's."""
    second = "定额标准" if line.per_unit is not None else "支付比例"
    header = "".join(_cell(text, bold=True, fill="#f3f4f6") for text in
                     ("身份", "起付标准", second, "年度限额"))
    rows = [f"<TR>{header}</TR>"]
    for who, (deductible, rate, cap) in merged_rows(line):
        rows.append("<TR>" + _cell(who, align="LEFT")
                    + "".join(_cell(v, align="RIGHT") for v in (deductible, rate, cap)) + "</TR>")
    return ('<TR><TD><TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" '
            f'CELLPADDING="4" COLOR="{_BORDER}">' + "".join(rows) + "</TABLE></TD></TR>")


def merged_rows(line: LineDef) -> list[tuple[str, tuple[str, str, str]]]:
    """(identities, (起付标准, 支付比例 or 定额, 年度限额)), equal rows merged, in the order
    the tables name the identities; 其他 for a table's everyone-else value."""
    second = line.per_unit if line.per_unit is not None else line.rate
    tables = [t for t in (line.deductible, second, line.cap) if t is not None]
    named: list[str] = []
    for table in tables:
        named += [key for key in table.keys() if key is not None and key not in named]
    if not named and line.members:
        named = list(line.members)      # flat tables for the line's listed identities
    others = any(None in table.keys() and len(table.keys()) > 1 for table in tables)
    keys: list[str | None] = named + [None] if others or not named else named
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for key in keys:
        values = (_value(line.deductible, key, "起付标准"),
                  _value(second, key, "支付比例" if line.per_unit is None else "定额标准"),
                  _cap_value(line.cap, key))
        label = key if key is not None else (EVERYONE_ELSE if named else EVERYONE)
        grouped.setdefault(values, []).append(label)
    return [("、".join(who), values) for values, who in grouped.items()]


def _value(table: ByIdentity | None, key: str | None, what: str) -> str:
    if table is None:
        return _NOT_SET
    sourced = table.for_identity(key)
    if sourced is None:
        return _NOT_SET
    return "\n".join(_wrap(words, _CELL_WRAP) for words in parameter_words(sourced, what))


def _cap_value(table: ByIdentity | None, key: str | None) -> str:
    if table is None:
        return "不设"
    sourced = table.for_identity(key)
    if sourced is None:
        return _NOT_SET
    quote = sourced.citation.quote if sourced.citation is not None else None
    flat = table.keys() == (None,)
    # `cap none` for the whole line: the clause's words say what the line's cap is.
    # For Benxi's 精神障碍床日定额救助 they are 计入医疗救助年度最高支付限额, not 不设.
    if sourced.value is None and flat and quote and "不设" not in quote:
        return _wrap(quote, _CELL_WRAP)     # its § is printed with the quotes below
    return "\n".join(_wrap(words, _CELL_WRAP) for words in parameter_words(sourced, "年度限额"))


def _line_citations(line: LineDef) -> list[tuple[str, str] | None]:
    rules = [("就诊", line.visits_rule), ("条件", line.condition_rule),
             ("对象", line.members_rule), ("基数", line.base_rule)]
    found = [_rule_quote(rule, what) for what, rule in rules]
    for what, table in (("起付标准", line.deductible), ("支付比例", line.rate),
                        ("定额标准", line.per_unit), ("年度限额", line.cap)):
        if table is not None:
            citations = {_citation(s.citation) for _, s in table.items()} - {None}
            found += [(what, *c[1:]) if c else None for c in sorted(citations)]
    return found


# ---- alerts -------------------------------------------------------------------------------

def _alert_table(alert) -> str:
    group = "、".join(alert.group)
    who = f"除{group}监测对象以外的参保人" if alert.group_excludes else group
    rows = [_cell(f"监测对象: {who}", align="LEFT"),
            _cell(f"计入: {'、'.join(alert.visits)}", align="LEFT"),
            _cell("年度累计个人负担 " + ("超过" if alert.above else "达到") + " 预警标准时预警",
                  align="LEFT")]
    for scheme, sourced in alert.threshold.items():
        rows.append(_cell(f"{scheme or '各险种'}: {parameter_words(sourced)[0]} 元", align="LEFT"))
    rows += _quotes([_rule_quote(alert.group_rule, "监测对象")]
                    + [_citation(s.citation, "预警标准") for _, s in alert.threshold.items()])
    return _box(f"预警 · {alert.name}", rows, "#fef2f2")


# ---- cells --------------------------------------------------------------------------------

def _citation(citation, what: str = "") -> tuple[str, str, str] | None:
    if citation is None or not citation.quote:
        return None
    return (what, citation.clause, citation.quote)


def _rule_quote(rule: Rule | None, what: str = "") -> tuple[str, str, str] | None:
    return _citation(rule.citation, what) if rule is not None else None


def _quotes(citations) -> list[str]:
    """The clauses' words, printed (never only a tooltip), each once, wrapped."""
    rows, seen = [], set()
    for citation in citations:
        if citation is None or citation[1:] in seen:
            continue
        seen.add(citation[1:])
        what, clause, quote = citation
        text = f"{what} §{clause}「{quote}」" if what else f"§{clause}「{quote}」"
        rows.append(_cell(_wrap(text), size=10, font_colour=colour.CLAUSE, align="LEFT"))
    return rows


def _wrap(text: str, width: int = _WRAP) -> str:
    """Lines of at most ``width`` display cells (a Chinese character takes two); Latin
    words are broken at a space when there is one near the end of the line."""
    lines, line = [], ""
    for char in text:
        if display_width(line + char) > width:
            space = line.rfind(" ")
            if char != " " and space > len(line) * 2 // 3:
                lines.append(line[:space])
                line = line[space + 1:]
            else:
                lines.append(line.rstrip())
                line = ""
        if char != " " or line:
            line += char
    return "\n".join(lines + [line.strip()] if line.strip() else lines)


def _cell(text: str, *, align: str = "CENTER", bold: bool = False, size: int = 12,
          font_colour: str | None = None, fill: str | None = None) -> str:
    lines = "<BR/>".join(escape(part, quote=False) for part in text.split("\n")) or " "
    if bold:
        lines = f"<B>{lines}</B>"
    font = f'<FONT POINT-SIZE="{size}"' + (f' COLOR="{font_colour}"' if font_colour else "") + ">"
    background = f' BGCOLOR="{fill}"' if fill else ""
    # BALIGN: every line of a wrapped cell aligned alike, not only the first.
    return f'<TD ALIGN="{align}" BALIGN="{align}"{background}>{font}{lines}</FONT></TD>'


def _box(heading: str, rows: list[str], fill: str) -> str:
    body = "".join(row if row.startswith("<TR>") else f"<TR>{row}</TR>" for row in rows)
    title = _cell(heading, bold=True, size=15, align="LEFT")
    return (f'<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="2" CELLPADDING="3" STYLE="ROUNDED" '
            f'BGCOLOR="{fill}" COLOR="{colour.NODE_BORDER}"><TR>{title}</TR>{body}</TABLE>')
