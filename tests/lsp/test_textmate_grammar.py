"""The TextMate grammar (editors/vscode/syntaxes/yibao-policy.tmLanguage.json) tokenises
every shipped policy with no character left unmatched and no region left open.

The tokeniser below follows TextMate's rules for what the grammar uses:
``match`` rules, ``begin``/``end`` regions with inner patterns, ``include`` of
repository entries; at each point the rule whose match starts first wins (the
first listed on a tie, a region's ``end`` before its inner patterns).  The
grammar's regular expressions are written in the subset that Python's ``re``
and Oniguruma read alike (``\\w`` Unicode-aware in both).
"""

from __future__ import annotations

import functools
import json
import re

import pytest

from helpers import POLICIES, ROOT

GRAMMAR_PATH = ROOT / "editors" / "vscode" / "syntaxes" / "yibao-policy.tmLanguage.json"
GRAMMAR = json.loads(GRAMMAR_PATH.read_text(encoding="utf-8"))
SHIPPED = sorted(POLICIES.glob("*.policy"))


@functools.lru_cache(maxsize=None)
def _regex(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def _expand(patterns: list[dict]) -> list[dict]:
    rules = []
    for pattern in patterns:
        if "include" in pattern:
            rules.extend(_expand([GRAMMAR["repository"][pattern["include"].lstrip("#")]]))
        elif "match" in pattern or "begin" in pattern:
            rules.append(pattern)
        else:
            rules.extend(_expand(pattern["patterns"]))
    return rules


def tokenise(text: str):
    """(tokens as (line, start, end, scope), unmatched (line, column, char), open regions)."""
    tokens, unmatched, stack = [], [], []
    for number, line in enumerate(text.split("\n")):
        position = 0
        while position <= len(line):
            candidates = []
            if stack:
                candidates.append(("end", stack[-1], _regex(stack[-1]["end"])))
                inner = _expand(stack[-1].get("patterns", []))
            else:
                inner = _expand(GRAMMAR["patterns"])
            for rule in inner:
                kind = "begin" if "begin" in rule else "match"
                candidates.append((kind, rule, _regex(rule[kind])))
            best = None
            for kind, rule, regex in candidates:
                found = regex.search(line, position)
                if found is not None and (best is None or found.start() < best[2].start()):
                    best = (kind, rule, found)
            if best is None:
                if not stack:
                    unmatched.extend((number, c, ch) for c, ch in enumerate(line[position:],
                                                                          position)
                                     if not ch.isspace())
                break
            kind, rule, found = best
            if not stack:
                unmatched.extend((number, c, ch) for c, ch in enumerate(
                    line[position:found.start()], position) if not ch.isspace())
            if kind == "end":
                stack.pop()
                tokens.append((number, found.start(), found.end(), "end"))
            elif kind == "begin":
                stack.append(rule)
                tokens.append((number, found.start(), found.end(), rule["name"]))
            else:
                tokens.extend((number, start, end, scope) for start, end, scope in _pieces(rule, found))
            if found.end() == position and kind != "begin":
                if position == len(line):
                    break
                position += 1      # a zero-length match: move on (never loops)
            else:
                position = found.end()
    return tokens, unmatched, [rule.get("name") for rule in stack]


def _pieces(rule: dict, found: re.Match):
    """The match as one token (its ``name``), or one token per capture that matched."""
    if "name" in rule:
        yield found.start(), found.end(), rule["name"]
        return
    for group, capture in sorted(rule.get("captures", {}).items(), key=lambda g: int(g[0])):
        if found.group(int(group)) is not None:
            yield found.start(int(group)), found.end(int(group)), capture["name"]


def scopes_of(text: str) -> dict[str, str]:
    """The scope of each token's text (the first occurrence of each text)."""
    tokens, _, _ = tokenise(text)
    lines = text.split("\n")
    out = {}
    for line, start, end, scope in tokens:
        out.setdefault(lines[line][start:end], scope)
    return out


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_policy_tokenises_with_nothing_unmatched(path):
    tokens, unmatched, still_open = tokenise(path.read_text(encoding="utf-8"))
    assert unmatched == []
    assert still_open == []
    assert len(tokens) > 20


def test_a_character_the_language_does_not_have_is_unmatched():
    _, unmatched, _ = tokenise("identity 低保对象 @ §(一)")
    assert unmatched == [(0, 14, "@")]


def test_an_unclosed_quote_ends_with_its_line():
    tokens, unmatched, still_open = tokenise('cap 2万 §(五) "自2023年1月起\nline 基本救助 {')
    assert still_open == [] and unmatched == []
    assert (1, 0, 4, "keyword.control.yibao-policy") in tokens


def test_scopes_by_meaning():
    text = (POLICIES / "benxi-2023.policy").read_text(encoding="utf-8")
    scopes = scopes_of(text)
    assert scopes["§(五)"] == "entity.name.tag.citation.yibao-policy"
    assert scopes["2万"] == "constant.numeric.amount.yibao-policy"
    assert scopes["70%"] == "constant.numeric.rate.yibao-policy"
    assert scopes["2023-01-01"] == "constant.numeric.date.yibao-policy"
    assert scopes["identity"] == "keyword.control.yibao-policy"
    assert scopes["低保对象"] == "variable.other.name.yibao-policy"
    assert scopes["住院"] == "support.constant.visit.yibao-policy"
    assert scopes["benxi-2023"] == "entity.name.namespace.yibao-policy"
    assert scopes["none"] == "constant.language.yibao-policy"
    assert scopes["or"] == "keyword.operator.logical.yibao-policy"
    tokens, _, _ = tokenise("    低保对象: full  # yibao: disable=L203 §(二): 暂")
    assert (0, 16, 45, "comment.line.number-sign.yibao-policy") in tokens   # "#" to the end


def test_a_fields_display_name_is_a_name_not_a_quote():
    text = (POLICIES / "benxi-2023.policy").read_text(encoding="utf-8")
    line = text.split("\n").index(next(l for l in text.split("\n") if l.startswith("field referred")))
    tokens, _, _ = tokenise(text)
    mine = [(start, end, scope) for number, start, end, scope in tokens if number == line]
    assert mine[:3] == [(0, 5, "keyword.control.yibao-policy"),
                        (6, 14, "variable.other.name.yibao-policy"),
                        (15, 22, "entity.name.label.display-name.yibao-policy")]   # "按规定转诊"


def test_the_vscode_extension_contributes_this_grammar_for_policy_files():
    folder = GRAMMAR_PATH.parent.parent
    manifest = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    [language] = manifest["contributes"]["languages"]
    [grammar] = manifest["contributes"]["grammars"]
    assert language["extensions"] == [".policy"]
    assert grammar["language"] == language["id"]
    assert grammar["scopeName"] == GRAMMAR["scopeName"]
    assert (folder / grammar["path"]).resolve() == GRAMMAR_PATH.resolve()
    assert (folder / language["configuration"]).is_file()
    assert manifest["contributes"]["configuration"]["properties"][
        "yibao.server.command"]["default"] == ["yibao", "lsp"]
