"""The lint rules' reference page, rendered from the rules themselves.

Each rule's module docstring is its documentation (what it does, why it
matters, a flagged example, what to write instead).  ``docs/lint-rules.md`` is
this module's output, written by ``scripts/gen_lint_docs.py``; a test keeps the
file equal to it, so the page can never drift from the code.
"""

from __future__ import annotations

import re
import textwrap
from types import ModuleType

from yibao.lint.rules import all_rules
from yibao.lint.runner import INTERNAL_ERROR

HEADER = """\
# Lint rules

Generated from the docstrings of `lint/rules/*.py` by
`scripts/gen_lint_docs.py`; do not edit by hand (a test compares this file with
the rules).  Codes are stable: L0xx the file and its suppressions, L1xx
correctness, L2xx over-protection (过度保障), L3xx completeness, L4xx
monotonicity.  How to run lint, suppress a finding and configure it:
[lint.md](lint.md).
"""

# Sections of a rule's docstring, in the order the page shows them.
_PROSE = ("What it does", "Why it matters")
_EXAMPLES = (("Example", "flagged"), ("Use instead", "good"))


def render_rule_docs() -> str:
    rows = ["| code | name | severity | what it finds |", "|---|---|---|---|",
            f"| {INTERNAL_ERROR} | internal-error | error | a lint rule failed "
            "(a bug in yibao; the other rules still ran) |"]
    sections = []
    for registered in sorted(all_rules(), key=lambda r: r.rule.code):
        rule = registered.rule
        rows.append(f"| {rule.code} | {rule.name} | {rule.severity.value} | {rule.summary} |")
        sections.append(_rule_section(rule.code, rule.name, _module_doc(registered.check)))
    return "\n".join([HEADER, *rows, "", *sections]).rstrip() + "\n"


def _module_doc(check) -> str:
    import sys

    module: ModuleType = sys.modules[check.__module__]
    return module.__doc__ or ""


def _rule_section(code: str, name: str, doc: str) -> str:
    _, _, body = doc.partition("\n")
    parts = [f"## {code} {name}", ""]
    for title in _PROSE:
        parts += [f"**{title}.** {_sentence(_section(body, title))}", ""]
    for title, label in _EXAMPLES:
        parts += [f"**{label.capitalize()}.**", "", *_markdown(_section(body, title)), ""]
    return "\n".join(parts)


def _markdown(text: str) -> list[str]:
    """reST-style text (prose, then ``::`` and an indented block) as Markdown lines."""
    out: list[str] = []
    block: list[str] = []
    prose: list[str] = []

    def flush_prose() -> None:
        if prose:
            sentence = _sentence(" ".join(prose)).rstrip(":")
            if sentence:
                out.extend([sentence, ""])
            prose.clear()

    def flush_block() -> None:
        if block:
            out.extend(["```text", *textwrap.dedent("\n".join(block)).strip("\n").split("\n"),
                        "```", ""])
            block.clear()

    for line in text.split("\n"):
        if line.startswith((" ", "\t")) and line.strip():
            flush_prose()
            block.append(line)
        elif line.strip():
            flush_block()
            prose.append(line)
        elif block:
            block.append(line)
    flush_prose()
    flush_block()
    return out[:-1] if out and out[-1] == "" else out


def _sentence(text: str) -> str:
    """Prose on one line, reST literals as Markdown code, starting with a capital."""
    words = " ".join(text.split()).replace("``", "`")
    return words[:1].upper() + words[1:]


_SECTION_TITLES = ("What it does", "Why it matters", "Example", "Use instead")


def _section(body: str, title: str) -> str:
    """The text after ``title:`` (or ``title::``) up to the next section's title."""
    others = "|".join(re.escape(t) for t in _SECTION_TITLES if t != title)
    match = re.search(rf"^{re.escape(title)}([^:\n]*)::?(.*?)(?=^(?:{others})\b|\Z)", body,
                      re.MULTILINE | re.DOTALL)
    if match is None:
        raise ValueError(f"a lint rule's docstring has no '{title}' section")
    # A qualifier between the title and its colon ("Use instead (when …)::") is prose.
    return match.group(1).strip() + match.group(2).lstrip(" ")
