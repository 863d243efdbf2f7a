"""A claim's explanation as one self-contained HTML page for auditors.

Everything is inside the file: the styles, the figures, the clauses' words and
the evaluation graph with the claim laid over it, as inline SVG.  No scripts,
no fonts or images fetched from anywhere; it opens from a file.  The losing
take-highest candidates are folded away (<details>) but one click shows them.
"""

from __future__ import annotations

from html import escape

from yibao.compiler.claims import Claim
from yibao.compiler.evaluate import ClaimResult
from yibao.compiler.graph import EvaluationGraph
from yibao.explain import colour
from yibao.explain.graph import graph_dot, inline_svg
from yibao.explain.labels import ZH, Language
from yibao.explain.overlay import overlay_from_result
from yibao.explain.report import SectionView, StepView, Table, build_report

STYLE = f"""
body {{ font-family: "{colour.CJK_FONT}", "Noto Sans SC", "PingFang SC", "Microsoft YaHei",
        sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1f2937;
        line-height: 1.5; }}
h1 {{ font-size: 1.6rem; margin-bottom: 0.2rem; }}
.tables {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(26rem, 1fr));
           gap: 0 2rem; align-items: start; }}
h2 {{ border-bottom: 2px solid #e5e7eb; padding-bottom: 0.2rem; margin-top: 2rem; }}
.policy {{ color: {colour.CLAUSE}; margin-top: 0; }}
table {{ border-collapse: collapse; margin: 0.5rem 0; }}
th, td {{ border: 1px solid #d1d5db; padding: 0.25rem 0.6rem; text-align: left; }}
th {{ background: #f3f4f6; }}
td.figure {{ text-align: right; font-variant-numeric: tabular-nums; }}
tr.strong td {{ font-weight: bold; color: {colour.PATH}; }}
.line {{ margin: 0.6rem 0 0.6rem 1rem; }}
.line h4 {{ margin: 0.4rem 0; }}
ol.steps {{ list-style: none; padding-left: 0; margin: 0; }}
li.step {{ border-left: 3px solid {colour.PATH}; padding: 0.2rem 0.6rem; margin: 0.4rem 0;
           background: {colour.PATH_FILL}; }}
.label {{ font-weight: bold; }}
.value {{ float: right; font-weight: bold; color: {colour.PATH};
          font-variant-numeric: tabular-nums; }}
.formula {{ font-family: ui-monospace, "Noto Sans Mono CJK SC", monospace; font-size: 0.9rem; }}
blockquote.clause {{ margin: 0.2rem 0 0 0; color: {colour.CLAUSE}; font-size: 0.9rem; }}
p.not-applicable {{ color: {colour.UNTAKEN}; margin: 0.3rem 0 0.3rem 1rem; }}
details.not-chosen li.step {{ border-left-color: {colour.UNTAKEN}; background: {colour.UNTAKEN_FILL}; }}
details.not-chosen .value {{ color: {colour.UNTAKEN}; }}
details > summary {{ cursor: pointer; }}
.graph {{ overflow-x: auto; border: 1px solid #e5e7eb; padding: 0.5rem; }}
.graph svg {{ height: auto; }}
footer {{ color: {colour.CLAUSE}; margin-top: 2rem; font-size: 0.85rem; }}
"""


def render_html(result: ClaimResult, claim: Claim, graph: EvaluationGraph, quotes: bool = True,
                lang: Language = ZH) -> str:
    """The page; ``graph`` is the compiled version the claim was settled under."""
    report = build_report(result, claim, graph.policy, lang, quotes)
    svg = inline_svg(graph_dot(graph, overlay_from_result(result)))
    body = [f"<header><h1>{escape(report.title)}</h1>",
            f'<p class="policy">{escape(report.policy)}</p></header>']
    body.append('<div class="tables">' + "".join(_table(t) for t in report.tables) + "</div>")
    body.append(f'<section id="steps"><h2>{escape(lang.word("steps"))}</h2>')
    body += [_section(section) for section in report.sections]
    body.append("</section>")
    body.append(f'<section id="graph"><h2>{escape(lang.word("graph"))}</h2>'
                f'<p class="legend">{escape(lang.word("legend"))}</p>'
                f'<div class="graph">{svg}</div></section>')
    body.append(f"<footer>{escape(lang.word('generated'))}</footer>")
    html_lang = "en" if lang.english else "zh-CN"
    return ("<!DOCTYPE html>\n"
            f'<html lang="{html_lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(report.title)}</title><style>{STYLE}</style></head>\n"
            f"<body>\n" + "\n".join(body) + "\n</body></html>\n")


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
    rows = []
    for index, row in enumerate(table.rows):
        cells = "".join(f'<td class="{"figure" if _is_figure(c) else "text"}">{escape(c)}</td>'
                        for c in row)
        strong = ' class="strong"' if index in table.strong else ""
        rows.append(f"<tr{strong}>{cells}</tr>")
    return (f'<section id="{table.anchor}"><h2>{escape(table.title)}</h2>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>")


def _is_figure(text: str) -> bool:
    return bool(text) and text.replace(",", "").replace(".", "").replace("%", "").isdigit()


def _section(section: SectionView) -> str:
    inner = []
    for group in section.groups:
        heading = f"<h4>{escape(group.line)}</h4>" if group.heading else ""
        if group.note:
            inner.append(f'<div class="line">{heading}'
                         f'<p class="not-applicable">{escape(group.note)}</p></div>')
            continue
        steps = "".join(_step(step) for step in group.steps)
        inner.append(f'<div class="line">{heading}<ol class="steps">{steps}</ol></div>')
    title = escape(section.title)
    if section.chosen:
        return f'<section class="stage"><h3>{title}</h3>{"".join(inner)}</section>'
    return (f'<details class="stage not-chosen"><summary><h3 style="display:inline">{title}</h3>'
            f'</summary>{"".join(inner)}</details>')


def _step(step: StepView) -> str:
    parts = [f'<li class="step"><span class="label">{escape(step.label)}</span>'
             f'<span class="value">{escape(step.value)}</span>']
    if step.formula:
        parts.append(f'<div class="formula">{escape(step.formula)}</div>')
    if step.clause:
        parts.append(f'<blockquote class="clause">{escape(step.clause)}</blockquote>')
    parts.append("</li>")
    return "".join(parts)
