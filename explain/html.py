"""A claim's explanation as one self-contained HTML page for auditors.

Everything is inside the file: the styles, the figures, the clauses' words and
the evaluation graph with the claim laid over it, as inline SVG.  No scripts,
no fonts or images fetched from anywhere; it opens from a file.  The losing
take-highest candidates are folded away (<details>) but one click shows them.
"""

from __future__ import annotations

from html import escape

from yibao.runtime.claims import Claim
from yibao.runtime.evaluate import ClaimResult
from yibao.compiler.graph import EvaluationGraph
from yibao.explain import colour
from yibao.explain.graph import graph_dot, inline_svg
from yibao.explain.labels import ZH, Language
from yibao.explain.overlay import overlay_from_result
from yibao.explain.provenance import Provenance
from yibao.explain.report import SectionView, StepView, Table, build_report

STYLE = f"""
body {{ font-family: "{colour.CJK_FONT}", "Noto Sans SC", "PingFang SC", "Microsoft YaHei",
        sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1f2937;
        background: #ffffff; line-height: 1.5; }}
h1 {{ font-size: 1.6rem; margin-bottom: 0.2rem; }}
/* min(26rem, 100%): on a phone (390 px) one column, never wider than the screen. */
.tables {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(min(26rem, 100%), 1fr));
           gap: 0 2rem; align-items: start; }}
/* Five columns and more (year to date, alerts) take the page's width: squeezed into
   half of it at 1,280 px, the alert table broke 结论 one character a line. */
.tables > section.wide {{ grid-column: 1 / -1; }}
/* The claim's inputs (a long table, then its clauses' words) beside the result and the
   take-highest comparison, not above an empty half row: keeps bx-0007 on three A4 pages. */
.tables > #inputs {{ grid-row: span 2; }}
.scroll {{ overflow-x: auto; max-width: 100%; }}
h2 {{ border-bottom: 2px solid #e5e7eb; padding-bottom: 0.2rem; margin-top: 2rem; }}
.policy {{ color: {colour.CLAUSE}; margin-top: 0; }}
table {{ border-collapse: collapse; margin: 0.5rem 0; }}
th, td {{ border: 1px solid #d1d5db; padding: 0.25rem 0.6rem; text-align: left; }}
th {{ background: #f3f4f6; }}
td.figure {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
td.word, th {{ white-space: nowrap; }}
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
.formula, blockquote.clause, footer, .policy {{ overflow-wrap: anywhere; }}
blockquote.clause {{ margin: 0.2rem 0 0 0; color: {colour.CLAUSE}; font-size: 0.9rem; }}
p.not-applicable {{ color: {colour.UNTAKEN_TEXT}; margin: 0.3rem 0 0.3rem 1rem; }}
p.condition {{ color: {colour.CLAUSE}; margin: 0.2rem 0 0.2rem 1rem; font-size: 0.9rem; }}
details.not-chosen li.step {{ border-left-color: {colour.UNTAKEN}; background: {colour.UNTAKEN_FILL}; }}
details.not-chosen .value {{ color: {colour.UNTAKEN_TEXT}; }}
details > summary {{ cursor: pointer; }}
blockquote.repeated .again {{ display: none; }}
.notes {{ font-size: 0.9rem; color: {colour.CLAUSE}; }}
.notes p {{ margin: 0.2rem 0; }}
.notes ul {{ margin: 0; padding-left: 1.2rem; }}
/* The graph is scaled to the column; "full size" (a link to #graph-full, no script)
   shows it at its own size, scrolling sideways. */
.graph {{ overflow-x: auto; border: 1px solid #e5e7eb; padding: 0.5rem; }}
.graph svg {{ display: block; width: 100%; max-width: 100%; height: auto; }}
.graph:target svg {{ width: auto; max-width: none; }}
footer {{ color: {colour.CLAUSE}; margin-top: 2rem; font-size: 0.85rem; }}

/* A4: the tables and steps in portrait, the graph alone on one landscape page. */
@page {{ size: A4 portrait; margin: 10mm; }}
@page graph {{ size: A4 landscape; margin: 8mm; }}
@media print {{
  body {{ max-width: none; margin: 0; padding: 0; font-size: 8.5pt; line-height: 1.3; }}
  h1 {{ font-size: 14pt; }}
  h2 {{ font-size: 11pt; margin: 0.6rem 0 0.2rem; break-after: avoid; }}
  h3, h4, summary {{ font-size: 10pt; margin: 0.3rem 0; break-after: avoid; }}
  .tables {{ grid-template-columns: 1fr 1fr; gap: 0 1rem; }}
  table {{ margin: 0.2rem 0; }}
  th, td {{ padding: 0.05rem 0.35rem; }}
  tr, li.step {{ break-inside: avoid; }}
  li.step {{ margin: 0.15rem 0; padding: 0.05rem 0.4rem; }}
  .formula, blockquote.clause, .notes {{ font-size: 7.5pt; }}
  /* A clause quoted by an earlier step: the § alone (引文见前). */
  blockquote.repeated .full {{ display: none; }}
  blockquote.repeated .again {{ display: inline; }}
  /* The steps flow in two columns; no step is cut between columns or pages. */
  #steps {{ columns: 2; column-gap: 1.2rem; }}
  #steps > h2 {{ column-span: all; }}
  .line {{ margin: 0.3rem 0 0.3rem 0.5rem; }}
  /* A folded candidate is printed open: on paper nothing can be clicked. */
  details::details-content {{ content-visibility: visible; display: contents; }}
  details > summary {{ list-style: none; }}
  .screen-only {{ display: none; }}
  #graph {{ page: graph; break-before: page; }}
  #graph h2 {{ margin-top: 0; }}
  #graph .graph {{ border: none; padding: 0; overflow: visible; }}
  #graph .graph svg {{ width: 100%; max-width: 100%; height: 160mm; }}
  footer {{ page: graph; margin-top: 0.3rem; font-size: 7pt; }}
}}
"""


