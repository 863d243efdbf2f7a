"""The editor's analysis of one version (lsp/analysis.py), in process.

Its comments come from a scanner instead of a second Lark parse (half the time
of an edit): for every file that parses it must find exactly what
dsl/comments.py finds, or suppressions would apply differently in the editor
and in `yibao lint`.
"""

from __future__ import annotations

import random

import pytest

from helpers import POLICIES
from yibao.dsl.comments import parse_with_comments
from yibao.dsl.parser import parse_policy
from yibao.lsp.analysis import analyse, scan_comments
from yibao.lint.config import discover_config
from yibao.lint.runner import lint_source

SHIPPED = sorted(POLICIES.glob("*.policy"))

TRICKY = '''\
policy t-2023 {   # a comment after the header
    title "a # inside a title"   # and one after it
    effective 2023-01-01
    source "x\\\\"  # a backslash escaped before the closing quote
    document "say \\"#\\" here"    # an escaped quote around a hash
}
    # indented, on its own line
clause §(一) "救助对象"#no space before it
'''


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_the_scanner_finds_the_parsers_comments(path):
    text = path.read_text(encoding="utf-8")
    assert scan_comments(text) == parse_with_comments(text)[1]


def test_the_scanner_on_strings_escapes_and_hashes():
    parse_policy(TRICKY)   # it parses
    found = scan_comments(TRICKY)
    assert found == parse_with_comments(TRICKY)[1]
    assert [c.text for c in found] == [
        "# a comment after the header", "# and one after it",
        "# a backslash escaped before the closing quote", "# an escaped quote around a hash",
        "# indented, on its own line", "#no space before it"]


def test_the_scanner_on_random_deletions_of_shipped_policies():
    """Whenever a damaged file still parses, the two agree (seeded)."""
    rng = random.Random(27)
    compared = 0
    for _ in range(300):
        text = rng.choice(SHIPPED).read_text(encoding="utf-8")
        start = rng.randrange(len(text))
        text = text[:start] + text[start + rng.randrange(1, 30):]
        try:
            expected = parse_with_comments(text)[1]
        except Exception:  # noqa: BLE001 - does not parse: the scanner is not used
            continue
        assert scan_comments(text) == expected
        compared += 1
    assert compared > 50


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_the_editor_reports_what_yibao_lint_reports(path):
    """Same findings (the parser's and checker's under their own codes in the editor)."""
    text = path.read_text(encoding="utf-8")
    config = discover_config(path)
    lint = [(f.span.line, f.span.column, f.message) for f in lint_source(text, str(path), config)]
    editor = [(f.span.line, f.span.column, f.message)
              for f in analyse(path.as_uri(), str(path), text, 1, config).findings
              if f.code != "S230"]
    assert editor == lint
