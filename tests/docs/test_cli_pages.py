"""Every `yibao` sub-command has its page in docs/cli/, and that page names
every option its argparse parser accepts (issue 23, item 7: one page per
command). The parsers are walked from `build_parser()` itself, so a new
command, a new audit action or a new option fails here until it is
documented: the pages cannot drift from the code."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from yibao.cli.main import build_parser

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = DOCS / "cli"


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _parsers() -> list[tuple[str, str, argparse.ArgumentParser]]:
    """(command, display name, parser) for each command and each audit action:
    an action's options belong on its command's page."""
    found = []
    for command, parser in _subcommands(build_parser()).items():
        found.append((command, command, parser))
        for action, sub in _subcommands(parser).items():
            found.append((command, f"{command} {action}", sub))
    return found


PARSERS = _parsers()
COMMANDS = sorted({command for command, _, _ in PARSERS})


def _page(command: str) -> str:
    return (PAGES / f"{command}.md").read_text(encoding="utf-8")


def _mentions(text: str, word: str) -> bool:
    # `--claim` must not count as a mention of itself inside `--claims`.
    return re.search(re.escape(word) + r"(?![\w-])", text) is not None


def test_the_walk_finds_every_command_and_audit_action():
    # Guards the walk itself: if it found nothing, every check below would pass.
    names = {name for _, name, _ in PARSERS}
    assert {"check", "eval", "settle", "explain", "demo", "subsidy", "graph", "diff",
            "test", "lint", "fmt", "lsp", "audit verify", "audit replay", "audit show",
            "audit reindex", "audit migrate"} <= names


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_its_page(command):
    assert (PAGES / f"{command}.md").is_file(), f"docs/cli/{command}.md is missing"


@pytest.mark.parametrize("command", COMMANDS)
def test_the_index_links_each_page(command):
    index = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert f"(cli/{command}.md)" in index, f"docs/cli.md does not link cli/{command}.md"


@pytest.mark.parametrize(("command", "name", "parser"), PARSERS, ids=[n for _, n, _ in PARSERS])
def test_each_option_is_on_its_page(command, name, parser):
    page = _page(command)
    missing = [
        option
        for action in parser._actions
        if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction))
        for option in action.option_strings
        if not _mentions(page, option)
    ]
    assert not missing, f"docs/cli/{command}.md does not mention {name}'s {missing}"


@pytest.mark.parametrize(("command", "name", "parser"),
                         [p for p in PARSERS if p[1].startswith("audit ")],
                         ids=[n for _, n, _ in PARSERS if n.startswith("audit ")])
def test_each_audit_action_is_on_the_audit_page(command, name, parser):
    assert f"yibao {name}" in _page(command)


def test_the_option_check_can_fail():
    # The same predicate that passes above rejects a page lacking an option,
    # and does not take --claims for --claim.
    assert not _mentions("use `--claims FILE`", "--claim")
    assert _mentions("use `--claim ID`", "--claim")
    assert not _mentions("nothing here", "--record")