def render_html(result: ClaimResult, claim: Claim, graph: EvaluationGraph, quotes: bool = True,
                lang: Language = ZH, provenance: Provenance | None = None) -> str:
    """The page; ``graph`` is the compiled version the claim was settled under."""
    report = build_report(result, claim, graph.policy, lang, quotes)
    svg = inline_svg(graph_dot(graph, overlay_from_result(result)))
    body = [f"<header><h1>{escape(report.title)}</h1>",
            f'<p class="policy">{escape(report.policy)}</p></header>']
    body.append('<div class="tables">' + "".join(_table(t) for t in report.tables) + "</div>")
    body.append(f'<section id="steps"><h2>{escape(lang.word("steps"))}</h2>')
    body += [_section(section, lang.word("quoted_above")) for section in report.sections]
    body.append("</section>")
    svg = _named_svg(svg, f'{lang.word("graph")} · {report.title}')
    body.append(f'<section id="graph"><h2>{escape(lang.word("graph"))}</h2>'
                f'<p class="legend">{escape(lang.word("legend"))}</p>{_size_links(lang)}'
                f'<div class="graph" id="graph-full">{svg}</div></section>')
    footer = f"<p>{escape(lang.word('generated'))}</p>"
    if provenance is not None:
        footer += f'<p class="provenance">{escape(provenance.words(lang.english))}</p>'
    body.append(f"<footer>{footer}</footer>")
    html_lang = "en" if lang.english else "zh-CN"
    return ("<!DOCTYPE html>\n"
            f'<html lang="{html_lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(report.title)}</title><style>{STYLE}</style></head>\n"
            f"<body>\n" + "\n".join(body) + "\n</body></html>\n")


_WIDE = 5            # columns from which a table takes the page's width, not half of it
_WORD = 6            # characters up to which a cell is a word (预警, 未预警, 适用): never wrapped


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
    rows = []
    for index, row in enumerate(table.rows):
        cells = "".join(f'<td class="{_cell_class(c)}">{escape(c)}</td>' for c in row)
        strong = ' class="strong"' if index in table.strong else ""
        rows.append(f"<tr{strong}>{cells}</tr>")
    wide = ' class="wide"' if len(table.header) >= _WIDE else ""
    notes = ""
    if table.notes:
        items = "".join(f"<li>{escape(note)}</li>" for note in table.notes)
        notes = (f'<div class="notes"><p>{escape(table.notes_title)}</p>'
                 f'<ul>{items}</ul></div>')
    return (f'<section id="{table.anchor}"{wide}><h2>{escape(table.title)}</h2>'
            f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>{notes}</section>")


def _cell_class(text: str) -> str:
    if _is_figure(text):
        return "figure"
    return "word" if len(text) <= _WORD and " " not in text else "text"


def _is_figure(text: str) -> bool:
    return bool(text) and text.replace(",", "").replace(".", "").replace("%", "").isdigit()


_SIZE_WORDS = {False: ("原尺寸查看", "适应页宽"), True: ("full size", "fit to page")}


def _size_links(lang: Language) -> str:
    full, fit = _SIZE_WORDS[lang.english]
    return (f'<p class="screen-only size"><a href="#graph-full">{full}</a> · '
            f'<a href="#graph">{fit}</a></p>')


def _named_svg(svg: str, name: str) -> str:
    """The SVG with an accessible name: role="img", aria-label and a <title> first
    (graphviz gives the root a <title> of the policy id only, deeper in)."""
    head, rest = svg.split(">", 1)
    label = escape(name)
    return (f'{head} role="img" aria-label="{label}"><title>{label}</title>{rest}')


def _section(section: SectionView, quoted_above: str) -> str:
    inner = []
    for group in section.groups:
        heading = f"<h4>{escape(group.line)}</h4>" if group.heading else ""
        if group.note:
            inner.append(f'<div class="line">{heading}'
                         f'<p class="not-applicable">{escape(group.note)}</p></div>')
            continue
        steps = "".join(_step(step, quoted_above) for step in group.steps)
        held = (f'<p class="condition">{escape(group.condition)}</p>' if group.condition
                else "")
        inner.append(f'<div class="line">{heading}{held}<ol class="steps">{steps}</ol></div>')
    title = escape(section.title)
    if section.chosen:
        return f'<section class="stage"><h3>{title}</h3>{"".join(inner)}</section>'
    return (f'<details class="stage not-chosen"><summary><h3 style="display:inline">{title}</h3>'
            f'</summary>{"".join(inner)}</details>')


def _step(step: StepView, quoted_above: str) -> str:
    parts = [f'<li class="step"><span class="label">{escape(step.label)}</span>'
             f'<span class="value">{escape(step.value)}</span>']
    if step.formula:
        parts.append(f'<div class="formula">{escape(step.formula)}</div>')
    if step.clause and step.repeated:
        # Quoted in full on screen; on paper the § alone, its words printed above.
        parts.append(f'<blockquote class="clause repeated"><span class="full">'
                     f'{escape(step.clause)}</span><span class="again">'
                     f'{escape(step.reference + quoted_above)}</span></blockquote>')
    elif step.clause:
        parts.append(f'<blockquote class="clause">{escape(step.clause)}</blockquote>')
    parts.append("</li>")
    return "".join(parts)
