"""Each lint rule documents itself: code, name, what it does, why, a bad and a good example."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from yibao.lint import rules as rules_package
from yibao.lint.registry import all_rules

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


def test_the_readme_documents_every_rule_with_a_bad_and_a_good_example():
    from helpers import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Linting and formatting"):]
    for registered in all_rules():
        rule = registered.rule
        assert f"| {rule.code} | {rule.name} |" in section, rule.code
        start = section.index(f"#### {rule.code} {rule.name}")
        end = section.find("\n#### ", start + 1)
        text = section[start:end if end > 0 else None]
        assert "# good" in text and ("# bad" in text or "# flagged" in text), rule.code
