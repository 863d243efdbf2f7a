"""A claim's explanation as Markdown, for attaching to a case file.

Tables for the inputs, the result, the take-highest comparison, the
year-to-date figures and the alerts; then each step as a list item with its
figure, its formula (as code, so figures and field names print as written)
and the clause it applies, quoted.
"""

from __future__ import annotations

from yibao.runtime.claims import Claim
from yibao.runtime.evaluate import ClaimResult
from yibao.dsl.model import Policy
from yibao.explain.labels import ZH, Language
from yibao.explain.provenance import Provenance
from yibao.explain.report import SectionView, StepView, Table, build_report


def render_markdown(result: ClaimResult, claim: Claim, policy: Policy, quotes: bool = True,
                    lang: Language = ZH, provenance: Provenance | None = None) -> str:
    report = build_report(result, claim, policy, lang, quotes)
    out = [f"# {report.title}", "", report.policy, ""]
    for table in report.tables:
        out.extend(_table(table))
    out.extend([f"## {lang.word('steps')}", ""])
    for section in report.sections:
        out.extend(_section(section))
    out.extend(["---", "", f"*{lang.word('generated')}*"])
    if provenance is not None:
        out.extend(["", f"*{provenance.words(lang.english)}*"])
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|") or " "


def _table(table: Table) -> list[str]:
    out = [f"## {table.title}", "",
           "| " + " | ".join(_cell(h) for h in table.header) + " |",
           "|" + "|".join(" --- " for _ in table.header) + "|"]
    for index, row in enumerate(table.rows):
        cells = [_cell(c) for c in row]
        if index in table.strong:
            cells = [f"**{c}**" if c.strip() else c for c in cells]
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    if table.notes:
        out.extend([f"{table.notes_title}:", "", *(f"- {note}" for note in table.notes), ""])
    return out


def _section(section: SectionView) -> list[str]:
    out = [f"### {section.title}", ""]
    for group in section.groups:
        if group.heading:
            out.extend([f"#### {group.line}", ""])
        if group.note:
            out.extend([f"- {group.note}", ""])
            continue
        if group.condition:
            out.extend([f"- {group.condition}", ""])
        for step in group.steps:
            out.extend(_step(step))
        out.append("")
    return out


def _step(step: StepView) -> list[str]:
    out = [f"- **{step.label}**: {step.value}"]
    if step.formula:
        out.append(f"  - `{step.formula}`")
    if step.clause:
        out.append(f"  - {step.clause}")
    return out
