"""Each lint rule documents itself: code, name, what it does, why, a bad and a good example."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from yibao.lint import rules as rules_package
from yibao.lint.rules import all_rules

MODULES = [importlib.import_module(f"yibao.lint.rules.{m.name}")
           for m in pkgutil.iter_modules(rules_package.__path__)]


def test_every_rule_module_is_registered_once_with_a_unique_code():
    registered = [r.rule for r in all_rules()]
    assert sorted(m.RULE.code for m in MODULES) == sorted(r.code for r in registered)
    assert len({r.code for r in registered}) == len(registered)
    taken = [code for r in registered for code in r.takes_over]
    assert len(taken) == len(set(taken))


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.RULE.code)
def test_every_rule_says_what_why_and_shows_a_bad_and_a_good_example(module):
    doc = module.__doc__
    assert doc.startswith(f"{module.RULE.code} {module.RULE.name}: ")
    for section in ("What it does", "Why it matters", "Example", "Use instead"):
        assert section in doc, section


def test_the_rules_page_is_generated_from_the_rules_and_is_current():
    """docs/lint-rules.md is scripts/gen_lint_docs.py's output: edit the docstrings, not the page."""
    from helpers import ROOT

    from yibao.lint.rule_docs import render_rule_docs

    page = (ROOT / "docs" / "lint-rules.md").read_text(encoding="utf-8")
    assert page == render_rule_docs(), "run scripts/gen_lint_docs.py"


def test_the_rules_page_shows_every_rule_with_a_flagged_and_a_good_example():
    from yibao.lint.rule_docs import render_rule_docs

    page = render_rule_docs()
    for registered in all_rules():
        rule = registered.rule
        assert f"| {rule.code} | {rule.name} |" in page, rule.code
        start = page.index(f"## {rule.code} {rule.name}")
        end = page.find("\n## ", start + 1)
        text = page[start:end if end > 0 else None]
        assert "**Flagged.**" in text and "**Good.**" in text and "```text" in text, rule.code
