"""Drafters' slips in the shipped policies: lint never crashes — it reports findings
(the parser's and checker's included), each with a hint, and no rule fails (L000) —
and fmt, on every slip that still parses, keeps the meaning and is idempotent."""

from __future__ import annotations

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import POLICIES
from yibao.core.diagnostics import PolicyError
from yibao.dsl.format import format_policy
from yibao.dsl.parser import parse_policy
from yibao.lint.config import LintConfig
from yibao.lint.runner import INTERNAL_ERROR, lint_source

SOURCES = {path.name: path.read_text(encoding="utf-8")
           for path in sorted(POLICIES.glob("*.policy"))}
WORDS = sorted({w for text in SOURCES.values() for w in re.findall(r"[^\s\"#]+", text)})


def _slip(source: str, rng: random.Random) -> str:
    """One drafter's slip: a line dropped or doubled, or a word replaced by another."""
    lines = source.splitlines(keepends=True)
    index = rng.randrange(len(lines))
    kind = rng.choice(["drop", "double", "word"])
    if kind == "drop":
        del lines[index]
    elif kind == "double":
        lines.insert(index, lines[index])
    else:
        words = list(re.finditer(r"[^\s\"#]+", lines[index]))
        if words:
            word = rng.choice(words)
            lines[index] = (lines[index][:word.start()] + rng.choice(WORDS)
                            + lines[index][word.end():])
    return "".join(lines)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(SOURCES)), st.randoms(use_true_random=False),
       st.integers(min_value=1, max_value=3))
def test_lint_reports_slips_and_never_fails(name, rng, slips):
    source = SOURCES[name]
    for _ in range(slips):
        source = _slip(source, rng)
    findings = lint_source(source, str(POLICIES / name), LintConfig())
    assert [f for f in findings if f.code == INTERNAL_ERROR] == []
    assert all(f.span.line >= 0 and f.code.startswith("L") and f.hint for f in findings)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(SOURCES)), st.randoms(use_true_random=False))
def test_fmt_keeps_the_meaning_of_every_slip_that_parses(name, rng):
    source = _slip(_slip(SOURCES[name], rng), rng)
    try:
        before = parse_policy(source)
    except PolicyError:
        return
    formatted = format_policy(source)
    assert parse_policy(formatted) == before
    assert format_policy(formatted) == formatted
